/**
 * Each follower's latest scan day, per channel and of any channel, and the account's per-day
 * count of followers whose latest scan is that day (schema v10): what makes the distinct scanners
 * of a range ending today a sum over one row per day (issue #11). The channels' per-day counts
 * are `channel_days.last_scanners` (`channels.ts`).
 * @module
 */
import { inStatements, placeholderList, placeholderRows, type Read, type Statement } from "./database.ts";

export interface ChannelLastScan {
  channelId: string;
  openId: string;
  /** `YYYY-MM-DD` in the account's zone. */
  day: string;
}

/** `channelId|openId`: how `channelLastScansRead` names a (channel, follower) pair. */
export const channelFollowerKey = (k: { channelId: string; openId: string }): string => `${k.channelId}\u0000${k.openId}`;

/** The latest scan day of each of these (channel, follower) pairs that scanned it, by `channelFollowerKey`. */
export function channelLastScansRead(pairs: ReadonlyArray<{ channelId: string; openId: string }>): Read<Map<string, string>> {
  return {
    statements: inStatements(pairs, 2).map((run) => ({
      text: `SELECT channel_id, open_id, day FROM channel_last_scans WHERE (channel_id, open_id) IN (VALUES ${placeholderRows(run.length, 2)})`,
      params: run.flatMap((k) => [k.channelId, k.openId]),
    })),
    result: (rows) =>
      new Map(
        (rows as Array<{ channel_id: string; open_id: string; day: string }>).map((r) => [
          channelFollowerKey({ channelId: r.channel_id, openId: r.open_id }),
          r.day,
        ]),
      ),
  };
}

/**
 * Sets these pairs' latest scan days; a day earlier than the one stored changes nothing (the
 * batch decided on its followers' rows under their locks, so this only guards the invariant).
 */
export function channelLastScanUpserts(accountId: string, rows: readonly ChannelLastScan[]): Statement[] {
  return inStatements(rows, 4).map((run) => ({
    text: `INSERT INTO channel_last_scans (account_id, channel_id, open_id, day) VALUES ${placeholderRows(run.length, 4)}
       ON CONFLICT (channel_id, open_id) DO UPDATE SET day = excluded.day WHERE excluded.day > channel_last_scans.day`,
    params: run.flatMap((r) => [accountId, r.channelId, r.openId, r.day]),
  }));
}

/** The latest scan day (of any channel) of each of these followers who scanned one, by openId. */
export function accountLastScansRead(accountId: string, openIds: readonly string[]): Read<Map<string, string>> {
  return {
    statements: inStatements([...new Set(openIds)], 1).map((ids) => ({
      text: `SELECT open_id, day FROM account_last_scans WHERE account_id = ? AND open_id IN (${placeholderList(ids.length)})`,
      params: [accountId, ...ids],
    })),
    result: (rows) => new Map((rows as Array<{ open_id: string; day: string }>).map((r) => [r.open_id, r.day])),
  };
}

/** `channelLastScanUpserts` for the account-wide latest scan days. */
export function accountLastScanUpserts(accountId: string, rows: ReadonlyArray<{ openId: string; day: string }>): Statement[] {
  return inStatements(rows, 3).map((run) => ({
    text: `INSERT INTO account_last_scans (account_id, open_id, day) VALUES ${placeholderRows(run.length, 3)}
       ON CONFLICT (account_id, open_id) DO UPDATE SET day = excluded.day WHERE excluded.day > account_last_scans.day`,
    params: run.flatMap((r) => [accountId, r.openId, r.day]),
  }));
}

/**
 * Adds to the account's per-day counts of followers whose latest scan is that day, in the given
 * order; a day may appear once only (PostgreSQL updates a row once per statement).
 */
export function accountDayUpserts(accountId: string, rows: ReadonlyArray<{ day: string; lastScanners: number }>): Statement[] {
  return inStatements(rows, 3).map((run) => ({
    text: `INSERT INTO account_days (account_id, day, last_scanners) VALUES ${placeholderRows(run.length, 3)}
       ON CONFLICT (account_id, day) DO UPDATE SET last_scanners = account_days.last_scanners + excluded.last_scanners`,
    params: run.flatMap((r) => [accountId, r.day, r.lastScanners]),
  }));
}
