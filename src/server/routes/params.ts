/** Query parameters several routes share. */
import { isCalendarDay } from "../../domain/days.ts";
import { ValidationError } from "../../errors.ts";

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const EPOCH_MS_RE = /^\d{1,15}$/;
// An ISO 8601 date-time: a day, `T` (or a space), hh:mm[:ss[.fraction]], an optional offset.
// Date.parse alone would also take "1 2 3", and roll 2026-02-30 over into March.
const DATE_TIME_RE = /^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * A range bound from a query parameter: `2026-11-25` (a day in the account's zone, returned as
 * is), an ISO date-time or epoch milliseconds (returned as epoch ms); `undefined` when absent.
 * @throws ValidationError naming `field` for anything else, impossible days (`2026-13-45`, `2026-02-30`) included.
 * @example
 * parseInstant("2026-11-25", "from"); // "2026-11-25"
 * parseInstant("2026-11-25T10:00:00+08:00", "to"); // 1795572000000
 * parseInstant("2026-13-45", "from"); // throws ValidationError { field: "from" }
 */
export function parseInstant(value: string | undefined, field: string): number | string | undefined {
  if (value === undefined || value === "") return undefined;
  if (EPOCH_MS_RE.test(value)) return Number(value);
  if (DAY_RE.test(value)) {
    if (!isCalendarDay(value)) throw new ValidationError(field, `${JSON.stringify(value)} is not a day of the calendar`);
    return value;
  }
  const dateTime = DATE_TIME_RE.exec(value);
  const ms = dateTime !== null && isCalendarDay(dateTime[1]!) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new ValidationError(field, `expected YYYY-MM-DD, an ISO date-time or epoch milliseconds, got ${JSON.stringify(value.slice(0, 40))}`);
  return ms;
}
