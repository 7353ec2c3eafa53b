/**
 * `loadConfig(env)` is the single entry point for configuration (style.md §4): it validates
 * every variable, reports every problem at once, applies the defaults from one table, rejects
 * unknown `WXQR_*` keys (a typo must not silently fall back to a default) and returns a frozen
 * `Config` whose secrets are redacted when serialised.
 * @module
 */
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { DEFAULT_HTTP_TIMEOUTS, DEFAULT_SSE_STREAM_LIMITS } from "./http-limits.ts";
import { baseUrlProblem, httpUrlProblem } from "./wechat/request.ts";

/** Parsed as `new URL()` will parse it on every request: a typo fails here, not inside fetch. */
const url = z.string().superRefine((v, ctx) => {
  const problem = httpUrlProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});
/** A base the API paths and their queries are appended to. */
const baseUrl = z.string().superRefine((v, ctx) => {
  const problem = baseUrlProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});
const nonEmpty = z.string().trim().min(1, "must not be empty");
const port = z.coerce.number().int("must be a whole number").min(0).max(65_535);
/** Milliseconds, at most a day: a zero would mean "no limit", which is what these variables exist to prevent. */
const millis = z.coerce.number().int("must be a whole number of milliseconds").min(1, "must be at least 1 ms").max(86_400_000);
const count = z.coerce.number().int("must be a whole number").min(1, "must be at least 1");
const onOff = z.enum(["0", "1", "true", "false"], { message: "must be 1 or 0 (true or false)" }).transform((v) => v === "1" || v === "true");

/**
 * variable → [Config key, schema, default, secret?]. Units live in the names or comments. `Config`
 * is derived from this table, so a new variable is one row here (and one in the README).
 */
const VARIABLES = {
  WECHAT_APP_ID: ["appId", nonEmpty, undefined, false],
  WECHAT_APP_SECRET: ["appSecret", nonEmpty, undefined, true],
  // The push Token used for signatures.
  WECHAT_TOKEN: ["token", z.string().regex(/^[A-Za-z0-9]{3,32}$/, "must be 3 to 32 letters or digits (the console's rule)"), undefined, true],
  WECHAT_ENCODING_AES_KEY: ["encodingAESKey", z.string().regex(/^[A-Za-z0-9]{43}$/, "must be exactly 43 letters or digits"), undefined, true],
  WECHAT_API_BASE: ["apiBase", baseUrl, "https://api.weixin.qq.com", false],
  WECHAT_MP_BASE: ["mpBase", baseUrl, "https://mp.weixin.qq.com", false],
  WXQR_DATABASE: ["database", z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, "must be sqlite:<file> or postgres://…"), "sqlite:./wxqr.db", true],
  WXQR_PORT: ["port", port, 3000, false],
  WXQR_HOST: ["host", nonEmpty, "127.0.0.1", false],
  WXQR_ADMIN_TOKEN: ["adminToken", z.string().min(16, "must be at least 16 characters"), undefined, true],
  WXQR_WEBHOOK_URL: ["webhookUrl", url, undefined, false],
  WXQR_WEBHOOK_SECRET: ["webhookSecret", z.string().min(16, "must be at least 16 characters"), undefined, true],
  WXQR_PERMANENT_QUOTA: ["permanentQuota", z.coerce.number().int("must be a whole number").min(0).max(100_000), 100_000, false],
  // Permanent codes kept in reserve: below it, referral codes are temporary.
  WXQR_REFERRAL_RESERVE: ["referralReserve", z.coerce.number().int("must be a whole number").min(0).max(100_000), 1_000, false],
  // The site named in scan-to-login confirmation replies.
  WXQR_SITE_NAME: ["siteName", z.string().trim().min(1, "must not be empty").max(64, "must be at most 64 characters"), "this site", false],
  // Scan-session codes made ahead. The default (2) is the scan-session service's own, SCAN_SESSION_DEFAULTS.warmCodes.
  WXQR_SCAN_SESSION_WARM_CODES: ["scanSessionWarmCodes", z.coerce.number().int("must be a whole number").min(0).max(100), undefined, false],
  // Poster backgrounds (issue #12): largest upload in bytes, largest width and height in pixels;
  // rendered posters kept in memory, in MiB.
  WXQR_POSTER_MAX_BYTES: [
    "posterMaxBytes",
    z.coerce
      .number()
      .int("must be a whole number")
      .min(1_024)
      .max(50 * 1_048_576),
    5 * 1_048_576,
    false,
  ],
  WXQR_POSTER_MAX_SIDE_PX: ["posterMaxSidePx", z.coerce.number().int("must be a whole number").min(100).max(16_384), 4096, false],
  WXQR_POSTER_CACHE_MB: ["posterCacheMb", z.coerce.number().int("must be a whole number").min(0).max(16_384), 64, false],
  // Follow-ups (issue #12): how long after a scan or subscribe the platform lets the account send
  // (1 minute under the current rules, wechat-api.md §10.1); whether a new follower brought by a
  // personal code is sent their poster; the passive reply to a scan of a personal code.
  WXQR_FOLLOW_UP_WINDOW_SECONDS: ["followUpWindowSeconds", z.coerce.number().int("must be a whole number").min(1).max(172_800), 60, false],
  WXQR_REFERRAL_POSTER: ["referralPoster", onOff, true, false],
  WXQR_REFERRAL_WELCOME: ["referralWelcome", z.string().trim().min(1, "must not be empty").max(600, "must be at most 600 characters"), undefined, false],
  WXQR_EMULATOR_URL: ["emulatorUrl", baseUrl, "http://127.0.0.1:3001", false],
  // Stack traces on CLI errors, for bug reports (read by the CLI before any configuration loads).
  WXQR_DEBUG: ["debug", onOff, false, false],
  // A bearer token that reads /metrics only (for a Prometheus scraper).
  WXQR_METRICS_TOKEN: ["metricsToken", z.string().min(16, "must be at least 16 characters"), undefined, true],
  // /metrics and /docs without a token.
  WXQR_PUBLIC_METRICS: ["publicMetrics", onOff, false, false],
  WXQR_PUBLIC_DOCS: ["publicDocs", onOff, false, false],
  // Behind a reverse proxy: the client's address, scheme and host come from X-Forwarded-*.
  WXQR_TRUST_PROXY: ["trustProxy", onOff, false, false],
  WXQR_HTTP_HEADERS_TIMEOUT_MS: ["httpHeadersTimeoutMs", millis, DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs, false],
  WXQR_HTTP_REQUEST_TIMEOUT_MS: ["httpRequestTimeoutMs", millis, DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs, false],
  WXQR_HTTP_KEEP_ALIVE_TIMEOUT_MS: ["httpKeepAliveTimeoutMs", millis, DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMs, false],
  WXQR_HTTP_IDLE_TIMEOUT_MS: ["httpIdleTimeoutMs", millis, DEFAULT_HTTP_TIMEOUTS.idleTimeoutMs, false],
  // Unset: three quarters of the open-file limit, at most 2,000 (`connectionCapFor`).
  WXQR_HTTP_MAX_CONNECTIONS: ["httpMaxConnections", count, undefined, false],
  WXQR_SSE_STREAMS_PER_SESSION: ["sseStreamsPerSession", count, DEFAULT_SSE_STREAM_LIMITS.perSession, false],
  WXQR_SSE_STREAMS_PER_CLIENT: ["sseStreamsPerClient", count, DEFAULT_SSE_STREAM_LIMITS.perClient, false],
} as const satisfies Record<string, readonly [string, z.ZodType, unknown, boolean]>;

