/**
 * The one place that maps a WeChat errcode to an error class (style.md §3). Codes from
 * wechat-api.md §1 and §7; anything not listed is a plain `WeChatApiError`.
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
]);

/** On the token endpoints 40001 means a wrong AppSecret, not a stale token (wechat-api.md §7). */
const TOKEN_ENDPOINT_OVERRIDES: ReadonlyMap<number, ErrorFactory> = new Map<number, ErrorFactory>([[40001, CredentialsError]]);

export function errorForErrcode(init: WeChatApiErrorInit, onTokenEndpoint = false): WeChatApiError {
  const Factory = (onTokenEndpoint ? TOKEN_ENDPOINT_OVERRIDES.get(init.errcode) : undefined) ?? BY_ERRCODE.get(init.errcode) ?? WeChatApiError;
  return new Factory(init);
}
