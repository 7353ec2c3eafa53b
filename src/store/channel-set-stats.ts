/**
 * Counters of a set of channels summed per day (issue #13's merged analysis), in a fixed number of
 * queries whatever the set's size: the day rows summed by day, and the distinct scanners of the
 * set per day and over the range from `channel_scanners` (a person who scanned two channels of
 * the set is one scanner).
 */
import type { DayCounts } from "./channels.ts";
import type { Sql, SqlParam } from "./database.ts";
import { placeholderList } from "./database.ts";

/** The channels of a merged analysis: these ids, or every channel of a group (archived ones too). */
export type ChannelSet = { ids: readonly string[] } | { groupId: string };

export interface ChannelSetMember {
  id: string;
  createdAt: number;
}

function memberClause(accountId: string, set: ChannelSet): { clause: string; params: SqlParam[] } {
  if ("groupId" in set) {
    return {
      clause: "SELECT id FROM channels WHERE account_id = ? AND group_id = ? AND qrcode_id IS NOT NULL",
      params: [accountId, set.groupId],
    };
  }
  if (set.ids.length === 0) return { clause: "SELECT id FROM channels WHERE 1 = 0", params: [] };
  return {
    clause: `SELECT id FROM channels WHERE account_id = ? AND qrcode_id IS NOT NULL AND id IN (${placeholderList(set.ids.length)})`,
    params: [accountId, ...set.ids],
  };
}

/** The set's channels (with a code), oldest first. */
export async function channelSetMembers(sql: Sql, accountId: string, set: ChannelSet): Promise<ChannelSetMember[]> {
  const m = memberClause(accountId, set);
  const rows = await sql.all<{ id: string; created_at: number }>(
    `SELECT id, created_at FROM channels WHERE id IN (${m.clause}) ORDER BY created_at, id`,
    m.params,
  );
  return rows.map((r) => ({ id: r.id, createdAt: Number(r.created_at) }));
}

export interface ChannelSetDays {
  /** Only the days with counters, in order. */
  days: Array<DayCounts & { date: string }>;
  /** Distinct over the whole range and the whole set. */
  uniqueScanners: number;
}

/** The set's counters per day over `[fromDay, toDay]`, and its distinct scanners over the range. */
export async function channelSetDays(sql: Sql, accountId: string, set: ChannelSet, fromDay: string, toDay: string): Promise<ChannelSetDays> {
  const m = memberClause(accountId, set);
  const range = `account_id = ? AND day >= ? AND day <= ? AND channel_id IN (${m.clause})`;
  const rangeParams = [accountId, fromDay, toDay, ...m.params];
  const sums = await sql.all<{ day: string; scans: number; new_followers: number; returning_followers: number; unfollows: number }>(
    `SELECT day, SUM(scans) AS scans, SUM(new_followers) AS new_followers, SUM(returning_followers) AS returning_followers, SUM(unfollows) AS unfollows
     FROM channel_days WHERE ${range} GROUP BY day ORDER BY day`,
    rangeParams,
  );
  const perDay = await sql.all<{ day: string; n: number }>(
    `SELECT day, COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE ${range} GROUP BY day`,
    rangeParams,
  );
  const overRange = await sql.get<{ n: number }>(`SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE ${range}`, rangeParams);
  const scannersOn = new Map(perDay.map((r) => [r.day, Number(r.n)]));
  return {
    days: sums.map((r) => ({
      date: r.day,
      scans: Number(r.scans),
      uniqueScanners: scannersOn.get(r.day) ?? 0,
      newFollowers: Number(r.new_followers),
      returningFollowers: Number(r.returning_followers),
      unfollows: Number(r.unfollows),
    })),
    uniqueScanners: Number(overRange?.n ?? 0),
  };
}
