/**
 * Issue #8 item 7: `/metrics` and `/docs` are for the operator. Without a token they answer 401
 * unless opened by configuration; the admin token reads both; WXQR_METRICS_TOKEN reads `/metrics`
 * and nothing else. Checked on the harness (buildServer over loopback) and on `startService` as
 * `wxqr serve` runs it, from the environment.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_REQUIRES, startService, type RunningService } from "../../src/cli/start-service.ts";
import { loadConfig, requireConfig } from "../../src/config.ts";
import { createSeededRandom, silentLogger, systemClock, systemTimer } from "../../src/deps.ts";
import { sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { ADMIN_TOKEN, startServiceHarness, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const METRICS_TOKEN = "metrics-token-for-tests-0123456";

let factory: DatabaseFactory;
const harnesses: ServiceHarness[] = [];

beforeAll(() => {
  factory = sqliteFactory();
});
afterEach(async () => {
  await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
});
afterAll(async () => {
  await factory.cleanup();
});

async function start(server: ServiceHarnessOptions["server"]): Promise<ServiceHarness> {
  const { db } = await factory.create();
  const h = await startServiceHarness({ db, server });
  harnesses.push(h);
  return h;
}

async function status(url: string, token?: string): Promise<number> {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status;
}

describe("/metrics and /docs access (harness)", () => {
  it("closed by default: 401 without a token or with a wrong one, 200 with the admin token", async () => {
    const h = await start({ metricsToken: METRICS_TOKEN });
    for (const path of ["/metrics", "/docs"]) {
      expect(await status(`${h.serviceUrl}${path}`), path).toBe(401);
      expect(await status(`${h.serviceUrl}${path}`, "wrong-token-0123456789"), path).toBe(401);
      expect(await status(`${h.serviceUrl}${path}`, ADMIN_TOKEN), path).toBe(200);
    }
    const refused = await h.api("GET", "/metrics", undefined, { token: null });
    expect(refused.body).toMatchObject({ error: "UNAUTHORIZED" });
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("WXQR_METRICS_TOKEN reads /metrics only: not /docs, not /api", async () => {
    const h = await start({ metricsToken: METRICS_TOKEN });
    expect(await status(`${h.serviceUrl}/metrics`, METRICS_TOKEN)).toBe(200);
    expect(await status(`${h.serviceUrl}/docs`, METRICS_TOKEN)).toBe(401);
    expect(await status(`${h.serviceUrl}/api/channels`, METRICS_TOKEN)).toBe(401);
    expect(await status(`${h.serviceUrl}/api/channels`, ADMIN_TOKEN)).toBe(200);
  });

  it("opened by configuration: 200 without a token, each independently", async () => {
    const metricsOpen = await start({ publicMetrics: true });
    expect(await status(`${metricsOpen.serviceUrl}/metrics`)).toBe(200);
    expect(await status(`${metricsOpen.serviceUrl}/docs`)).toBe(401);
    const docsOpen = await start({ publicDocs: true });
    expect(await status(`${docsOpen.serviceUrl}/docs`)).toBe(200);
    expect(await status(`${docsOpen.serviceUrl}/metrics`)).toBe(401);
    expect(await status(`${docsOpen.serviceUrl}/api/channels`)).toBe(401); // /api stays closed
  });
});

describe("/metrics and /docs access (startService from the environment, as `wxqr serve`)", () => {
  let dir: string;
  const running: RunningService[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "wxqr-access-"));
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((r) => r.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(env: Record<string, string>): Promise<string> {
    const config = loadConfig({
      WECHAT_APP_ID: "wx5e7c1ce0000000a9",
      WECHAT_APP_SECRET: "access-secret-0123456789abcdef",
      WECHAT_TOKEN: "accessToken2026",
      WXQR_ADMIN_TOKEN: ADMIN_TOKEN,
      WXQR_DATABASE: `sqlite:${join(dir, `${running.length}.db`)}`,
      WXQR_PORT: "0",
      ...env,
    });
    requireConfig(config, SERVICE_REQUIRES, "by the test");
    const r = await startService(config, {
      clock: systemClock,
      random: createSeededRandom(5),
      logger: silentLogger,
      fetch: globalThis.fetch.bind(globalThis),
      timer: systemTimer,
    });
    running.push(r);
    return r.url;
  }

  it("/metrics without a token is 401 in serve; WXQR_METRICS_TOKEN reads it", async () => {
    const url = await serve({ WXQR_METRICS_TOKEN: METRICS_TOKEN });
    expect(await status(`${url}/metrics`)).toBe(401);
    expect(await status(`${url}/docs`)).toBe(401);
    expect(await status(`${url}/metrics`, METRICS_TOKEN)).toBe(200);
    expect(await status(`${url}/api/channels`, METRICS_TOKEN)).toBe(401);
  });

  it("WXQR_PUBLIC_METRICS=1 and WXQR_PUBLIC_DOCS=1 open them", async () => {
    const url = await serve({ WXQR_PUBLIC_METRICS: "1", WXQR_PUBLIC_DOCS: "true" });
    expect(await status(`${url}/metrics`)).toBe(200);
    expect(await status(`${url}/docs`)).toBe(200);
  });
});
