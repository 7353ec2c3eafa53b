/**
 * The emulator's options, their defaults (with the platform limits they copy) and their
 * validation. Defaults sit next to their source (wechat-api.md §1 and §7).
 * @module
 */
import { createHash } from "node:crypto";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import type { HttpLimits } from "../http-limits.ts";

/** Endpoints with a daily call quota, named as in the platform's quota table. */
export const QUOTA_ENDPOINTS = ["token", "stable_token", "qrcode/create", "media/upload", "message/custom/send"] as const;
export type QuotaEndpoint = (typeof QUOTA_ENDPOINTS)[number];

/** Every endpoint whose calls are counted (`GET /emulator/counters`). */
export const COUNTED_ENDPOINTS = [
  ...QUOTA_ENDPOINTS,
  "showqrcode",
  // The platform's quota table lists no tags/* rows (wechat-api.md §10.4), so these are counted only.
  "tags/create",
  "tags/get",
  "tags/update",
  "tags/delete",
  "tags/members/batchtagging",
  "tags/members/batchuntagging",
  "tags/getidlist",
  "user/tag/get",
] as const;
export type CountedEndpoint = (typeof COUNTED_ENDPOINTS)[number];

/**
 * Calls a day per endpoint before 45009.
 * @example
 * createEmulator({ appId, appSecret, dailyQuota: { ...DEFAULT_DAILY_QUOTA, token: 2 } });
 */
export const DEFAULT_DAILY_QUOTA: Readonly<Record<QuotaEndpoint, number>> = {
  token: 2_000, // OA-LIMITS "Get access_token | 2000"
  stable_token: 500_000, // SVC-STABLE: 500,000 a day
  "qrcode/create": 100_000, // OA-LIMITS "Get QR code with parameters | 100000"
  "media/upload": 100_000, // wechat-api.md §10.4 (D-lim; older copies say 5,000)
  "message/custom/send": 500_000, // wechat-api.md §10.4 (D-lim)
};

