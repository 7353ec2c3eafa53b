/**
 * One line about why an outgoing HTTP request failed, for every client wxqr runs (the WeChat API
 * client's `NetworkError` messages, the business webhook's `lastError`): fetch's message with the
 * socket's error code, or the deadline that passed, and never a query (it may hold the token or the
 * secret). Top level, beside `deps.ts`, because both `wechat/` and `domain/` need it.
 * @module
 */
import { redactQueries } from "./redact.ts";

/**
 * With `timeoutMs`, a request cut by `AbortSignal.timeout` reads `no answer within … ms`; leave it
 * out where an answer did arrive (its body then timed out), so the line keeps fetch's own words.
 * @example
 * describeRequestFailure(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } })); // "fetch failed (ECONNREFUSED)"
 * describeRequestFailure(new DOMException("The operation was aborted due to timeout", "TimeoutError"), 10_000); // "no answer within 10000 ms"
 */
export function describeRequestFailure(cause: unknown, timeoutMs?: number): string {
  const failure = cause as { name?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  if (timeoutMs !== undefined && failure?.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  if (failure?.name === "AbortError") return "stopped before an answer";
  const message = typeof failure?.message === "string" ? failure.message : String(cause);
  const code = socketCode(failure?.cause);
  return redactQueries(code ? `${message} (${code})` : message);
}

/** e.g. `ECONNREFUSED`: undici puts the socket's error below its own `fetch failed`. */
function socketCode(inner: unknown): string | undefined {
  if (typeof inner !== "object" || inner === null || !("code" in inner)) return undefined;
  const { code } = inner as { code: unknown };
  return typeof code === "string" || typeof code === "number" ? String(code) : undefined;
}
