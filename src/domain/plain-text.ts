/**
 * Names, labels and scene strings are stored and shown, never sent as chat text: they may hold
 * no control character at all. Checked at the edge so that both engines behave alike —
 * PostgreSQL refuses a NUL in TEXT outright (the request would fail with 503 and fail again on
 * every retry) while SQLite stores it (issue 8 item 5; design.md invariant 8).
 * @module
 */
import { ValidationError } from "../errors.ts";

// C0 (NUL, tab, line breaks …), DEL, C1 and the non-characters U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]/;

/**
 * Throws a ValidationError naming `field` when `value` holds a control character.
 * @example
 * checkPlainText("name", "poster A"); // fine
 * checkPlainText("name", "poster\u0000A"); // throws ValidationError, field "name"
 */
export function checkPlainText(field: string, value: string): void {
  if (CONTROL_RE.test(value)) throw new ValidationError(field, "must not contain control characters (NUL, tab, line breaks …)");
}