/** The kinds of temporary media `media/upload` takes (wechat-api.md §10.2). */
export const MEDIA_TYPES = ["image", "voice", "video", "thumb"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/**
 * Largest upload per media type, in bytes, before 40006.
 * @example
 * createEmulator({ appId, appSecret, mediaMaxBytes: { image: 2 * 1_048_576 } }); // the older 2 MB rule
 */
export const DEFAULT_MEDIA_MAX_BYTES: Readonly<Record<MediaType, number>> = {
  image: 10 * 1_048_576, // D-up "其他补充" and D-upEN: 10 MB (the same page's note and older docs: 2 MB)
  voice: 2 * 1_048_576, // D-up: 2 MB
  video: 10 * 1_048_576, // D-up: 10 MB
  thumb: 64 * 1_024, // D-up: 64 KB
};
/** Uploads larger than any configurable limit are cut off unread. */
export const MEDIA_MAX_BYTES_CAP = 64 * 1_048_576;
export const DEFAULT_MEDIA_TTL_SECONDS = 3 * 86_400; // D-up: a media_id is valid for 3 days

/** How many customer-service messages one interaction allows, and for how long (wechat-api.md §10.1). */
export interface SendWindow {
  messages: number;
  seconds: number;
}

/** The two kinds of interaction that open a window: an event (subscribe, scan) and the user's own message. */
export interface SendWindows {
  afterEvent: SendWindow;
  afterUserMessage: SendWindow;
}

/**
 * The current rules (D-send, D-kf); older documents say 20 messages, or no limit, within 48 h for
 * every interaction, hence the option.
 * @example
 * createEmulator({ appId, appSecret, sendWindows: { afterEvent: { messages: 20, seconds: 172_800 } } }); // the pre-2021 rule
 */
export const DEFAULT_SEND_WINDOWS: Readonly<SendWindows> = {
  afterEvent: { messages: 3, seconds: 60 }, // a subscribe or a QR scan: 3 messages within 1 minute
  afterUserMessage: { messages: 5, seconds: 48 * 3_600 }, // the user writes: 5 messages within 48 hours
};
export const DEFAULT_PERMANENT_QUOTA = 100_000; // OA-QR: at most 100,000 permanent codes per account
export const DEFAULT_TOKEN_TTL_SECONDS = 7_200; // OA-ACCESS: tokens live 7200 s
export const DEFAULT_PUSH_TIMEOUT_MS = 5_000; // OA-REPLY: no answer within 5 s and WeChat drops the connection…
export const DEFAULT_PUSH_MAX_RETRIES = 3; // …and sends the same message again, three times in total (wechat-api.md §4)
export const PUSH_TIMEOUT_MS_MAX = 60_000;
export const PUSH_MAX_RETRIES_MAX = 10;

/** How pushes travel (wechat-api.md §6): plain XML, plain plus `<Encrypt>`, or only `<Encrypt>`. */
export const PUSH_MODES = ["plain", "compatible", "safe"] as const;
export type PushMode = (typeof PUSH_MODES)[number];

/**
 * Where and how the emulator pushes events: the account's "server configuration" in the console.
 * @example
 * const push: PushOptions = { url: "http://127.0.0.1:3000/wechat", token: "t0ken", encodingAESKey, mode: "safe" };
 */
export interface PushOptions {
  /** The server URL pushes are POSTed to. */
  url: string;
  /** The Token from the console (3–32 letters or digits), used for `signature` and `msg_signature`. */
  token: string;
  /** The 43-character EncodingAESKey; required for `compatible` and `safe`. */
  encodingAESKey?: string | undefined;
  /** Default `plain`. */
  mode?: PushMode | undefined;
  /** The account's original id, sent as `ToUserName`. Default `gh_` + 12 hex digits derived from the AppID. */
  originalId?: string | undefined;
  /** How long one delivery attempt may take. Default 5,000 ms, like WeChat. */
  timeoutMs?: number | undefined;
  /** Further attempts after a timeout, a connection error or a non-2xx answer. Default 3, like WeChat. */
  maxRetries?: number | undefined;
}

/** A validated push configuration. */
export interface PushTarget {
  url: string;
  token: string;
  encodingAESKey: string | undefined;
  mode: PushMode;
  timeoutMs: number;
  maxRetries: number;
}

/** Where request logs go when `logger` is an object (tests pass a `stream` to read them). */
export interface EmulatorLogOptions {
  /** pino level; default `"info"`. */
  level?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Destination of the JSON log lines; default stdout. */
  stream?: { write(line: string): void };
}

/**
 * @example
 * const options: EmulatorOptions = { appId: "wx0123456789abcdef", appSecret: "s3cret", permanentQuota: 3, logger: true };
 */
export interface EmulatorOptions {
  /** The account's AppID, e.g. `wx0123456789abcdef`. */
  appId: string;
  /** The account's AppSecret; never logged, never returned by control endpoints. */
  appSecret: string;
  /** Permanent codes the account may create in total. Default 100,000. */
  permanentQuota?: number;
  /** Calls a day per endpoint before 45009. Defaults: token 2,000, stable_token 500,000, qrcode/create 100,000. */
  dailyQuota?: Partial<Record<QuotaEndpoint, number>>;
  /** Lifetime of issued access tokens. Default 7,200 s. */
  tokenTtlSeconds?: number;
  /** Largest `media/upload` per type before 40006. Defaults: image 10 MB, voice 2 MB, video 10 MB, thumb 64 KB. */
  mediaMaxBytes?: Partial<Record<MediaType, number>>;
  /** How long a `media_id` answers. Default 3 days (259,200 s). */
  mediaTtlSeconds?: number;
  /** Customer-service windows. Defaults: 3 messages within 60 s after a subscribe or scan, 5 within 48 h after a user's message. */
  sendWindows?: { afterEvent?: Partial<SendWindow>; afterUserMessage?: Partial<SendWindow> };
  /** Fastify request logging (pino), with `access_token` and `secret` redacted from URLs. Default off. */
  logger?: boolean | EmulatorLogOptions;
  /** Where scan, follow and unfollow events are pushed; also settable at run time with `PUT /emulator/push`. Default: none. */
  push?: PushOptions;
  /** Socket timeouts and the connection cap, as for the service (`http-limits.ts`); a dev tool must not be trivially exhaustible either. */
  http?: Partial<HttpLimits>;
  /**
   * Keep the state in this JSON file (`state-file.ts` says what is in it): read at start when it
   * exists, written shortly after every change and at `close()`. Default: memory only.
   */
  stateFile?: string;
  /** Where the built phone page is (`index.html` and its assets). Default: `dist/web/phone` of this package. */
  phonePageDir?: string;
}

export interface EmulatorConfig {
  appId: string;
  appSecret: string;
  permanentQuota: number;
  dailyQuota: Record<QuotaEndpoint, number>;
  tokenTtlSeconds: number;
  mediaMaxBytes: Record<MediaType, number>;
  mediaTtlSeconds: number;
  sendWindows: SendWindows;
  /** The account's original id (`gh_…`), the `ToUserName` of every push. */
  originalId: string;
  /** `undefined` until a push URL is configured. */
  push: PushTarget | undefined;
}

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** Applies defaults and reports every problem at once (a `ConfigError`). */
export function resolveEmulatorConfig(options: EmulatorOptions): EmulatorConfig {
  const problems: ConfigProblem[] = [];
  if (typeof options.appId !== "string" || options.appId.length === 0) problems.push({ key: "appId", message: "required" });
  if (typeof options.appSecret !== "string" || options.appSecret.length === 0) {
    problems.push({ key: "appSecret", message: "required" });
  }
  const permanentQuota = options.permanentQuota ?? DEFAULT_PERMANENT_QUOTA;
  if (!isCount(permanentQuota)) problems.push({ key: "permanentQuota", message: "must be a whole number ≥ 0" });
  const tokenTtlSeconds = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!isCount(tokenTtlSeconds) || tokenTtlSeconds < 1) {
    problems.push({ key: "tokenTtlSeconds", message: "must be a whole number of seconds ≥ 1" });
  }
  const dailyQuota = { ...DEFAULT_DAILY_QUOTA };
  for (const [key, value] of Object.entries(options.dailyQuota ?? {})) {
    if (!(QUOTA_ENDPOINTS as readonly string[]).includes(key)) {
      problems.push({ key: `dailyQuota.${key}`, message: `unknown endpoint; expected one of ${QUOTA_ENDPOINTS.join(", ")}` });
    } else if (value !== undefined) {
      if (isCount(value)) dailyQuota[key as QuotaEndpoint] = value;
      else problems.push({ key: `dailyQuota.${key}`, message: "must be a whole number ≥ 0" });
    }
  }
  const mediaMaxBytes = { ...DEFAULT_MEDIA_MAX_BYTES };
  for (const [key, value] of Object.entries(options.mediaMaxBytes ?? {})) {
    if (!(MEDIA_TYPES as readonly string[]).includes(key)) {
      problems.push({ key: `mediaMaxBytes.${key}`, message: `unknown media type; expected one of ${MEDIA_TYPES.join(", ")}` });
    } else if (value !== undefined) {
      if (isCount(value) && value >= 1 && value <= MEDIA_MAX_BYTES_CAP) mediaMaxBytes[key as MediaType] = value;
      else problems.push({ key: `mediaMaxBytes.${key}`, message: `must be a whole number of bytes from 1 to ${MEDIA_MAX_BYTES_CAP}` });
    }
  }
  const mediaTtlSeconds = options.mediaTtlSeconds ?? DEFAULT_MEDIA_TTL_SECONDS;
  if (!isCount(mediaTtlSeconds) || mediaTtlSeconds < 1) problems.push({ key: "mediaTtlSeconds", message: "must be a whole number of seconds ≥ 1" });
  const sendWindows = resolveSendWindows(options.sendWindows, problems);
  const originalId = options.push?.originalId ?? defaultOriginalId(String(options.appId));
  if (!WECHAT_ID_RE.test(originalId)) problems.push({ key: "push.originalId", message: "must be 1 to 64 letters, digits, _ or -, like gh_7f083739789a" });
  const push = options.push === undefined ? undefined : checkPushOptions(options.push, problems, "push.");
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    appId: options.appId,
    appSecret: options.appSecret,
    permanentQuota,
    dailyQuota,
    tokenTtlSeconds,
    mediaMaxBytes,
    mediaTtlSeconds,
    sendWindows,
    originalId,
    push,
  };
}

