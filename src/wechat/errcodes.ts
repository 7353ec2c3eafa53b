/**
 * The one place that maps a WeChat errcode to an error class (style.md §3). Codes from
 * wechat-api.md §1, §7 and §10; anything not listed is a plain `WeChatApiError`. The limits of
 * customer-service windows and tags (45015, 45047, 45056, 45059) stay plain `WeChatApiError`s:
 * not retryable, and the caller decides on the errcode (record it, stop sending).
 * @module
 */
import {
  AccessTokenInvalidError,
  CredentialsError,
  InvalidArgumentError,
  PermissionError,
  QrQuotaExceededError,
  RateLimitError,
  WeChatApiError,
  WeChatBusyError,
  type WeChatApiErrorInit,
} from "../errors.ts";

type ErrorFactory = new (init: WeChatApiErrorInit) => WeChatApiError;

const BY_ERRCODE: ReadonlyMap<number, ErrorFactory> = new Map<number, ErrorFactory>([
  [-1, WeChatBusyError],
  // Token rejections a refresh can cure (WxJava's ACCESS_TOKEN_ERROR_CODES, plus 41001).
  [40001, AccessTokenInvalidError],
  [40014, AccessTokenInvalidError],
  [41001, AccessTokenInvalidError],
  [42001, AccessTokenInvalidError],
  [40002, CredentialsError],
  [40013, CredentialsError],
  [40125, CredentialsError],
  [40243, CredentialsError],
  [41002, CredentialsError],
  [41004, CredentialsError],
  [45009, RateLimitError],
  [45011, RateLimitError],
  [48001, PermissionError],
  [40164, PermissionError],
  [45029, QrQuotaExceededError],
  [40035, InvalidArgumentError],
  [40052, InvalidArgumentError],
  [40053, InvalidArgumentError],
  [47001, InvalidArgumentError],
  // §10: media, customer-service messages and tags.
  [40003, InvalidArgumentError],
  [40004, InvalidArgumentError],
  [40005, InvalidArgumentError],
  [40006, InvalidArgumentError],
  [40007, InvalidArgumentError],
  [40008, InvalidArgumentError],
  [40032, InvalidArgumentError],
  [41005, InvalidArgumentError],
  [44004, InvalidArgumentError],
  [45002, InvalidArgumentError],
  [45008, InvalidArgumentError],
  [45157, InvalidArgumentError],
  [45158, InvalidArgumentError],
  [45159, InvalidArgumentError],
]);

/**
 * What the errcodes of wechat-api.md §10 mean, for logs and the outbox's records.
 * @example
 * ERRCODE_MEANINGS[45015]; // "no customer-service window is open for the user, or they unfollowed"
 */
export const ERRCODE_MEANINGS: Readonly<Record<number, string>> = {
  40003: "the OpenID is not a user of this account",
  40004: "media/upload: the type is not image, voice, video or thumb",
  40005: "media/upload: the file's format is not allowed for its type",
  40006: "media/upload: the file is larger than its type allows",
  40007: "the media_id is unknown or expired (temporary media live 3 days)",
  40008: "custom/send: unknown msgtype",
  40032: "batch tagging: the openid_list is empty or longer than 50",
  41005: "media/upload: no file in the multipart part `media`",
  44004: "custom/send: the text is empty",
  45002: "custom/send: the text is too long",
  45008: "custom/send: a news message has more than one article",
  45015: "no customer-service window is open for the user, or they unfollowed",
  45047: "the customer-service window's messages are used up",
  45056: "the account has 100 tags already",
  45057: "a tag with more than 100,000 followers cannot be deleted",
  45058: "system tags (0, 1, 2) cannot be changed or deleted",
  45059: "the user already has 20 tags",
  45157: "the tag name is empty or already used",
  45158: "the tag name is longer than 30 UTF-8 bytes",
  45159: "the tag id is unknown",
};

/** On the token endpoints 40001 means a wrong AppSecret, not a stale token (wechat-api.md §7). */
const TOKEN_ENDPOINT_OVERRIDES: ReadonlyMap<number, ErrorFactory> = new Map<number, ErrorFactory>([[40001, CredentialsError]]);

export function errorForErrcode(init: WeChatApiErrorInit, onTokenEndpoint = false): WeChatApiError {
  const Factory = (onTokenEndpoint ? TOKEN_ENDPOINT_OVERRIDES.get(init.errcode) : undefined) ?? BY_ERRCODE.get(init.errcode) ?? WeChatApiError;
  return new Factory(init);
}
