/**
 * Channels taken together (issue #13): merged analysis of a selection or a group, and batch
 * operations on a selection or a filter. Each runs a fixed number of statements whatever the
 * number of channels: no loop of per-channel statements.
 * @module
 */
import type { Clock } from "../deps.ts";
import { ValidationError } from "../errors.ts";
import { countChannels, setChannelsColumn, type ChannelBatchChange } from "../store/channel-batch.ts";
import { channelSetDays, channelSetMembers, type ChannelSet, type ChannelSetMember } from "../store/channel-set-stats.ts";
import { ZERO_COUNTS, type ChannelFilter, type DayCounts } from "../store/channels.ts";
import type { Database, Sql } from "../store/database.ts";
import { checkGroupId } from "./channel-groups.ts";
import { calendarDays, DAILY_STATS_MAX_DAYS, statsRangeDays } from "./days.ts";

/** Channels one request may name: a URL of 1,000 ids is ~25 kB, still under common proxies' limits. */
export const CHANNEL_SELECTION_MAX = 1_000;
const ID_MAX_CHARS = 64;

/**
 * The ids of a selection, each once, in the order given.
 * @throws ValidationError naming `field` unless 1 to 1,000 non-empty strings.
 * @example
 * checkChannelIds(["ch_1", "ch_2", "ch_1"]); // ["ch_1", "ch_2"]
 */
export function checkChannelIds(input: unknown, field = "ids"): string[] {
  if (!Array.isArray(input) || input.length === 0) throw new ValidationError(field, "must list at least one channel id");
  if (input.length > CHANNEL_SELECTION_MAX) throw new ValidationError(field, `at most ${CHANNEL_SELECTION_MAX} channels, got ${input.length}`);
  for (const id of input) {
    if (typeof id !== "string" || id === "" || id.length > ID_MAX_CHARS) throw new ValidationError(field, "each id must be a non-empty string");
  }
  return [...new Set(input as string[])];
}

/**
 * The channels `ids` name, oldest first.
 * @throws ValidationError naming `field` when any of them is not one of the account's channels.
 */
export async function checkKnownChannels(sql: Sql, accountId: string, ids: readonly string[], field = "ids"): Promise<ChannelSetMember[]> {
  const members = await channelSetMembers(sql, accountId, { ids });
  const found = new Set(members.map((m) => m.id));
  const unknown = ids.filter((id) => !found.has(id)).slice(0, 5);
  if (unknown.length > 0) throw new ValidationError(field, `no channel ${unknown.map((id) => JSON.stringify(id.slice(0, 40))).join(", ")}`);
  return members;
}

export interface MergedStatsQuery {
  /** These channels; or */
  ids?: readonly string[] | undefined;
  /** every channel of this group (archived ones too). Exactly one of the two. */
  groupId?: string | undefined;
  /** An instant (epoch ms) or a day (`YYYY-MM-DD`) in the account's zone; default: the set's oldest channel's creation. */
  from?: number | string | undefined;
  /** Default: now. */
  to?: number | string | undefined;
}

export interface MergedChannelStats extends DayCounts {
  /** The channels counted, oldest first. */
  channelIds: string[];
  from: string;
  to: string;
  /** Every day of the range, zeros included. */
  days: Array<DayCounts & { date: string }>;
}

/**
 * The counters of several channels summed per day. `uniqueScanners` counts a person once across
 * the set, per day and over the range. `newFollowers` is a plain sum and still counts a person
 * once: a follower is new once per account (never seen subscribed before), on the one channel
 * whose code they subscribed through. `returningFollowers` and `unfollows` count events.
 */
export async function mergedChannelStats(
  deps: { db: Database; accountId: string; timeZone: string; clock: Clock },
  query: MergedStatsQuery,
): Promise<MergedChannelStats> {
  const { db, accountId } = deps;
  if ((query.ids === undefined) === (query.groupId === undefined)) {
    throw new ValidationError("ids", "give either `ids` (channel ids) or `groupId`, not both and not neither");
  }
  const set: ChannelSet = query.ids !== undefined ? { ids: checkChannelIds(query.ids) } : { groupId: query.groupId! };
  const members = await db.read(async (sql) => {
    if ("ids" in set) return checkKnownChannels(sql, accountId, set.ids);
    await checkGroupId(sql, accountId, set.groupId);
    return channelSetMembers(sql, accountId, set);
  });
  const now = deps.clock.now();
  const { from, to } = statsRangeDays(query, members[0]?.createdAt ?? now, now, deps.timeZone);
  const every = calendarDays(from, to);
  if (every.length > DAILY_STATS_MAX_DAYS) throw new ValidationError("from", `a range of at most ${DAILY_STATS_MAX_DAYS} days, got ${every.length}`);
  const found = await db.read((sql) => channelSetDays(sql, accountId, set, from, to));
  const byDay = new Map(found.days.map((d) => [d.date, d]));
  const sum = (k: keyof DayCounts): number => found.days.reduce((n, d) => n + d[k], 0);
  return {
    channelIds: members.map((m) => m.id),
    from,
    to,
    scans: sum("scans"),
    uniqueScanners: found.uniqueScanners,
    newFollowers: sum("newFollowers"),
    returningFollowers: sum("returningFollowers"),
    unfollows: sum("unfollows"),
    days: every.map((date) => byDay.get(date) ?? { date, ...ZERO_COUNTS }),
  };
}

