/**
 * Daily call counters and quotas (45009). Every request to a counted endpoint counts,
 * failed ones included; the day is the emulator clock's date in Asia/Shanghai.
 * @module
 */
import type { CountedEndpoint, QuotaEndpoint } from "./options.ts";
import { shanghaiDay } from "./shanghai-day.ts";
import { zeroCounts, type EmulatorState } from "./state.ts";

function rollDay(state: EmulatorState, now: number): void {
  const day = shanghaiDay(now);
  if (state.counters.day !== day) {
    state.counters.day = day;
    state.counters.today = zeroCounts();
  }
}

/** Counts one call and returns today's count, this call included. */
export function countCall(state: EmulatorState, endpoint: CountedEndpoint, now: number): number {
  rollDay(state, now);
  state.counters.today[endpoint] += 1;
  state.counters.totals[endpoint] += 1;
  return state.counters.today[endpoint];
}

/** True when today's count (this call included) is past the configured quota. */
export function overDailyQuota(state: EmulatorState, endpoint: QuotaEndpoint, countToday: number): boolean {
  return countToday > state.config.dailyQuota[endpoint];
}

export interface CounterSnapshot {
  /** The Asia/Shanghai date the `today` counts belong to. */
  day: string;
  today: Record<CountedEndpoint, number>;
  totals: Record<CountedEndpoint, number>;
}

export function readCounters(state: EmulatorState, now: number): CounterSnapshot {
  rollDay(state, now);
  return { day: state.counters.day, today: { ...state.counters.today }, totals: { ...state.counters.totals } };
}

export function resetCounters(state: EmulatorState, now: number): void {
  state.counters = { day: shanghaiDay(now), today: zeroCounts(), totals: zeroCounts() };
}
