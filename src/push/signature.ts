/**
 * Push signatures (wechat-api.md §5, §6). WeChat signs every push URL with
 * `signature = sha1(sort([token, timestamp, nonce]).join(""))`; in safe/compatible mode it adds
 * `msg_signature = sha1(sort([token, timestamp, nonce, Encrypt]).join(""))`.
 * The same functions sign pushes in the emulator, so both sides are pinned to the published vectors.
 * @module
 */
import { hash, timingSafeEqual } from "node:crypto";

function sha1OfSorted(parts: string[]): string {
  // Lexicographic sort of the parts, then plain concatenation (OA-ACCESS steps 1–3). The one-shot
  // `hash` (Node ≥ 20.12) costs a third of createHash's Hash object; two run on every push.
  return hash("sha1", parts.sort().join(""), "hex");
}

/**
 * The `signature` query parameter WeChat puts on every push and on URL verification.
 * @example
 * computeSignature("test", "1410685589", "test"); // "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
 */
export function computeSignature(token: string, timestamp: string, nonce: string): string {
  return sha1OfSorted([token, timestamp, nonce]);
}

/**
 * The `msg_signature` query parameter of an encrypted push, and the `MsgSignature` of an encrypted reply:
 * it covers the base64 `Encrypt` value as sent.
 * @example
 * computeMsgSignature("pamtest", "1409304348", "xxxxxx", encrypt); // 40 lowercase hex digits
 */
export function computeMsgSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return sha1OfSorted([token, timestamp, nonce, encrypt]);
}

/**
 * Compares a received signature with the expected one in constant time (for equal lengths;
 * a length difference is not secret). Hex case matters: WeChat sends lowercase.
 * @example
 * signatureMatches(computeSignature(token, ts, nonce), query.signature);
 */
export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(given, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
