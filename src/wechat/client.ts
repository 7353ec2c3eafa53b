/**
 * The typed WeChat API client: access tokens, parametric QR codes, temporary media,
 * customer-service messages and user tags, with the retry rules
 * of design.md (refresh a rejected token once; back off on -1; never loop).
 * @module
 */
import { withDefaults, type Deps } from "../deps.ts";
import { AccessTokenInvalidError, ConfigError, type ConfigProblem } from "../errors.ts";
import { redactQueries } from "../redact.ts";
import { createAccessTokenManager, type AccessTokenManager } from "./access-token.ts";
import { baseUrlProblem, DEFAULT_RETRY, requestJson, withRetries, type RetryPolicy, type Transport } from "./request.ts";
import { createQrCodesApi, downloadShowQrCode, type QrCodesApi, type QrImage } from "./qr-ticket.ts";
import { createMemoryTokenStore, type TokenStore } from "./token-store.ts";
import { sendCustomMessage, type CustomMessage } from "./custom-message.ts";
import { uploadMedia, type MediaType, type UploadedMedia } from "./media.ts";
import { batchTag, createTag, getTagIdsOf, getTags, type Tag, type TagWithCount } from "./tags.ts";

export const DEFAULT_API_BASE = "https://api.weixin.qq.com";
export const DEFAULT_MP_BASE = "https://mp.weixin.qq.com";
const DEFAULT_TIMEOUT_MS = 10_000;

export interface WeChatClientOptions {
  appId: string;
  appSecret: string;
  /** API host; point it at the emulator in tests. */
  apiBase?: string;
  /** showqrcode host. */
  mpBase?: string;
  /** Shared token storage; give every process the same database-backed store. Default: this process's memory. */
  tokenStore?: TokenStore;
  /** `stable_token` (default, true) or the classic `/cgi-bin/token`, which invalidates other processes' tokens. */
  useStableToken?: boolean;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface CallOptions {
  method?: "GET" | "POST";
  query?: Record<string, string | undefined>;
  json?: unknown;
  /** A multipart body, sent as POST. */
  form?: FormData;
}

export interface WeChatClient {
  readonly appId: string;
  readonly accessToken: AccessTokenManager;
  /** Calls any token-authenticated API, with the same token and retry handling as the typed methods. */
  call<T>(path: string, options?: CallOptions): Promise<T>;
  readonly qrcodes: QrCodesApi;
  /** `media/upload`: a temporary media_id, valid 3 days (`expiresAt`). */
  uploadMedia(type: MediaType, bytes: Uint8Array, filename: string, contentType: string): Promise<UploadedMedia>;
  /** `message/custom/send`: a text or an image; 45015 / 45047 when the user's window is closed or used up. */
  sendCustomMessage(message: CustomMessage): Promise<void>;
  /** `tags/create`. */
  createTag(name: string): Promise<Tag>;
  /** `tags/get`, with each tag's follower count. */
  getTags(): Promise<TagWithCount[]>;
  /** `tags/members/batchtagging`, 1 to 50 OpenIDs (a `ValidationError` otherwise, before sending). */
  batchTag(tagId: number, openIds: readonly string[]): Promise<void>;
  /** `tags/getidlist`: the tag ids a user carries. */
  getTagIdsOf(openId: string): Promise<number[]>;
}

/**
 * @example
 * const wechat = createWeChatClient({ appId: "wx…", appSecret: "…" });
 * const code = await wechat.qrcodes.createTemporary({ sceneStr: "poster-7", expireSeconds: 86_400 });
 * console.log(code.url); // render it with renderPng(code.url)
 */
export function createWeChatClient(options: WeChatClientOptions, deps?: Partial<Deps>): WeChatClient {
  checkOptions(options);
  const d = withDefaults(deps, ["clock", "random", "fetch", "logger"]);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const api: Transport = { baseUrl: options.apiBase ?? DEFAULT_API_BASE, fetch: d.fetch, timeoutMs };
  const mp: Transport = { baseUrl: options.mpBase ?? DEFAULT_MP_BASE, fetch: d.fetch, timeoutMs };
  const accessToken = createAccessTokenManager(
    {
      appId: options.appId,
      appSecret: options.appSecret,
      useStableToken: options.useStableToken ?? true,
      store: options.tokenStore ?? createMemoryTokenStore(),
      transport: api,
      retry,
    },
    d,
  );

  async function call<T>(path: string, callOptions: CallOptions = {}): Promise<T> {
    const method = callOptions.method ?? (callOptions.json === undefined && callOptions.form === undefined ? "GET" : "POST");
    let refreshed = false;
    for (;;) {
      const token = await accessToken.get();
      try {
        return await withRetries(retry, d, () =>
          requestJson<T>(api, { method, path, query: { ...callOptions.query, access_token: token }, json: callOptions.json, form: callOptions.form }),
        );
      } catch (err) {
        // One refresh, one resend: a token that fails twice is a real problem, not a race.
        if (!(err instanceof AccessTokenInvalidError) || refreshed) throw err;
        refreshed = true;
        d.logger.warn({ appId: options.appId, path, errcode: err.errcode }, "access token rejected; refreshing once");
        await accessToken.reject(token);
      }
    }
  }

  const qrcodes = createQrCodesApi({
    post: (path, json) => call(path, { method: "POST", json }),
    mp,
    clock: d.clock,
  });

  return {
    appId: options.appId,
    accessToken,
    call,
    qrcodes,
    uploadMedia: (type, bytes, filename, contentType) => uploadMedia(call, type, bytes, filename, contentType),
    sendCustomMessage: (message) => sendCustomMessage(call, message),
    createTag: (name) => createTag(call, name),
    getTags: () => getTags(call),
    batchTag: (tagId, openIds) => batchTag(call, tagId, openIds),
    getTagIdsOf: (openId) => getTagIdsOf(call, openId),
  };
}

/**
 * showqrcode needs no credentials, so fetching a ticket's image needs no client.
 * @example
 * const { bytes } = await downloadQrImage(ticket); // JPEG from mp.weixin.qq.com
 */
export function downloadQrImage(ticket: string, options: { mpBase?: string; timeoutMs?: number } = {}, deps?: Partial<Pick<Deps, "fetch">>): Promise<QrImage> {
  const { fetch } = withDefaults(deps, ["fetch"]);
  const problem = options.mpBase === undefined ? undefined : baseUrlProblem(options.mpBase);
  if (problem !== undefined) return Promise.reject(new ConfigError([{ key: "mpBase", message: problem }]));
  return downloadShowQrCode({ baseUrl: options.mpBase ?? DEFAULT_MP_BASE, fetch, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }, ticket);
}

function checkOptions(options: WeChatClientOptions): void {
  const problems: ConfigProblem[] = [];
  if (typeof options.appId !== "string" || options.appId.trim() === "") problems.push({ key: "appId", message: "is required" });
  if (typeof options.appSecret !== "string" || options.appSecret.trim() === "") problems.push({ key: "appSecret", message: "is required" });
  for (const key of ["apiBase", "mpBase"] as const) {
    const v = options[key];
    const problem = v === undefined ? undefined : baseUrlProblem(v);
    if (problem !== undefined) problems.push({ key, message: `${problem}, got ${JSON.stringify(redactQueries(String(v)))}` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
