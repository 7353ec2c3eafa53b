/** Channel groups (issue #13): a name per account; a channel points at its group or at none. */
import type { Sql } from "./database.ts";

export interface ChannelGroupRow {
  id: string;
  accountId: string;
  name: string;
  createdAt: number;
}

export interface ChannelGroupListItem extends ChannelGroupRow {
  /** Listed channels (with a code), archived ones apart. */
  channels: number;
  archivedChannels: number;
}

interface DbGroupRow {
  id: string;
  account_id: string;
  name: string;
  created_at: number | string;
}

const toGroup = (r: DbGroupRow): ChannelGroupRow => ({ id: r.id, accountId: r.account_id, name: r.name, createdAt: Number(r.created_at) });

/** False when the account already has a group of that name. */
export async function insertChannelGroup(sql: Sql, g: ChannelGroupRow): Promise<boolean> {
  const changed = await sql.run("INSERT INTO channel_groups (account_id, id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING", [
    g.accountId,
    g.id,
    g.name,
    g.createdAt,
  ]);
  return changed === 1;
}

export async function getChannelGroup(sql: Sql, accountId: string, id: string): Promise<ChannelGroupRow | undefined> {
  const r = await sql.get<DbGroupRow>("SELECT id, account_id, name, created_at FROM channel_groups WHERE account_id = ? AND id = ?", [accountId, id]);
  return r && toGroup(r);
}

export async function channelGroupNamed(sql: Sql, accountId: string, name: string): Promise<ChannelGroupRow | undefined> {
  const r = await sql.get<DbGroupRow>("SELECT id, account_id, name, created_at FROM channel_groups WHERE account_id = ? AND name = ?", [accountId, name]);
  return r && toGroup(r);
}

/** The account's groups by name, each with how many channels it holds, in one grouped join. */
export async function listChannelGroups(sql: Sql, accountId: string): Promise<ChannelGroupListItem[]> {
  const byCodePoint = sql.dialect === "postgres" ? ' COLLATE "C"' : "";
  const rows = await sql.all<DbGroupRow & { channels: number | string; archived_channels: number | string }>(
    `SELECT g.id, g.account_id, g.name, g.created_at,
       COUNT(c.id) - COALESCE(SUM(c.archived), 0) AS channels, COALESCE(SUM(c.archived), 0) AS archived_channels
     FROM channel_groups g LEFT JOIN channels c ON c.account_id = g.account_id AND c.group_id = g.id AND c.qrcode_id IS NOT NULL
     WHERE g.account_id = ?
     GROUP BY g.id, g.account_id, g.name, g.created_at
     ORDER BY g.name${byCodePoint}, g.id`,
    [accountId],
  );
  return rows.map((r) => ({ ...toGroup(r), channels: Number(r.channels), archivedChannels: Number(r.archived_channels) }));
}

/** False when the account has no such group; throws on the unique key when the name is taken. */
export async function renameChannelGroup(sql: Sql, accountId: string, id: string, name: string): Promise<boolean> {
  return (await sql.run("UPDATE channel_groups SET name = ? WHERE account_id = ? AND id = ?", [name, accountId, id])) === 1;
}

/** Ungroups the group's channels, set-wise, then deletes it; false when the account has no such group. */
/**
 * Whether the account has the group, held until the transaction ends so that it cannot be deleted
 * before a channel written in the same transaction points to it. On PostgreSQL a `KEY SHARE` lock
 * (what the foreign key itself takes): two writers never wait for each other, a delete waits for
 * them, and a writer that comes after a delete began waits for it and then finds no group. SQLite
 * has one writer at a time: nothing to lock.
 */
export async function holdChannelGroup(sql: Sql, accountId: string, id: string): Promise<boolean> {
  const lock = sql.dialect === "postgres" ? " FOR KEY SHARE" : "";
  return (await sql.get("SELECT id FROM channel_groups WHERE account_id = ? AND id = ?" + lock, [accountId, id])) !== undefined;
}

export async function deleteChannelGroup(sql: Sql, accountId: string, id: string): Promise<boolean> {
  // Locked first: a channel write that holds the group (above) finishes before the ungrouping
  // below, which then sees its row; one that comes later waits, then finds the group gone.
  if (sql.dialect === "postgres") await sql.run("SELECT id FROM channel_groups WHERE account_id = ? AND id = ? FOR UPDATE", [accountId, id]);
  await sql.run("UPDATE channels SET group_id = NULL WHERE account_id = ? AND group_id = ?", [accountId, id]);
  return (await sql.run("DELETE FROM channel_groups WHERE account_id = ? AND id = ?", [accountId, id])) === 1;
}

/** Counts that can be summed over a group's channel days (distinct scanners cannot). */
export interface GroupDayCounts {
  scans: number;
  newFollowers: number;
  returningFollowers: number;
  unfollows: number;
}

const SUMMED = [
  ["scans", "scans"],
  ["new_followers", "newFollowers"],
  ["returning_followers", "returningFollowers"],
  ["unfollows", "unfollows"],
] as const;

/**
 * Each group's counters summed over its channels (archived ones included) for ranges that all end
 * on `toDay` and start on each of `fromDays`: one query, the days of the longest range joined
 * through the channels' group key. Groups without channels or scans have zeros.
 */
export async function channelGroupTotals(
  sql: Sql,
  accountId: string,
  toDay: string,
  fromDays: readonly string[],
): Promise<Array<{ id: string; name: string; ranges: GroupDayCounts[] }>> {
  if (fromDays.length === 0) return [];
  const earliest = fromDays.reduce((a, b) => (a < b ? a : b));
  const byCodePoint = sql.dialect === "postgres" ? ' COLLATE "C"' : "";
  const sums = fromDays.flatMap((_, i) => SUMMED.map(([column]) => `COALESCE(SUM(CASE WHEN d.day >= ? THEN d.${column} ELSE 0 END), 0) AS r${i}_${column}`));
  const rows = await sql.all<{ id: string; name: string } & Record<string, number | string>>(
    `SELECT g.id, g.name, ${sums.join(", ")}
     FROM channel_groups g
       LEFT JOIN channels c ON c.account_id = g.account_id AND c.group_id = g.id
       LEFT JOIN channel_days d ON d.channel_id = c.id AND d.day >= ? AND d.day <= ?
     WHERE g.account_id = ?
     GROUP BY g.id, g.name
     ORDER BY g.name${byCodePoint}, g.id`,
    [...fromDays.flatMap((from) => SUMMED.map(() => from)), earliest, toDay, accountId],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    ranges: fromDays.map((_, i) => ({
      scans: Number(r[`r${i}_scans`]),
      newFollowers: Number(r[`r${i}_new_followers`]),
      returningFollowers: Number(r[`r${i}_returning_followers`]),
      unfollows: Number(r[`r${i}_unfollows`]),
    })),
  }));
}