type Table = typeof VARIABLES;
type HasDefault<V extends keyof Table> = Table[V][2] extends undefined ? false : true;
type Keyed = { -readonly [V in keyof Table as HasDefault<V> extends true ? Table[V][0] : never]: z.output<Table[V][1]> } & {
  -readonly [V in keyof Table as HasDefault<V> extends true ? never : Table[V][0]]?: z.output<Table[V][1]>;
};

/**
 * The validated configuration, one key per row of the table: typed by the row's schema, and
 * optional where the row has no default. (Mapped once more so editors show one object type.)
 */
export type Config = { [K in keyof Keyed]: Keyed[K] };

export type ConfigVariable = keyof typeof VARIABLES;

const SECRET_KEYS: ReadonlySet<string> = new Set(
  Object.values(VARIABLES)
    .filter((v) => v[3])
    .map((v) => v[0]),
);

/** The environment variable behind a Config key, for error messages. */
export function variableFor(key: keyof Config): ConfigVariable {
  const found = (Object.keys(VARIABLES) as ConfigVariable[]).find((name) => VARIABLES[name][0] === key);
  if (!found) throw new Error(`no variable for ${key}`);
  return found;
}

/**
 * @example
 * const config = loadConfig(process.env); // in a main.ts only
 * config.apiBase; // "https://api.weixin.qq.com" unless WECHAT_API_BASE is set
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Record<ConfigVariable, string>> = {}): Readonly<Config> {
  const problems: ConfigProblem[] = [];
  const merged: Record<string, string | undefined> = { ...env, ...overrides };
  for (const name of Object.keys(merged)) {
    if (name.startsWith("WXQR_") && !(name in VARIABLES) && merged[name] !== undefined) {
      problems.push({
        key: name,
        message: `unknown variable; known ones: ${Object.keys(VARIABLES)
          .filter((k) => k.startsWith("WXQR_"))
          .join(", ")}`,
      });
    }
  }
  const out: Record<string, unknown> = {};
  for (const [name, [key, schema, fallback]] of Object.entries(VARIABLES)) {
    const raw = merged[name];
    if (raw === undefined || raw === "") {
      if (fallback !== undefined) out[key] = fallback;
      continue;
    }
    const parsed = (schema as z.ZodType).safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
    else problems.push({ key: name, message: parsed.error.issues.map((i) => i.message).join(", ") });
  }
  // Node refuses to start a server whose header deadline falls after the whole request's.
  if (typeof out.httpHeadersTimeoutMs === "number" && typeof out.httpRequestTimeoutMs === "number" && out.httpHeadersTimeoutMs > out.httpRequestTimeoutMs) {
    problems.push({ key: "WXQR_HTTP_HEADERS_TIMEOUT_MS", message: "must not exceed WXQR_HTTP_REQUEST_TIMEOUT_MS" });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  Object.defineProperty(out, "toJSON", { enumerable: false, value: () => redact(out) });
  return Object.freeze(out) as unknown as Readonly<Config>;
}

/** Throws one ConfigError naming every missing variable among `keys`. */
export function requireConfig<K extends keyof Config>(
  config: Readonly<Config>,
  keys: readonly K[],
  why: string,
): asserts config is Readonly<Config> & Required<Pick<Config, K>> {
  const missing = keys.filter((k) => config[k] === undefined);
  if (missing.length > 0) throw new ConfigError(missing.map((k) => ({ key: variableFor(k), message: `is required ${why}` })));
}

export function redact(config: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) copy[k] = SECRET_KEYS.has(k) && v !== undefined ? "[redacted]" : v;
  return copy;
}
