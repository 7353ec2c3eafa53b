/**
 * The one place where errors become HTTP statuses (style.md §3: errors carry data, never a
 * status). Push failures follow design.md "Replies": a push that is not authentic is 401,
 * a malformed one 400, an oversize one 413; anything else is our failure and gets 503, so
 * WeChat delivers the push again.
 * @module
 */
import { QrError, type ErrorCode } from "../errors.ts";
import { PUSH_STATUS_BY_CODE, PUSH_UNAVAILABLE_STATUS } from "../push/handler.ts";

/**
 * Status for each code the caller is told about (their fault, or a refusal they can act on);
 * every other failure is `UNAVAILABLE_STATUS`, with no detail.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  // The push handler's own table: one answer for a push, whichever way it arrives.
  ...PUSH_STATUS_BY_CODE,
  VALIDATION_FAILED: 400,
  BODY_TOO_LARGE: 413,
  NOT_FOUND: 404,
  TICKET_NOT_FOUND: 404,
  SCENE_CONFLICT: 409,
  NAME_CONFLICT: 409,
  TAG_LIMIT_REACHED: 409,
  UNAUTHORIZED: 401,
  CSRF_REFUSED: 403,
  QUOTA_EXHAUSTED: 409,
  WECHAT_QR_QUOTA_EXCEEDED: 409,
  WECHAT_RATE_LIMITED: 429,
  RATE_LIMITED: 429,
  // The platform's daily quota, not the caller, stands in the way until midnight Beijing time;
  // the body names it, unlike our own failures.
  SCAN_SESSION_QUOTA_EXHAUSTED: 503,
  // A temporary channel's image link: gone for good (until the operator changes the code), or for
  // the moment (the renewal is retried), so that an <img> never gets an expired code.
  CHANNEL_CODE_EXPIRED: 410,
  CHANNEL_CODE_RENEWAL_FAILED: 503,
  // WeChat refused or failed: the gateway's fault, not the caller's.
  WECHAT_API_ERROR: 502,
  WECHAT_TOKEN_INVALID: 502,
  WECHAT_CREDENTIALS_INVALID: 502,
  WECHAT_PERMISSION_DENIED: 502,
  WECHAT_INVALID_ARGUMENT: 502,
  WECHAT_BUSY: 502,
  NETWORK_ERROR: 502,
};

/** A handler failure: WeChat retries a push that gets no 2xx answer (wechat-api.md §4). */
export const UNAVAILABLE_STATUS = PUSH_UNAVAILABLE_STATUS;

export interface HttpErrorBody {
  /** The error's `code`, or `UNAVAILABLE` for a failure of ours. */
  error: string;
  message: string;
  /** The argument at fault, for validation errors. */
  field?: string;
  /** WeChat's errcode, when WeChat refused. */
  errcode?: number;
}

/**
 * @example
 * httpStatusFor(new SignatureError("signature mismatch")); // 401
 * httpStatusFor(new Error("database is down")); // 503
 */
export function httpStatusFor(err: unknown): number {
  return (err instanceof QrError ? HTTP_STATUS_BY_CODE[err.code] : undefined) ?? UNAVAILABLE_STATUS;
}

/**
 * The status and a small body. Only the caller's own mistakes are explained (our messages name
 * variables, never their values); a failure of ours says nothing about its cause.
 * @example
 * httpErrorFor(new PushFormatError("push lacks <MsgType>")); // { status: 400, body: { error: "PUSH_MALFORMED", message: "push lacks <MsgType>" } }
 */
export function httpErrorFor(err: unknown): { status: number; body: HttpErrorBody } {
  const status = httpStatusFor(err);
  if (!(err instanceof QrError) || HTTP_STATUS_BY_CODE[err.code] === undefined) {
    return { status, body: { error: "UNAVAILABLE", message: "the request could not be processed now; try again later" } };
  }
  const body: HttpErrorBody = { error: err.code, message: err.message };
  const extra = err as { field?: unknown; errcode?: unknown };
  if (typeof extra.field === "string") body.field = extra.field;
  if (typeof extra.errcode === "number") body.errcode = extra.errcode;
  return { status, body };
}
