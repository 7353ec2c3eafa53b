/**
 * Counters on rows that many pushes share (a channel's day row). A push's hooks add to them in
 * memory; the batch writes them at its end, summed per row and in one order (channel, then day),
 * for the pushes that succeeded only. Written in the middle of a batch, between the locks of one
 * follower and the next, such a row makes two instances given the same pushes wait on each
 * other in a cycle: the deadlocks of issue #8.
 * @module
 */
import * as channels from "../store/channels.ts";
import type { Sql, Statement } from "../store/database.ts";

/** What a push's hooks add to the shared counters. */
export interface SharedCounters {
  /** Adds to a channel's counters of one day (`YYYY-MM-DD` in the account's zone). */
  addChannelDay(channelId: string, day: string, counts: Partial<channels.DayCounts>): void;
}

interface ChannelDayDelta {
  channelId: string;
  day: string;
  counts: channels.DayCounts;
}

/** One push's additions, kept until the end of its batch. */
export interface PendingCounters extends SharedCounters {
  readonly channelDays: readonly ChannelDayDelta[];
}

export function createPendingCounters(): PendingCounters {
  const channelDays: ChannelDayDelta[] = [];
  return {
    channelDays,
    addChannelDay(channelId, day, counts) {
      channelDays.push({ channelId, day, counts: { ...channels.ZERO_COUNTS, ...counts } });
    },
  };
}

/** Writes the additions of several pushes: one statement, a row per (channel, day), in ascending order. */
export async function writePendingCounters(sql: Sql, accountId: string, pending: Iterable<PendingCounters>): Promise<void> {
  for (const s of pendingCounterUpserts(accountId, pending)) await sql.run(s.text, s.params);
}

/** `writePendingCounters` as statements, for `runTogether`. */
export function pendingCounterUpserts(accountId: string, pending: Iterable<PendingCounters>): Statement[] {
  const sums = new Map<string, ChannelDayDelta>();
  for (const p of pending) {
    for (const d of p.channelDays) {
      const key = `${d.channelId}\u0000${d.day}`;
      const sum = sums.get(key);
      if (!sum) {
        sums.set(key, { ...d, counts: { ...d.counts } });
        continue;
      }
      for (const k of Object.keys(sum.counts) as Array<keyof channels.DayCounts>) sum.counts[k] += d.counts[k];
    }
  }
  const rows = [...sums.values()].sort((a, b) => compare(a.channelId, b.channelId) || compare(a.day, b.day));
  return channels.channelDayUpserts(accountId, rows);
}

// Code-unit order: the same in every process, whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
