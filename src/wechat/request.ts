/**
 * One HTTP exchange with the WeChat API, turned into JSON or a typed error, and the
 * bounded retry loop used for every call. Knows nothing of tokens.
 * @module
 */
import type { Clock, Fetch, Random } from "../deps.ts";
import { NetworkError, QrError } from "../errors.ts";
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
  /** Token endpoints give some errcodes another meaning (wechat-api.md §7). */
  tokenEndpoint?: boolean;
}

export function buildUrl(baseUrl: string, path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${baseUrl.replace(/\/+$/, "")}${path}${qs ? `?${qs}` : ""}`;
}

/** Sends one request. The error never includes the query, which may carry the token or secret. */
export async function sendRaw(transport: Transport, path: string, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await transport.fetch(url, { ...init, signal: AbortSignal.timeout(transport.timeoutMs) });
  } catch (cause) {
    const reason = cause instanceof Error && cause.name === "TimeoutError" ? `no answer within ${transport.timeoutMs} ms` : describeCause(cause);
    throw new NetworkError(path, reason, { cause });
  }
}

export async function requestJson<T>(transport: Transport, req: ApiRequest): Promise<T> {
  const url = buildUrl(transport.baseUrl, req.path, req.query);
  const init: RequestInit = { method: req.method };
  if (req.json !== undefined) {
    init.body = JSON.stringify(req.json);
    init.headers = { "content-type": "application/json" };
  }
  const res = await sendRaw(transport, req.path, url, init);
  const text = await res.text().catch((cause: unknown) => {
    throw new NetworkError(req.path, `reading the answer failed: ${describeCause(cause)}`, { cause });
  });
  if (!res.ok) throw new NetworkError(req.path, `HTTP ${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new NetworkError(req.path, `answer is not JSON (${text.slice(0, 60)})`, { cause });
  }
  if (typeof body !== "object" || body === null) throw new NetworkError(req.path, "answer is not a JSON object");
  const { errcode, errmsg } = body as Partial<WireError>;
  if (typeof errcode === "number" && errcode !== 0) {
    throw errorForErrcode({ errcode, errmsg: typeof errmsg === "string" ? errmsg : "", path: req.path }, req.tokenEndpoint);
  }
  return body as T;
}

export interface RetryPolicy {
  /** Total tries, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 3_000 };

/** Exponential backoff with jitter between half and all of the step (stripe's scheme, but injected). */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: Random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(step * (0.5 + random.float() * 0.5));
}

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

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    const code = inner && typeof inner === "object" && "code" in inner ? String((inner as { code: unknown }).code) : undefined;
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}
