/**
 * Numbers and dates per locale. Days are `YYYY-MM-DD` in Asia/Shanghai, as the API cuts them
 * (design.md: statistics days in the account's zone).
 */
export const ZONE = "Asia/Shanghai";

const dayFormatter = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" });

/** The day of an instant in Asia/Shanghai. */
export function dayOf(epochMs: number): string {
  return dayFormatter.format(epochMs);
}

export function today(now: number = Date.now()): string {
  return dayOf(now);
}

/** `day` moved by `n` days (calendar arithmetic, no time zone involved). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included; empty when `from` is after `to`. */
export function daysBetween(from: string, to: string, max = 3660): string[] {
  const days: string[] = [];
  for (let d = from; d <= to && days.length < max; d = addDays(d, 1)) days.push(d);
  return days;
}

export function isDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && addDays(value, 0) === value;
}

export function formatNumber(locale: string, n: number): string {
  return new Intl.NumberFormat(locale).format(n);
}

export function formatSigned(locale: string, n: number): string {
  return new Intl.NumberFormat(locale, { signDisplay: "exceptZero" }).format(n);
}

/** A `YYYY-MM-DD` day, written for the locale (the day itself, not shifted by any zone). */
export function formatDay(locale: string, day: string, style: "short" | "long" = "long"): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const options: Intl.DateTimeFormatOptions =
    style === "short" ? { timeZone: "UTC", month: "numeric", day: "numeric" } : { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" };
  return new Intl.DateTimeFormat(locale, options).format(Date.UTC(y, m - 1, d));
}

/** An instant (ISO string), as a date and time in Asia/Shanghai. */
export function formatDateTime(locale: string, iso: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: ZONE, dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}

export function formatTime(locale: string, iso: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: ZONE, timeStyle: "medium" }).format(new Date(iso));
}
