/** Days for statistics are cut in the account's time zone (design.md, Decisions). */
import { ValidationError } from "../errors.ts";

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

/** `YYYY-MM-DD` of an instant in a time zone. */
export function dayInZone(epochMs: number, timeZone: string): string {
  return formatter(timeZone).format(epochMs);
}

export function checkTimeZone(timeZone: string): string {
  formatter(timeZone);
  return timeZone;
}
