/** Days for statistics are cut in the account's time zone (design.md, Decisions). */
import { ValidationError } from "../errors.ts";

/** Ten years of rows: far beyond any chart, small enough to answer at once. */
export const DAILY_STATS_MAX_DAYS = 3_660;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    } catch {
      throw new ValidationError("timeZone", `unknown time zone ${JSON.stringify(timeZone)}`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

// The last answer per zone, by minute: every zone's offset is a whole number of minutes, so all
// instants of one minute share a day. Formatting costs ~10 µs, a push path's largest JS cost.
const lastByZone = new Map<string, { minute: number; day: string }>();

/** `YYYY-MM-DD` of an instant in a time zone. */
export function dayInZone(epochMs: number, timeZone: string): string {
  const minute = Math.floor(epochMs / 60_000);
  const last = lastByZone.get(timeZone);
  if (last?.minute === minute) return last.day;
  const day = formatter(timeZone).format(epochMs);
  lastByZone.set(timeZone, { minute, day });
  return day;
}

export function checkTimeZone(timeZone: string): string {
  formatter(timeZone);
  return timeZone;
}

/**
 * Whether `day` is a `YYYY-MM-DD` the calendar has: no month 13, no 2026-02-30 (which Date.parse
 * would quietly roll over into March).
 * @example
 * isCalendarDay("2028-02-29"); // true
 * isCalendarDay("2026-13-45"); // false
 */
export function isCalendarDay(day: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (m === null) return false;
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return daysInMonth !== undefined && date >= 1 && date <= daysInMonth;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    formatter(timeZone); // validates the zone
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    offsetFormatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(epochMs).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant a `YYYY-MM-DD` day starts in a time zone.
 * @example
 * dayStartInZone("2026-11-25", "Asia/Shanghai"); // Date.UTC(2026, 10, 24, 16)
 */
export function dayStartInZone(day: string, timeZone: string): number {
  if (!isCalendarDay(day)) throw new ValidationError("day", `expected YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  // Twice: the offset at the guess may differ from the offset at the answer across a DST change.
  const guess = midnightUtc - zoneOffsetMs(midnightUtc, timeZone);
  return midnightUtc - zoneOffsetMs(guess, timeZone);
}

/** The instant the day after `day` starts in a time zone (the exclusive end of `day`). */
export function dayEndInZone(day: string, timeZone: string): number {
  dayStartInZone(day, timeZone); // validates `day`
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return dayStartInZone(next, timeZone);
}

/**
 * The calendar days from `from` to `to`, both included, as `YYYY-MM-DD` (no zone is involved:
 * a day follows the day before it everywhere).
 * @example
 * calendarDays("2028-02-28", "2028-03-01"); // ["2028-02-28", "2028-02-29", "2028-03-01"]
 */
export function calendarDays(from: string, to: string): string[] {
  for (const [field, day] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!isCalendarDay(day)) throw new ValidationError(field, `expected YYYY-MM-DD, got ${JSON.stringify(day.slice(0, 40))}`);
  }
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end; t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * The day `n` days after `day` (before, for a negative `n`).
 * @example
 * addDays("2026-11-25", -6); // "2026-11-19"
 */
export function addDays(day: string, n: number): string {
  if (!isCalendarDay(day)) throw new ValidationError("day", `expected YYYY-MM-DD, got ${JSON.stringify(day.slice(0, 40))}`);
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A statistics range as days in the zone: each bound an instant (epoch ms) or a day (`YYYY-MM-DD`);
 * `from` defaults to `defaultFrom`, `to` to `now`.
 * @throws ValidationError naming `from` or `to` for a bound that is not a day of the calendar, or `from` after `to`.
 * @example
 * statsRangeDays({ to: "2026-11-30" }, Date.UTC(2026, 10, 1), clock.now(), "Asia/Shanghai"); // { from: "2026-11-01", to: "2026-11-30" }
 */
export function statsRangeDays(
  range: { from?: number | string | undefined; to?: number | string | undefined },
  defaultFrom: number,
  now: number,
  timeZone: string,
): { from: string; to: string } {
  const asDay = (v: number | string, field: "from" | "to"): string => {
    if (typeof v !== "string") return dayInZone(v, timeZone);
    if (!isCalendarDay(v)) throw new ValidationError(field, `expected a day of the calendar as YYYY-MM-DD, got ${JSON.stringify(v.slice(0, 40))}`);
    return v;
  };
  const from = asDay(range.from ?? defaultFrom, "from");
  const to = asDay(range.to ?? now, "to");
  if (from > to) throw new ValidationError("from", "must not be after `to`");
  return { from, to };
}
