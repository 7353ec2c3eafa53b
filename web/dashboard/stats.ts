import type { DayRange } from "./components/date-range.tsx";
import { daysBetween } from "./format.ts";
import type { DayCounts } from "./types.ts";

/** The API lists only days with activity; the chart needs every day of the range. */
export function fillDays(range: DayRange, days: DayCounts[]): DayCounts[] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  return daysBetween(range.from, range.to).map(
    (date) => byDate.get(date) ?? { date, scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 },
  );
}
