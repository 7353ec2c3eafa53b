/**
 * Instants as the value of an `<input type="datetime-local">` in the account's zone (Asia/Shanghai,
 * as `format.ts` cuts days), whatever the browser's own zone: an operator in Berlin scheduling a
 * channel for "09:00" means 09:00 where the followers are.
 */
import { ZONE } from "./format.ts";

const wallClock = new Intl.DateTimeFormat("en-CA", {
  timeZone: ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function wallParts(epochMs: number): Record<"year" | "month" | "day" | "hour" | "minute", string> {
  const parts = Object.fromEntries(wallClock.formatToParts(epochMs).map((p) => [p.type, p.value]));
  return parts as Record<"year" | "month" | "day" | "hour" | "minute", string>;
}

/** `YYYY-MM-DDTHH:mm` in the zone; "" for none. */
export function toZoneInput(epochMs: number | null): string {
  if (epochMs === null) return "";
  const p = wallParts(epochMs);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

const INPUT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** The instant an input's value names in the zone: null for "", undefined when it is not a time. */
export function fromZoneInput(value: string): number | null | undefined {
  if (value === "") return null;
  const m = INPUT_RE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // The zone's offset at that instant (no daylight saving in Asia/Shanghai: one correction is exact).
  const p = wallParts(asUtc);
  const offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - asUtc;
  const instant = asUtc - offset;
  return toZoneInput(instant) === value ? instant : undefined;
}
