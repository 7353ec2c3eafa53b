import { describe, expect, expectTypeOf, it } from "vitest";
import { loadConfig, requireConfig, type Config } from "./config.ts";
import { ConfigError } from "./errors.ts";

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => p.key);
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies the defaults of design.md", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      apiBase: "https://api.weixin.qq.com",
      mpBase: "https://mp.weixin.qq.com",
      database: "sqlite:./wxqr.db",
      port: 3000,
      host: "127.0.0.1",
      permanentQuota: 100_000,
      emulatorUrl: "http://127.0.0.1:3001",
      referralReserve: 1_000,
      siteName: "this site",
      publicMetrics: false,
      publicDocs: false,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 20_000,
      httpKeepAliveTimeoutMs: 5_000,
      httpIdleTimeoutMs: 30_000,
      sseStreamsPerSession: 3,
      sseStreamsPerClient: 20,
    });
    expect(config.metricsToken).toBeUndefined();
    expect(config.httpMaxConnections).toBeUndefined(); // derived from the open-file limit at start
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reports every problem at once", () => {
    expect(problemsOf(() => loadConfig({ WECHAT_ENCODING_AES_KEY: "short", WXQR_PORT: "http", WXQR_PORTT: "1", WECHAT_API_BASE: "ftp://x" })).sort()).toEqual([
      "WECHAT_API_BASE",
      "WECHAT_ENCODING_AES_KEY",
      "WXQR_PORT",
      "WXQR_PORTT",
    ]);
  });

  it.each(["http://[::1", "http://[::1]:3001?x=1", "https://", "http://exa mple.com", "mailto:a@b.c", "https://user:pw@api.example.com"])(
    "refuses %j as a base URL, as new URL() would",
    (value) => {
      expect(problemsOf(() => loadConfig({ WECHAT_API_BASE: value, WECHAT_MP_BASE: value, WXQR_EMULATOR_URL: value })).sort()).toEqual([
        "WECHAT_API_BASE",
        "WECHAT_MP_BASE",
        "WXQR_EMULATOR_URL",
      ]);
    },
  );

  it("accepts IPv6 and path bases, and a webhook URL with a query", () => {
    const config = loadConfig({
      WECHAT_API_BASE: "http://[::1]:3001",
      WECHAT_MP_BASE: "http://127.0.0.1:3001/mp",
      WXQR_WEBHOOK_URL: "https://hooks.example.com/wxqr?team=7",
    });
    expect(config).toMatchObject({ apiBase: "http://[::1]:3001", mpBase: "http://127.0.0.1:3001/mp", webhookUrl: "https://hooks.example.com/wxqr?team=7" });
    expect(problemsOf(() => loadConfig({ WXQR_WEBHOOK_URL: "http://[::1" }))).toEqual(["WXQR_WEBHOOK_URL"]);
  });

  it("accepts a 43-character EncodingAESKey and parses numbers", () => {
    const config = loadConfig({ WECHAT_ENCODING_AES_KEY: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", WXQR_PORT: "8080" });
    expect(config.encodingAESKey).toHaveLength(43);
    expect(config.port).toBe(8080);
  });

  it("reads the referral reserve and the site name, refusing bad values", () => {
    expect(loadConfig({ WXQR_REFERRAL_RESERVE: "250", WXQR_SITE_NAME: " Example Shop " })).toMatchObject({ referralReserve: 250, siteName: "Example Shop" });
    expect(problemsOf(() => loadConfig({ WXQR_REFERRAL_RESERVE: "-1", WXQR_SITE_NAME: "x".repeat(65) })).sort()).toEqual([
      "WXQR_REFERRAL_RESERVE",
      "WXQR_SITE_NAME",
    ]);
  });

  it("reads the scan sessions' warm codes (0 makes none), leaving the default to the service", () => {
    expect(loadConfig({}).scanSessionWarmCodes).toBeUndefined();
    expect(loadConfig({ WXQR_SCAN_SESSION_WARM_CODES: "0" }).scanSessionWarmCodes).toBe(0);
    expect(loadConfig({ WXQR_SCAN_SESSION_WARM_CODES: "8" }).scanSessionWarmCodes).toBe(8);
    for (const bad of ["-1", "2.5", "101", "many"])
      expect(problemsOf(() => loadConfig({ WXQR_SCAN_SESSION_WARM_CODES: bad }))).toEqual(["WXQR_SCAN_SESSION_WARM_CODES"]);
  });

  it("reads the metrics token and the switches that open /metrics and /docs, refusing bad values", () => {
    expect(loadConfig({ WXQR_PUBLIC_METRICS: "1", WXQR_PUBLIC_DOCS: "false", WXQR_METRICS_TOKEN: "scraper-token-0123456789" })).toMatchObject({
      publicMetrics: true,
      publicDocs: false,
      metricsToken: "scraper-token-0123456789",
    });
    expect(loadConfig({ WXQR_PUBLIC_DOCS: "true" })).toMatchObject({ publicMetrics: false, publicDocs: true });
    expect(problemsOf(() => loadConfig({ WXQR_PUBLIC_METRICS: "yes", WXQR_METRICS_TOKEN: "short" })).sort()).toEqual([
      "WXQR_METRICS_TOKEN",
      "WXQR_PUBLIC_METRICS",
    ]);
  });

  it("reads the HTTP limits and the SSE bounds, refusing values that would switch a limit off", () => {
    expect(
      loadConfig({
        WXQR_HTTP_HEADERS_TIMEOUT_MS: "300",
        WXQR_HTTP_REQUEST_TIMEOUT_MS: "600",
        WXQR_HTTP_KEEP_ALIVE_TIMEOUT_MS: "200",
        WXQR_HTTP_IDLE_TIMEOUT_MS: "20000",
        WXQR_HTTP_MAX_CONNECTIONS: "500",
        WXQR_SSE_STREAMS_PER_SESSION: "1",
        WXQR_SSE_STREAMS_PER_CLIENT: "5",
      }),
    ).toMatchObject({
      httpHeadersTimeoutMs: 300,
      httpRequestTimeoutMs: 600,
      httpKeepAliveTimeoutMs: 200,
      httpIdleTimeoutMs: 20_000,
      httpMaxConnections: 500,
      sseStreamsPerSession: 1,
      sseStreamsPerClient: 5,
    });
    expect(
      problemsOf(() => loadConfig({ WXQR_HTTP_REQUEST_TIMEOUT_MS: "0", WXQR_HTTP_MAX_CONNECTIONS: "-3", WXQR_SSE_STREAMS_PER_CLIENT: "0" })).sort(),
    ).toEqual(["WXQR_HTTP_MAX_CONNECTIONS", "WXQR_HTTP_REQUEST_TIMEOUT_MS", "WXQR_SSE_STREAMS_PER_CLIENT"]);
    // Node refuses a headers deadline after the whole request's.
    expect(problemsOf(() => loadConfig({ WXQR_HTTP_HEADERS_TIMEOUT_MS: "25000" }))).toEqual(["WXQR_HTTP_HEADERS_TIMEOUT_MS"]);
  });

  it("redacts the metrics token when serialised", () => {
    expect(JSON.stringify(loadConfig({ WXQR_METRICS_TOKEN: "scraper-token-0123456789" }))).not.toContain("scraper-token");
  });

  it("redacts secrets when serialised", () => {
    const config = loadConfig({ WECHAT_APP_ID: "wx1", WECHAT_APP_SECRET: "s3cret-value", WECHAT_TOKEN: "tok123" });
    const json = JSON.stringify(config);
    expect(json).toContain("wx1");
    expect(json).not.toContain("s3cret-value");
    expect(json).not.toContain("tok123");
  });

  it("names the missing variables for a command", () => {
    const config = loadConfig({ WECHAT_APP_ID: "wx1" });
    expect(problemsOf(() => requireConfig(config, ["appId", "appSecret"], "to call the API"))).toEqual(["WECHAT_APP_SECRET"]);
  });

  it("types each key by its variable's schema, optional where the variable has no default", () => {
    // Checked by `tsc` (npm run lint): the Config type is derived from the table, not written out.
    expectTypeOf<Pick<Config, "appId" | "port" | "publicDocs" | "httpMaxConnections">>().toEqualTypeOf<{
      appId?: string;
      port: number;
      publicDocs: boolean;
      httpMaxConnections?: number;
    }>();
    const config = loadConfig({ WXQR_PORT: "8080", WXQR_PUBLIC_DOCS: "1" });
    expect([config.appId, config.port, config.publicDocs, config.httpMaxConnections]).toEqual([undefined, 8080, true, undefined]);
  });

  it("knows WXQR_DEBUG, which the README offers for stack traces, instead of refusing it as unknown", () => {
    expect(loadConfig({ WXQR_DEBUG: "1" }).debug).toBe(true);
    expect(loadConfig({}).debug).toBe(false);
    expect(problemsOf(() => loadConfig({ WXQR_DEBUG: "yes" }))).toEqual(["WXQR_DEBUG"]);
  });
});