function resolveSendWindows(given: EmulatorOptions["sendWindows"], problems: ConfigProblem[]): SendWindows {
  const windows: SendWindows = { afterEvent: { ...DEFAULT_SEND_WINDOWS.afterEvent }, afterUserMessage: { ...DEFAULT_SEND_WINDOWS.afterUserMessage } };
  for (const kind of ["afterEvent", "afterUserMessage"] as const) {
    const { messages, seconds } = given?.[kind] ?? {};
    if (messages !== undefined) {
      if (isCount(messages)) windows[kind].messages = messages;
      else problems.push({ key: `sendWindows.${kind}.messages`, message: "must be a whole number ≥ 0" });
    }
    if (seconds !== undefined) {
      if (isCount(seconds)) windows[kind].seconds = seconds;
      else problems.push({ key: `sendWindows.${kind}.seconds`, message: "must be a whole number of seconds ≥ 0" });
    }
  }
  return windows;
}

/** openIds and original ids (`gh_…`) as the emulator accepts them. */
export const WECHAT_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN_RE = /^[A-Za-z0-9]{3,32}$/; // the console's rule for the Token
const AES_KEY_RE = /^[A-Za-z0-9]{43}$/;

/**
 * The `gh_` id an account gets when none is given: 12 hex digits of SHA-1 of the AppID, so the
 * same AppID always has the same id.
 * @example
 * defaultOriginalId("wx0123456789abcdef"); // "gh_" + 12 hex digits
 */