export const CHANNEL_BATCH_ACTIONS = ["move", "archive", "restore", "pause", "resume"] as const;
export type ChannelBatchAction = (typeof CHANNEL_BATCH_ACTIONS)[number];

export interface ChannelBatchFilter {
  search?: string | undefined;
  /** A group's channels; null: the ungrouped ones. */
  groupId?: string | null | undefined;
  /** Default false, as in the list: archived channels only when asked for (true) or with the others ("all"). */
  archived?: boolean | "all" | undefined;
}

export interface ChannelBatchInput {
  /** These channels (1 to 1,000); or */
  ids?: readonly string[] | undefined;
  /** the channels the list would show with this filter. Exactly one of the two. */
  filter?: ChannelBatchFilter | undefined;
  action: ChannelBatchAction;
  /** For `move`: the group to move to; null takes the channels out of their group. */
  groupId?: string | null | undefined;
}

export interface ChannelBatchResult {
  /** Channels the selection holds. */
  matched: number;
  /** Those the action changed (the others already were so). */
  updated: number;
}

/**
 * What each action sets. `pause` and `resume` set the `paused` column of schema v13 (issue #13's
 * schedule and pause part): each becomes one line here and one member of `ChannelBatchChange`.
 */
const BATCH_CHANGES: Record<ChannelBatchAction, ((input: ChannelBatchInput) => ChannelBatchChange) | undefined> = {
  move: (input) => ({ column: "group_id", value: input.groupId ?? null }),
  archive: () => ({ column: "archived", value: 1 }),
  restore: () => ({ column: "archived", value: 0 }),
  pause: undefined,
  resume: undefined,
};

function checkFilter(input: unknown): ChannelBatchFilter {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new ValidationError("filter", "must be an object");
  const f = input as ChannelBatchFilter;
  if (f.search !== undefined && typeof f.search !== "string") throw new ValidationError("filter.search", "must be a string");
  if (f.archived !== undefined && f.archived !== true && f.archived !== false && f.archived !== "all") {
    throw new ValidationError("filter.archived", 'must be true, false or "all"');
  }
  return f;
}

/**
 * Moves, archives or restores every selected channel in one transaction: a count of the
 * selection and one UPDATE over it, so that either all of them change or none does.
 */
export async function batchChannels(deps: { db: Database; accountId: string }, input: ChannelBatchInput): Promise<ChannelBatchResult> {
  const { db, accountId } = deps;
  if (!CHANNEL_BATCH_ACTIONS.includes(input.action)) throw new ValidationError("action", `must be one of ${CHANNEL_BATCH_ACTIONS.join(", ")}`);
  const changeFor = BATCH_CHANGES[input.action];
  if (changeFor === undefined) throw new ValidationError("action", `"${input.action}" is not yet supported`);
  if ((input.ids === undefined) === (input.filter === undefined)) {
    throw new ValidationError("ids", "give either `ids` (channel ids) or `filter`, not both and not neither");
  }
  if (input.action === "move" && input.groupId === undefined) throw new ValidationError("groupId", "moving needs `groupId` (null: out of their group)");
  if (input.action !== "move" && input.groupId !== undefined) throw new ValidationError("groupId", `only \`move\` takes a group, not "${input.action}"`);
  const ids = input.ids === undefined ? undefined : checkChannelIds(input.ids);
  const filter = input.filter === undefined ? undefined : checkFilter(input.filter);
  const change = changeFor(input);

  return db.transaction(async (sql) => {
    if (input.action === "move") await checkGroupId(sql, accountId, input.groupId);
    let selection: ChannelFilter;
    if (ids !== undefined) {
      await checkKnownChannels(sql, accountId, ids);
      selection = { ids, archived: "all" };
    } else {
      await checkGroupId(sql, accountId, filter!.groupId).catch((err: unknown) => {
        throw err instanceof ValidationError ? new ValidationError("filter.groupId", err.message) : err;
      });
      selection = { search: filter!.search?.trim() || undefined, groupId: filter!.groupId, archived: filter!.archived ?? false };
    }
    const matched = await countChannels(sql, accountId, selection);
    const updated = await setChannelsColumn(sql, accountId, selection, change);
    return { matched, updated };
  });
}
