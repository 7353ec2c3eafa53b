/**
 * Channel groups (issue #13): operators group channels by campaign or region. A channel is in at
 * most one group; deleting a group leaves its channels ungrouped.
 * @module
 */
import type { Clock, Random } from "../deps.ts";
import { NameConflictError, NotFoundError, QrError, ValidationError } from "../errors.ts";
import * as groups from "../store/channel-groups.ts";
import type { Database, Sql } from "../store/database.ts";
import { newId } from "./ids.ts";
import { checkPlainText } from "./plain-text.ts";

export type { ChannelGroupListItem, ChannelGroupRow } from "../store/channel-groups.ts";

export interface ChannelGroupService {
  create(name: string): Promise<groups.ChannelGroupRow>;
  /** By name, each with its channel counts. */
  list(): Promise<groups.ChannelGroupListItem[]>;
  get(id: string): Promise<groups.ChannelGroupRow>;
  rename(id: string, name: string): Promise<groups.ChannelGroupRow>;
  /** Its channels become ungrouped. */
  delete(id: string): Promise<void>;
}

export const GROUP_NAME_MAX = 100;

function checkGroupName(input: unknown): string {
  const name = typeof input === "string" ? input.trim() : "";
  if (name.length === 0 || name.length > GROUP_NAME_MAX) throw new ValidationError("name", `must be 1 to ${GROUP_NAME_MAX} characters`);
  checkPlainText("name", name);
  return name;
}

/**
 * Throws a ValidationError naming `groupId` unless the account has that group (null and undefined
 * pass). For a write (the default), in its transaction: the group then stays until it ends, so a
 * concurrent delete cannot leave the channel being written pointing to no group.
 */
export async function checkGroupId(sql: Sql, accountId: string, groupId: string | null | undefined, use: "write" | "read" = "write"): Promise<void> {
  if (groupId === null || groupId === undefined) return;
  const found = async (id: string): Promise<boolean> =>
    use === "write" ? groups.holdChannelGroup(sql, accountId, id) : (await groups.getChannelGroup(sql, accountId, id)) !== undefined;
  if (typeof groupId !== "string" || !(await found(groupId))) {
    throw new ValidationError("groupId", `no channel group ${JSON.stringify(String(groupId).slice(0, 40))}`);
  }
}

export function createChannelGroupService(deps: { db: Database; accountId: string; clock: Clock; random: Random }): ChannelGroupService {
  const { db, accountId } = deps;

  async function get(id: string): Promise<groups.ChannelGroupRow> {
    const found = await db.read((sql) => groups.getChannelGroup(sql, accountId, id));
    if (!found) throw new NotFoundError(`no channel group ${id}`);
    return found;
  }

  return {
    async create(input) {
      const name = checkGroupName(input);
      const row = { id: newId("cg", deps.random), accountId, name, createdAt: deps.clock.now() };
      if (!(await db.transaction((sql) => groups.insertChannelGroup(sql, row)))) throw new NameConflictError("name", name);
      return row;
    },
    list: () => db.read((sql) => groups.listChannelGroups(sql, accountId)),
    get,
    async rename(id, input) {
      const name = checkGroupName(input);
      const taken = async (sql: Sql): Promise<boolean> => ((await groups.channelGroupNamed(sql, accountId, name))?.id ?? id) !== id;
      let found: boolean;
      try {
        found = await db.transaction(async (sql) => {
          if (await taken(sql)) throw new NameConflictError("name", name);
          return groups.renameChannelGroup(sql, accountId, id, name);
        });
      } catch (err) {
        // A group created or renamed meanwhile took the name: the unique key refused ours.
        if (!(err instanceof QrError) && (await db.read(taken))) throw new NameConflictError("name", name);
        throw err;
      }
      if (!found) throw new NotFoundError(`no channel group ${id}`);
      return get(id);
    },
    async delete(id) {
      if (!(await db.transaction((sql) => groups.deleteChannelGroup(sql, accountId, id)))) throw new NotFoundError(`no channel group ${id}`);
    },
  };
}
