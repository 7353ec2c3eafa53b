/**
 * Every error wxqr throws is a `QrError` with a stable `code`. Subclasses follow the
 * decision a caller has to make (fix config, refresh the token, retry later, …), not
 * individual WeChat errcodes; `wechat/errcodes.ts` is the one place that maps an errcode
 * to a class. Errors carry data, never HTTP statuses: servers map `code` to a status.
 * Every code is listed in docs/errors.md (a test keeps the two in sync).
 * @module
 */

export const ERROR_CODES = [
  "CONFIG_INVALID",
  "VALIDATION_FAILED",
  "BODY_TOO_LARGE",
  "WECHAT_API_ERROR",
  "WECHAT_TOKEN_INVALID",
  "WECHAT_BUSY",
  "WECHAT_CREDENTIALS_INVALID",
  "WECHAT_RATE_LIMITED",
  "WECHAT_PERMISSION_DENIED",
  "WECHAT_QR_QUOTA_EXCEEDED",
  "WECHAT_INVALID_ARGUMENT",
  "TICKET_NOT_FOUND",
  "NETWORK_ERROR",
  "SIGNATURE_INVALID",
  "TIMESTAMP_STALE",
  "APPID_MISMATCH",
  "DECRYPT_FAILED",
  "PUSH_MALFORMED",
  "PUSH_TOO_LARGE",
  "NOT_FOUND",
  "SCENE_CONFLICT",
  "QUOTA_EXHAUSTED",
  "UNAUTHORIZED",
  "NAME_CONFLICT",
  "STORAGE_UNAVAILABLE",
  "RATE_LIMITED",
  "SCAN_SESSION_QUOTA_EXHAUSTED",
  "CSRF_REFUSED",
  "BATCH_DIRECTORY_CONFLICT",
  "TAG_LIMIT_REACHED",
  "CHANNEL_CODE_EXPIRED",
  "CHANNEL_CODE_RENEWAL_FAILED",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface QrErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class QrError extends Error {
  readonly code: ErrorCode;
  /** True when the same call may succeed if simply repeated later. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: QrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export interface ConfigProblem {
  /** The environment variable or option at fault, e.g. `WECHAT_APP_ID`. */
  key: string;
  message: string;
}

/** Configuration is missing or invalid; `problems` lists every one found, not just the first. */
export class ConfigError extends QrError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super("CONFIG_INVALID", problems.map((p) => `${p.key}: ${p.message}`).join("; "));
    this.problems = problems;
  }
}

/** An argument broke a documented limit; nothing was sent. `field` names the argument. */
export class ValidationError extends QrError {
  readonly field: string;
  constructor(field: string, message: string) {
    super("VALIDATION_FAILED", `${field}: ${message}`);
    this.field = field;
  }
}

export interface WeChatApiErrorInit {
  errcode: number;
  errmsg: string;
  /** The API path without its query (which may hold the access token). */
  path: string;
}

/** WeChat answered with a non-zero errcode that needs no special handling. */
export class WeChatApiError extends QrError {
  readonly errcode: number;
  readonly errmsg: string;
  readonly path: string;
  constructor(init: WeChatApiErrorInit, code: ErrorCode = "WECHAT_API_ERROR", hint?: string, options: QrErrorOptions = {}) {
    super(code, `WeChat ${init.path} failed: errcode ${init.errcode} (${init.errmsg})${hint ? `: ${hint}` : ""}`, options);
    this.errcode = init.errcode;
    this.errmsg = init.errmsg;
    this.path = init.path;
  }
}

/** The access token was rejected (40001, 40014, 41001, 42001); the client refreshes once before surfacing this. */
export class AccessTokenInvalidError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(init, "WECHAT_TOKEN_INVALID", "the access token was rejected even after a refresh; is another program resetting it with /cgi-bin/token?");
  }
}

/** errcode -1, "system error": WeChat is busy; retrying with backoff is the documented answer. */
export class WeChatBusyError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(init, "WECHAT_BUSY", "WeChat is busy, try again shortly", { retryable: true });
  }
}

/** The app id or secret is wrong (40013, 40125, …): fix the configuration. */
export class CredentialsError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(init, "WECHAT_CREDENTIALS_INVALID", "check WECHAT_APP_ID and WECHAT_APP_SECRET against the Official Account console");
  }
}

