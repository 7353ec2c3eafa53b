/**
 * Counters on rows that many pushes share (a channel's day row, the account's day row). A push's
 * hooks add to them in memory; the batch writes them at its end, summed per row and in one order
 * (the channels' rows by channel, then day; then the account's rows by day), for the pushes that
 * succeeded only. Written in the middle of a batch, between the locks of one
 * follower and the next, such a row makes two instances given the same pushes wait on each
 * other in a cycle: the deadlocks of issue #8.
 * @module
 */
import * as channels from "../store/channels.ts";
import type { Sql, Statement } from "../store/database.ts";
import * as lastScans from "../store/last-scans.ts";

/** What a push's hooks add to the shared counters. */
export interface SharedCounters {
  /** Adds to a channel's counters of one day (`YYYY-MM-DD` in the account's zone). */
  addChannelDay(channelId: string, day: string, counts: Partial<channels.DayCounts>): void;
  /**
   * A follower's latest scan of a channel moved from day `from` (null: it is their first) to
   * `to`: one fewer latest scanner on `from`, one more on `to` (`PushRows.advanceLastScans`).
   */
  moveChannelLastScan(channelId: string, from: string | null, to: string): void;
  /** The same for their latest scan of any channel of the account. */
  moveAccountLastScan(from: string | null, to: string): void;
}

/** One push's additions, kept until the end of its batch. */
export interface PendingCounters extends SharedCounters {
  readonly channelDays: readonly channels.ChannelDayAddition[];
  readonly accountDays: ReadonlyArray<{ day: string; lastScanners: number }>;
}

export function createPendingCounters(): PendingCounters {
  const channelDays: channels.ChannelDayAddition[] = [];
  const accountDays: Array<{ day: string; lastScanners: number }> = [];
  const addChannelDay = (channelId: string, day: string, counts: Partial<channels.DayCounts>, lastScanners = 0): void =>
    void channelDays.push({ channelId, day, counts: { ...channels.ZERO_COUNTS, ...counts }, lastScanners });
  return {
    channelDays,
    accountDays,
    addChannelDay: (channelId, day, counts) => addChannelDay(channelId, day, counts),
    moveChannelLastScan(channelId, from, to) {
      if (from !== null) addChannelDay(channelId, from, {}, -1);
      addChannelDay(channelId, to, {}, 1);
    },
    moveAccountLastScan(from, to) {
      if (from !== null) accountDays.push({ day: from, lastScanners: -1 });
      accountDays.push({ day: to, lastScanners: 1 });
    },
  };
}

/** Writes the additions of several pushes: a statement per table, a row per (channel, day) or day, in ascending order. */
export async function writePendingCounters(sql: Sql, accountId: string, pending: Iterable<PendingCounters>): Promise<void> {
  for (const s of pendingCounterUpserts(accountId, pending)) await sql.run(s.text, s.params);
}

/** `writePendingCounters` as statements, for `runTogether`. */
export function pendingCounterUpserts(accountId: string, pending: Iterable<PendingCounters>): Statement[] {
  const sums = new Map<string, channels.ChannelDayAddition & { lastScanners: number }>();
  const accountSums = new Map<string, number>();
  for (const p of pending) {
    for (const d of p.channelDays) {
      const key = `${d.channelId}\u0000${d.day}`;
      const sum = sums.get(key);
      if (!sum) {
        sums.set(key, { ...d, counts: { ...d.counts }, lastScanners: d.lastScanners ?? 0 });
        continue;
      }
      for (const k of Object.keys(sum.counts) as Array<keyof channels.DayCounts>) sum.counts[k] += d.counts[k];
      sum.lastScanners += d.lastScanners ?? 0;
    }
    for (const d of p.accountDays) accountSums.set(d.day, (accountSums.get(d.day) ?? 0) + d.lastScanners);
  }
  const rows = [...sums.values()].sort((a, b) => compare(a.channelId, b.channelId) || compare(a.day, b.day));
  // A move within the batch (from one day to another and on) can leave a day's sum at zero: no write.
  const days = [...accountSums].filter(([, n]) => n !== 0).sort(([a], [b]) => compare(a, b));
  return [
    ...channels.channelDayUpserts(accountId, rows),
    ...lastScans.accountDayUpserts(
      accountId,
      days.map(([day, lastScanners]) => ({ day, lastScanners })),
    ),
  ];
}

// Code-unit order: the same in every process, whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
