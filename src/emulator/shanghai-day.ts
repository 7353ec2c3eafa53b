/** WeChat's daily quotas reset at midnight Beijing time (UTC+8, no daylight saving). */
const UTC_OFFSET_MS = 8 * 3_600_000;

/**
 * The calendar date in Asia/Shanghai of an instant.
 * @example
 * shanghaiDay(Date.UTC(2026, 0, 1, 16, 0)); // "2026-01-02" (00:00 in Beijing)
 */
export function shanghaiDay(epochMs: number): string {
  return new Date(epochMs + UTC_OFFSET_MS).toISOString().slice(0, 10);
}
