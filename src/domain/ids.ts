/** Public ids: opaque, random, with a prefix that says what they name (design.md, Decisions). */
import type { Random } from "../deps.ts";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

export function newId(prefix: "qr" | "ch" | "cg" | "ss" | "sw", random: Random): string {
  const bytes = random.bytes(10);
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${prefix}_${out}`;
}