export function defaultOriginalId(appId: string): string {
  return `gh_${createHash("sha1").update(appId).digest("hex").slice(0, 12)}`;
}

/**
 * Checks push options, appending every problem (keys prefixed by `prefix`), and returns the
 * target with its defaults, or `undefined` when there were problems.
 */
export function checkPushOptions(options: PushOptions, problems: ConfigProblem[], prefix = ""): PushTarget | undefined {
  const before = problems.length;
  const { url, token, encodingAESKey } = options;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    problems.push({ key: `${prefix}url`, message: "must be an http(s) URL, the server URL of the console" });
  }
  if (typeof token !== "string" || !TOKEN_RE.test(token)) {
    problems.push({ key: `${prefix}token`, message: "must be 3 to 32 letters or digits (the console's rule for the Token)" });
  }
  if (encodingAESKey !== undefined && (typeof encodingAESKey !== "string" || !AES_KEY_RE.test(encodingAESKey))) {
    problems.push({ key: `${prefix}encodingAESKey`, message: "must be exactly 43 letters or digits" });
  }
  const mode = options.mode ?? "plain";
  if (!(PUSH_MODES as readonly string[]).includes(mode)) {
    problems.push({ key: `${prefix}mode`, message: `must be one of ${PUSH_MODES.join(", ")}` });
  } else if (mode !== "plain" && encodingAESKey === undefined) {
    problems.push({ key: `${prefix}encodingAESKey`, message: `is required in ${mode} mode (the 43-character EncodingAESKey)` });
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  if (!isCount(timeoutMs) || timeoutMs < 1 || timeoutMs > PUSH_TIMEOUT_MS_MAX) {
    problems.push({ key: `${prefix}timeoutMs`, message: `must be a whole number of milliseconds from 1 to ${PUSH_TIMEOUT_MS_MAX}` });
  }
  const maxRetries = options.maxRetries ?? DEFAULT_PUSH_MAX_RETRIES;
  if (!isCount(maxRetries) || maxRetries > PUSH_MAX_RETRIES_MAX) {
    problems.push({ key: `${prefix}maxRetries`, message: `must be a whole number from 0 to ${PUSH_MAX_RETRIES_MAX}` });
  }
  if (problems.length > before) return undefined;
  return { url, token, encodingAESKey, mode, timeoutMs, maxRetries };
}
