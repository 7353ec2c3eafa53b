/**
 * CSV downloads that open correctly in Excel: UTF-8 with a byte order mark (without it Excel
 * reads the file in the system's legacy code page, and Chinese turns to mojibake), CRLF line
 * ends (RFC 4180), and a file name that survives non-ASCII characters (RFC 6266 / RFC 5987).
 * @module
 */

export const UTF8_BOM = "\uFEFF";

/**
 * One field: quoted when it holds a separator, a quote or a line break (RFC 4180).
 * @example
 * csvField('say "hi", twice'); // '"say ""hi"", twice"'
 */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A whole CSV document: the BOM, the header row, then one line per row.
 * @example
 * csvDocument(["date", "scans"], [["2026-11-25", 3]]); // "\uFEFFdate,scans\r\n2026-11-25,3\r\n"
 */
export function csvDocument(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return UTF8_BOM + [header, ...rows].map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}

// RFC 5987 attr-char: what may stand unencoded in `filename*`.
const ATTR_CHAR_RE = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/**
 * `Content-Disposition` for a download: `filename` in printable ASCII for every client (anything
 * else, and `"` or `\`, become `_`), and `filename*` with the exact UTF-8 name when they differ.
 * @example
 * attachmentDisposition("海报-2026-11-25.csv");
 * // `attachment; filename="__-2026-11-25.csv"; filename*=UTF-8''%E6%B5%B7%E6%8A%A5-2026-11-25.csv`
 */
export function attachmentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7E]|["\\]/gu, "_");
  if (ascii === filename) return `attachment; filename="${ascii}"`;
  const encoded = Array.from(new TextEncoder().encode(filename), (byte) => {
    const ch = String.fromCharCode(byte);
    return byte < 0x80 && ATTR_CHAR_RE.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
