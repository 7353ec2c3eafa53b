/**
 * The raw push body for adapters on Node streams (`node:http`/Express, Koa): what a body parser
 * already kept as raw bytes or text, else the stream read up to a little past the receiver's limit
 * (the receiver then makes the exact check and answers 413), so an oversized push costs no more
 * memory than that.
 * @module
 */
import type { Readable } from "node:stream";
import type { PushHttpResponse } from "../handler.ts";

/** Bytes read past the limit: enough for the receiver to see that the body is too large. */
const PAST_LIMIT_BYTES = 1;

/**
 * The answer when a body parser turned the push into an object first: the bytes the signature
 * covers are gone. 500, not 4xx: WeChat retries, and the push is not lost once the app is fixed.
 */
export const BODY_PARSED_RESPONSE: PushHttpResponse = {
  status: 500,
  headers: { "content-type": "application/json; charset=utf-8" },
  body: JSON.stringify({
    error: "BODY_PARSED",
    message: 'a body parser consumed the push before wxqr: mount wxqr first, or keep the raw body (express.raw({ type: "*/*" }))',
  }),
};

/** The raw body, or `undefined` when a parser consumed the stream and kept no raw copy. */
export async function rawBody(parsed: readonly unknown[], stream: Readable, maxBytes: number): Promise<Uint8Array | string | undefined> {
  const kept = parsed.find((b) => typeof b === "string" || Buffer.isBuffer(b)) as string | Buffer | undefined;
  if (kept !== undefined) return kept;
  if (parsed.some((b) => b !== undefined) && stream.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buf);
    size += buf.length;
    if (size > maxBytes + PAST_LIMIT_BYTES) break;
  }
  return Buffer.concat(chunks);
}
