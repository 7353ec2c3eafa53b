/**
 * One HTTP exchange with the WeChat API, turned into JSON or a typed error, and the
 * bounded retry loop used for every call. Knows nothing of tokens.
 * @module
 */
import { backoffDelayMs, type BackoffSteps } from "../backoff.ts";
import type { Clock, Fetch, Random } from "../deps.ts";
import { NetworkError, QrError } from "../errors.ts";
import { redactQueries } from "../redact.ts";
import { describeRequestFailure } from "../request-failure.ts";
import { errorForErrcode } from "./errcodes.ts";
import type { WireError } from "./wire.ts";

export interface Transport {
  /** e.g. `https://api.weixin.qq.com`, no trailing slash needed. */
  baseUrl: string;
  fetch: Fetch;
  timeoutMs: number;
}

export interface ApiRequest {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  /** A multipart body (media/upload); fetch writes its Content-Type with the boundary. */
  form?: FormData;
  /** Token endpoints give some errcodes another meaning (wechat-api.md §7). */
  tokenEndpoint?: boolean;
}

/**
 * Why `value` cannot be the base of API URLs (`apiBase`, `mpBase`), or `undefined` when it can:
 * parsed by `new URL()` (a half-typed `http://[::1` would otherwise fail on every call, inside
 * fetch, with the whole URL — secret included — in its message), http(s), with a host, and no
 * credentials, query or fragment (the paths and queries are appended to it).
 * @example
 * baseUrlProblem("http://127.0.0.1:3001"); // undefined
 * baseUrlProblem("http://[::1"); // "must be an http(s) URL"
 */
export function baseUrlProblem(value: unknown): string | undefined {
  const problem = httpUrlProblem(value);
  if (problem !== undefined) return problem;
  const url = new URL(value as string);
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "")
    return "must be an http(s) URL without credentials, query or fragment";
  return undefined;
}

/**
 * Why `value` is not an absolute http(s) URL with a host that `new URL()` accepts, or `undefined`.
 * @example
 * httpUrlProblem("https://example.com/hook?k=1"); // undefined
 * httpUrlProblem("ftp://example.com"); // "must be an http(s) URL"
 */
export function httpUrlProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || !URL.canParse(value)) return "must be an http(s) URL";
  const url = new URL(value);
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return "must be an http(s) URL";
  return undefined;
}

export function buildUrl(baseUrl: string, path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${baseUrl.replace(/\/+$/, "")}${path}${qs ? `?${qs}` : ""}`;
}

/**
 * Sends one request. The error never includes the query, which may carry the token or secret:
 * neither in its message nor in its `cause` (fetch's own errors quote the whole URL, e.g.
 * `Failed to parse URL from …?secret=…`, and loggers print the causes too).
 */
export async function sendRaw(transport: Transport, path: string, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await transport.fetch(url, { ...init, signal: AbortSignal.timeout(transport.timeoutMs) });
  } catch (cause) {
    throw new NetworkError(path, describeRequestFailure(cause, transport.timeoutMs), { cause: withoutQueries(cause) });
  }
}

export async function requestJson<T>(transport: Transport, req: ApiRequest): Promise<T> {
  const url = buildUrl(transport.baseUrl, req.path, req.query);
  const init: RequestInit = { method: req.method };
  if (req.form !== undefined) {
    init.body = req.form;
  } else if (req.json !== undefined) {
    init.body = JSON.stringify(req.json);
    init.headers = { "content-type": "application/json" };
  }
  const res = await sendRaw(transport, req.path, url, init);
  const text = await res.text().catch((cause: unknown) => {
    throw new NetworkError(req.path, `reading the answer failed: ${describeRequestFailure(cause)}`, { cause: withoutQueries(cause) });
  });
  if (!res.ok) throw new NetworkError(req.path, `HTTP ${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    // An error page (a proxy's, say) may quote the request line, query and all.
    throw new NetworkError(req.path, `answer is not JSON (${redactQueries(text.slice(0, 200)).slice(0, 60)})`, { cause });
  }
  if (typeof body !== "object" || body === null) throw new NetworkError(req.path, "answer is not a JSON object");
  const { errcode, errmsg } = body as Partial<WireError>;
  if (typeof errcode === "number" && errcode !== 0) {
    throw errorForErrcode({ errcode, errmsg: typeof errmsg === "string" ? errmsg : "", path: req.path }, req.tokenEndpoint);
  }
  return body as T;
}

/** The waits between tries follow `backoffDelayMs` (`src/backoff.ts`). */
export interface RetryPolicy extends BackoffSteps {
  /** Total tries, the first included. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 3_000 };

/** Runs `fn`, retrying only errors marked `retryable`, at most `maxAttempts` times in all. */
export async function withRetries<T>(policy: RetryPolicy, deps: { clock: Clock; random: Random }, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof QrError) || !err.retryable || attempt >= policy.maxAttempts) throw err;
      await deps.clock.sleep(backoffDelayMs(policy, attempt, deps.random));
    }
  }
}

const CAUSE_DEPTH = 4;

/** A copy of an error and its causes with the queries cut from messages and stacks, for `cause`. */
function withoutQueries(cause: unknown, depth = 0): unknown {
  if (!(cause instanceof Error)) return typeof cause === "string" ? redactQueries(cause) : cause;
  const inner = depth < CAUSE_DEPTH ? (cause as { cause?: unknown }).cause : undefined;
  const copy = new Error(redactQueries(cause.message), inner === undefined ? undefined : { cause: withoutQueries(inner, depth + 1) });
  copy.name = cause.name;
  if (cause.stack !== undefined) copy.stack = redactQueries(cause.stack);
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") Object.assign(copy, { code });
  return copy;
}