/** A daily or per-minute call quota is used up (45009, 45011). Retrying now only burns more quota. */
export class RateLimitError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(
      init,
      "WECHAT_RATE_LIMITED",
      init.errcode === 45011 ? "slow down and retry next minute" : "the daily quota is used up; it resets at midnight Beijing time",
    );
  }
}

/** The account may not call this API, or this machine's IP is not whitelisted (48001, 40164). */
export class PermissionError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(
      init,
      "WECHAT_PERMISSION_DENIED",
      init.errcode === 40164 ? "add this server's IP to the API IP whitelist in the console" : "the account lacks this permission (is it verified?)",
    );
  }
}

/** No permanent codes left: the account's 100,000 are all created (45029). */
export class QrQuotaExceededError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(init, "WECHAT_QR_QUOTA_EXCEEDED", "all permanent codes are used; create temporary codes instead");
  }
}

/** WeChat rejected an argument (40035, 40052, 40053, 47001). */
export class InvalidArgumentError extends WeChatApiError {
  constructor(init: WeChatApiErrorInit) {
    super(init, "WECHAT_INVALID_ARGUMENT");
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends QrError {
  constructor(message: string, code: ErrorCode = "NOT_FOUND") {
    super(code, message);
  }
}

/** showqrcode answered 404: the ticket is unknown, malformed or expired. */
export class TicketNotFoundError extends NotFoundError {
  constructor() {
    super("showqrcode: ticket not found (unknown, malformed or expired)", "TICKET_NOT_FOUND");
  }
}

/** The request did not complete: connection refused or reset, timeout, or a non-JSON answer. */
export class NetworkError extends QrError {
  /** The path of the request, without its query. */
  readonly path: string;
  constructor(path: string, message: string, options: QrErrorOptions = {}) {
    super("NETWORK_ERROR", `${path}: ${message}`, { retryable: true, ...options });
    this.path = path;
  }
}

/** A push's signature or msg_signature did not verify, or its timestamp is outside the allowed skew. */
export class SignatureError extends QrError {
  constructor(message: string, code: Extract<ErrorCode, "SIGNATURE_INVALID" | "TIMESTAMP_STALE" | "APPID_MISMATCH"> = "SIGNATURE_INVALID") {
    super(code, message);
  }
}

/** An encrypted push could not be decrypted (bad base64, bad padding, truncated, bad key). */
export class DecryptError extends QrError {
  constructor(message: string, options: QrErrorOptions = {}) {
    super("DECRYPT_FAILED", message, options);
  }
}

/** A request body is larger than the endpoint takes; nothing was read past the limit. */
export class BodyTooLargeError extends QrError {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super("BODY_TOO_LARGE", `the request body is larger than ${limitBytes} bytes; the API takes small JSON documents`);
    this.limitBytes = limitBytes;
  }
}

/** A push body is not the XML WeChat sends: not XML, DOCTYPE/entities, missing fields, too large. */
export class PushFormatError extends QrError {
  /** The XML field at fault, when one is. */
  readonly field: string | undefined;
  constructor(message: string, options: { field?: string; code?: Extract<ErrorCode, "PUSH_MALFORMED" | "PUSH_TOO_LARGE"> } = {}) {
    super(options.code ?? "PUSH_MALFORMED", message);
    this.field = options.field;
  }
}

/** A scene value is already held by a live code. */
export class SceneConflictError extends QrError {
  readonly sceneKey: string;
  constructor(sceneKey: string) {
    super("SCENE_CONFLICT", `scene ${sceneKey} is already in use by a live code`);
    this.sceneKey = sceneKey;
  }
}

/** wxqr's own accounting says no permanent code may be created (WXQR_PERMANENT_QUOTA). */
export class QuotaExhaustedError extends QrError {
  readonly limit: number;
  constructor(limit: number) {
    super("QUOTA_EXHAUSTED", `the permanent-code quota (${limit}) is used up; create temporary codes, or raise WXQR_PERMANENT_QUOTA if the account has more`);
    this.limit = limit;
  }
}

/** The database could not be reached or failed mid-transaction; nothing was committed. */
export class StorageUnavailableError extends QrError {
  constructor(message: string, options: QrErrorOptions = {}) {
    super("STORAGE_UNAVAILABLE", `storage unavailable: ${message}`, { retryable: true, ...options });
  }
}

/** A client asked wxqr itself too often (e.g. creating scan sessions); `retryAfterMs` says when a new request may succeed. */
export class ClientRateLimitedError extends QrError {
  readonly retryAfterMs: number;
  constructor(what: string, retryAfterMs: number) {
    super("RATE_LIMITED", `too many ${what} requests from this client; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A scan session could not get a code: the platform's daily `qrcode/create` quota (45009) is
 * used up and no pre-created code was left. Every session needs a code of its own, so no
 * session can start until the quota resets at midnight Beijing time (`retryAfterMs` from now).
 */
export class ScanSessionQuotaError extends QrError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, cause: unknown) {
    super(
      "SCAN_SESSION_QUOTA_EXHAUSTED",
      "no scan session can start: the account's daily qrcode/create quota is used up (it resets at midnight Beijing time); the console's clear_quota resets it sooner",
      { cause, retryable: true },
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A client already holds as many server-sent-event streams as it may (for one scan session, or
 * from one address): each stream holds a socket for minutes, so they are counted, not rated.
 */
export class StreamLimitError extends QrError {
  readonly limit: number;
  constructor(scope: "session" | "client", limit: number) {
    super(
      "RATE_LIMITED",
      `too many open event streams ${scope === "session" ? "for this scan session" : "from this client"} (at most ${limit}); close one first`,
      { retryable: true },
    );
    this.limit = limit;
  }
}

/** The request lacks the bearer secret it needs (the admin token, or a scan session's secret). */
export class UnauthorizedError extends QrError {
  /** For the `WWW-Authenticate` challenge. */
  readonly realm: string;
  constructor(message: string, realm = "wxqr") {
    super("UNAUTHORIZED", message);
    this.realm = realm;
  }
}

/** A name that must be unique (a channel's) is taken. */
export class NameConflictError extends QrError {
  readonly field: string;
  constructor(field: string, name: string) {
    super("NAME_CONFLICT", `${field}: ${JSON.stringify(name)} is already taken`);
    this.field = field;
  }
}

/**
 * A temporary channel that does not renew has outlived its code: its image link has nothing to
 * show until the operator gives it a new code (switching `renew` on, or to permanent).
 */
export class ChannelCodeExpiredError extends QrError {
  constructor(expiresAt: number) {
    super("CHANNEL_CODE_EXPIRED", `the channel's temporary code expired at ${new Date(expiresAt).toISOString()} and the channel does not renew`);
  }
}

/**
 * A renewing channel's code has expired and no new one could be created yet (WeChat refused or
 * did not answer); the renewal is tried again at the next request and the next round.
 */
export class ChannelCodeRenewalError extends QrError {
  /** A hint for `Retry-After`. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, cause: unknown) {
    super("CHANNEL_CODE_RENEWAL_FAILED", "the channel's code expired and its renewal failed; it is tried again shortly", { retryable: true, cause });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A write authenticated by the dashboard's session cookie did not show that the dashboard sent
 * it: no `X-Wxqr-Csrf: 1` header, or an `Origin` other than the service's own. A browser attaches
 * the cookie to a cross-site form post, but cannot add that header to one.
 */
export class CsrfRefusedError extends QrError {
  constructor(message: string) {
    super("CSRF_REFUSED", message);
  }
}

/**
 * `wxqr qr batch --out-dir`: the directory holds a batch made with other arguments, or a
 * manifest the batch cannot resume from (no record of its arguments, a damaged line). Nothing
 * was created: resuming there would mix two batches in one manifest.
 */
export class BatchDirectoryError extends QrError {
  readonly outDir: string;
  constructor(outDir: string, message: string) {
    super("BATCH_DIRECTORY_CONFLICT", message);
    this.outDir = outDir;
  }
}

/**
 * WeChat refused to create a channel's tag: the account has 100 tags already (45056), the
 * platform's limit. Reusing an existing tag's name, or deleting unused tags in the console, fixes it.
 */
export class TagLimitError extends QrError {
  readonly field = "tag";
  readonly errcode = 45056;
  constructor(name: string, options: QrErrorOptions = {}) {
    super(
      "TAG_LIMIT_REACHED",
      `tag: WeChat refused to create ${JSON.stringify(name)}: the account has 100 tags, the platform's limit (45056); reuse an existing tag's name or delete unused tags in the console`,
      options,
    );
  }
}
