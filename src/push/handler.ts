/**
 * The framework-agnostic push handler (issue 9; style.md §1 "core plus adapter", as
 * octokit/webhooks.js): a request in (`method`, `query`, raw `body`), a response out (`status`,
 * `headers`, `body`). It owns the whole behaviour, so every adapter — `node:http`/Express, Koa,
 * Fastify, Web `Request` — answers alike:
 *
 * - `GET` is URL verification: the `echostr`, unchanged, once the signature checks out;
 * - `POST` is a push: authenticated and opened, handed to `onMessage`, and answered only after
 *   `onMessage` has resolved (design.md: "success" only after the effects are committed);
 * - once `onMessage` has resolved the answer is always 200: a reply that cannot be built
 *   (a text the XML cannot carry) becomes `success`, or WeChat would deliver a push again whose
 *   effects are already committed;
 * - a push that is not authentic is 401, malformed 400, oversize 413; anything else (a failing
 *   `onMessage`) is 503, so WeChat delivers the push again (wechat-api.md §4). Other methods 405.
 * @module
 */
import { QrError, type ErrorCode } from "../errors.ts";
import type { PushMessage } from "./events.ts";
import type { PushQuery, PushReceiver } from "./receiver.ts";
import { SUCCESS_REPLY, type PushReply } from "./reply.ts";

/** A request as any framework can give it. */
export interface PushHttpRequest {
  method: string;
  /** The query: parsed (raw, URL-decoded values), as `URLSearchParams`, or the raw query string. */
  query: PushQuery | URLSearchParams | string;
  /** The body exactly as received; absent for GET. */
  body?: Uint8Array | string | undefined;
}

export interface PushHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Why the push was refused or failed, for the adapter's log; never sent. */
  error?: unknown;
}

/** What `onMessage` may answer: a text for the user, `{ text }`, or nothing (`success`). */
export type PushAnswer = string | { text?: string | undefined } | undefined | void;

export interface PushHandlerOptions {
  receiver: PushReceiver;
  /**
   * Does what must be durable (store the push, count the scan), then resolves with the passive
   * reply, if any. Throwing answers 503: WeChat delivers the push again, so it must be safe to
   * run twice (dedupe on `message.dedupeKey`).
   */
  onMessage(message: PushMessage): PushAnswer | Promise<PushAnswer>;
}

export type PushHandler = (request: PushHttpRequest) => Promise<PushHttpResponse>;

/** Push errors that are the sender's fault, and their statuses; every other failure is 503. */
export const PUSH_STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  SIGNATURE_INVALID: 401,
  TIMESTAMP_STALE: 401,
  APPID_MISMATCH: 401,
  PUSH_MALFORMED: 400,
  DECRYPT_FAILED: 400,
  PUSH_TOO_LARGE: 413,
};

/** A failure of ours: WeChat retries a push that gets no 2xx answer (wechat-api.md §4). */
export const PUSH_UNAVAILABLE_STATUS = 503;

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * The answer to a refused or failed push: the sender's own mistakes are explained (our messages
 * name variables, never their values); a failure of ours says nothing about its cause.
 */
export function pushErrorResponse(error: unknown): PushHttpResponse {
  const status = (error instanceof QrError ? PUSH_STATUS_BY_CODE[error.code] : undefined) ?? PUSH_UNAVAILABLE_STATUS;
  let body: { error: string; message: string; field?: string };
  if (status === PUSH_UNAVAILABLE_STATUS || !(error instanceof QrError)) {
    body = { error: "UNAVAILABLE", message: "the push could not be processed now; WeChat will deliver it again" };
  } else {
    const field: unknown = (error as QrError & { field?: unknown }).field;
    body = { error: error.code, message: error.message, ...(typeof field === "string" ? { field } : {}) };
  }
  return { status, headers: { "content-type": JSON_TYPE }, body: JSON.stringify(body), error };
}

function queryOf(query: PushHttpRequest["query"]): PushQuery {
  if (typeof query !== "string" && !(query instanceof URLSearchParams)) return query;
  const params = typeof query === "string" ? new URLSearchParams(query.startsWith("?") ? query.slice(1) : query) : query;
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const seen = out[key];
    // A repeated parameter stays visible as an array: the receiver refuses it rather than picking one.
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

function textOf(answer: PushAnswer): string | undefined {
  return typeof answer === "string" ? answer : (answer?.text ?? undefined);
}

/**
 * @example
 * const handle = createPushHandler({
 *   receiver: createPushReceiver({ token, appId, encodingAESKey }),
 *   onMessage: async (message) => {
 *     await store(message); // idempotent on message.dedupeKey
 *     return message.kind === "scan" ? "Thanks for scanning!" : undefined;
 *   },
 * });
 * const { status, headers, body } = await handle({ method: "POST", query: "signature=…", body: rawBytes });
 */
export function createPushHandler(options: PushHandlerOptions): PushHandler {
  const { receiver, onMessage } = options;
  return async (request) => {
    const query = queryOf(request.query);
    if (request.method === "GET") {
      try {
        return { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: receiver.verifyUrl(query) };
      } catch (error) {
        return pushErrorResponse(error);
      }
    }
    if (request.method !== "POST") {
      return {
        status: 405,
        headers: { allow: "GET, POST", "content-type": JSON_TYPE },
        body: JSON.stringify({ error: "METHOD_NOT_ALLOWED", message: "WeChat sends GET (URL verification) and POST (pushes)" }),
      };
    }
    let opened;
    let answer: PushAnswer;
    try {
      opened = receiver.open({ query, body: request.body ?? "" });
      answer = await onMessage(opened.message);
    } catch (error) {
      return pushErrorResponse(error);
    }
    // Committed: whatever happens now, WeChat must hear 200.
    let reply: PushReply;
    let replyError: unknown;
    try {
      reply = opened.reply(textOf(answer));
    } catch (error) {
      reply = SUCCESS_REPLY;
      replyError = error;
    }
    return { status: 200, headers: { "content-type": reply.contentType }, body: reply.body, ...(replyError === undefined ? {} : { error: replyError }) };
  };
}
