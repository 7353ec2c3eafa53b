/**
 * The service and the emulator wired together over loopback, as `startService` and `wxqr dev`
 * wire them, but on a database the test hands in (a contract factory's SQLite file or PostgreSQL
 * schema, possibly wrapped to inject faults). Safe (encrypted) mode; one manual clock shared by
 * the emulator, the service's push receiver, its domain and its WeChat client, so timestamps are
 * never stale and nothing waits on real time.
 */
import { createManualClock, createSeededRandom, silentLogger, systemTimer, type ManualClock, type Timer } from "../../src/deps.ts";
import {
  createWxqrService,
  type FollowUpOptions,
  type PosterOptions,
  type ScanSessionOptions,
  type WebhookOptions,
  type WxqrService,
} from "../../src/domain/index.ts";
import { createEmulator, type DeliveryRecord, type Emulator, type EmulatorOptions } from "../../src/emulator/index.ts";
import { createPushReceiver } from "../../src/push/index.ts";
import { buildServer, closeServer, type Server, type ServerOptions } from "../../src/server/app.ts";
import type { Database } from "../../src/store/database.ts";
import { migrate } from "../../src/store/migrations.ts";
import { createWeChatClient } from "../../src/wechat/client.ts";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { DatabaseFactory } from "./databases.ts";

export const SERVICE_APP_ID = "wx5e7c1ce0000000a1";
export const SERVICE_APP_SECRET = "servicesecret0123456789abcdef012";
export const PUSH_TOKEN = "serviceToken2026";
export const AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
/** 2026-11-25 12:00 in Beijing: every action of a test falls on one statistics day. */
export const SERVICE_START = Date.UTC(2026, 10, 25, 4, 0, 0);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: Json;
}

export interface ServiceHarnessOptions {
  db: Database;
  /** Emulator options besides the credentials (e.g. `permanentQuota`). */
  emulator?: Partial<EmulatorOptions>;
  /** The service's own permanent-code quota (WXQR_PERMANENT_QUOTA). */
  permanentQuota?: number;
  /** Personal referral codes are permanent while more than this many permanent codes are left (default 1,000). */
  referralPermanentReserve?: number;
  /** Scan-session options (site name, life, cool-down, rate limit …). */
  scanSessions?: ScanSessionOptions;
  /** Where the service's WeChat client sends API calls, given the emulator's URL; default that URL itself. */
  apiBase?: (emulatorUrl: string) => string | Promise<string>;
  /** Where the emulator pushes, given the service's push URL; default that URL itself. */
  pushUrl?: (servicePushUrl: string) => string;
  /** The emulator's delivery deadline per attempt (default WeChat's 5 s) and retries (default 3). */
  push?: { timeoutMs?: number; maxRetries?: number };
  /** The service's access rules, socket limits and request log (metrics token, public /metrics and /docs, HTTP limits, SSE bounds, logger). */
  server?: Pick<
    ServerOptions,
    "metricsToken" | "publicMetrics" | "publicDocs" | "http" | "streams" | "dashboardDir" | "adminSessions" | "trustProxy" | "logger"
  >;
  seed?: number;
  /** The waits of the service's background loops (SSE heartbeats, polling); default the system timer. */
  timer?: Timer;
  /** Forward attributed events to a webhook (the dispatcher is not started: tests run its rounds). */
  webhook?: WebhookOptions;
  /** Poster background limits and the rendered posters' cache. */
  posters?: PosterOptions;
  /** Follow-ups and tags (the dispatcher is not started: tests run its rounds). */
  followUps?: FollowUpOptions;
}

export interface ServiceHarness {
  serviceUrl: string;
  /** `${serviceUrl}/wechat`. */
  pushUrl: string;
  emulatorUrl: string;
  adminToken: string;
  clock: ManualClock;
  db: Database;
  service: WxqrService;
  server: Server;
  /** The emulator itself, for tests that look at its sockets. */
  emulator: Emulator;
  /** A JSON request to the service with the admin bearer token (`token: null` sends none). */
  api(method: string, path: string, body?: unknown, options?: { token?: string | null }): Promise<ApiResponse>;
  /** The emulator acting as a user: answers once the push's delivery (every attempt) is over. */
  scan(openId: string, ticket: string): Promise<ApiResponse>;
  unsubscribe(openId: string): Promise<ApiResponse>;
  /** The emulator's push log, oldest first. */
  deliveries(openId?: string): Promise<DeliveryRecord[]>;
  /** Any `/emulator/*` control request. */
  emulatorControl(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** `closeServer`: stops accepting, finishes in-flight requests, waits for their commits, closes the database; idempotent. */
  closeService(): Promise<void>;
  /** `closeService`, then the emulator; idempotent. */
  close(): Promise<void>;
}

async function request(url: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const json = (res.headers.get("content-type") ?? "").includes("json");
  return { status: res.status, headers: res.headers, body: json && text !== "" ? JSON.parse(text) : text };
}

export async function startServiceHarness(options: ServiceHarnessOptions): Promise<ServiceHarness> {
  const seed = options.seed ?? 11;
  const clock = createManualClock(SERVICE_START);
  const { db } = options;
  const emulator = createEmulator(
    { appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET, ...options.emulator },
    { clock, random: createSeededRandom(seed * 1_000 + 1), logger: silentLogger },
  );
  const emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
  const deps = { clock, random: createSeededRandom(seed), logger: silentLogger, fetch: globalThis.fetch.bind(globalThis) };

  let server: Server | undefined;
  let service: WxqrService | undefined;
  try {
    // As startService does, with the given database instead of one opened from a URL.
    const apiBase = options.apiBase ? await options.apiBase(emulatorUrl) : emulatorUrl;
    const client = createWeChatClient({ appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET, apiBase, mpBase: emulatorUrl }, deps);
    const receiver = createPushReceiver({ token: PUSH_TOKEN, appId: SERVICE_APP_ID, encodingAESKey: AES_KEY, now: () => clock.now(), random: deps.random });
    await migrate(db);
    service = await createWxqrService(
      {
        db,
        qrcodes: client.qrcodes,
        wechat: client,
        accountId: SERVICE_APP_ID,
        permanentQuota: options.permanentQuota ?? 100_000,
        ...(options.referralPermanentReserve !== undefined ? { referralPermanentReserve: options.referralPermanentReserve } : {}),
        ...(options.scanSessions !== undefined ? { scanSessions: options.scanSessions } : {}),
        ...(options.webhook !== undefined ? { webhook: options.webhook } : {}),
        ...(options.posters !== undefined ? { posters: options.posters } : {}),
        ...(options.followUps !== undefined ? { followUps: options.followUps } : {}),
      },
      { ...deps, timer: options.timer ?? systemTimer },
    );
    server = await buildServer(
      { ...options.server, service, receiver, db, adminToken: ADMIN_TOKEN, tokenRefreshes: () => client.accessToken.fetchCount },
      // Its own sequence: signing in leaves the ids the service draws unchanged.
      { clock, random: createSeededRandom(seed * 1_000 + 2) },
    );
    await server.app.listen({ host: "127.0.0.1", port: 0 });
  } catch (err) {
    await server?.app.close();
    await emulator.close();
    throw err;
  }
  const { port } = server.app.server.address() as { port: number };
  const serviceUrl = `http://127.0.0.1:${port}`;
  const pushUrl = `${serviceUrl}/wechat`;

  const emulatorControl = (method: string, path: string, body?: unknown): Promise<ApiResponse> => request(`${emulatorUrl}${path}`, method, body);
  const configured = await emulatorControl("PUT", "/emulator/push", {
    url: options.pushUrl ? options.pushUrl(pushUrl) : pushUrl,
    token: PUSH_TOKEN,
    encodingAESKey: AES_KEY,
    mode: "safe",
    ...options.push,
  });
  if (configured.status !== 200) throw new Error(`PUT /emulator/push: ${configured.status} ${JSON.stringify(configured.body)}`);

  const running = { server, service };
  let closingService: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const closeService = (): Promise<void> => (closingService ??= closeServer(running.server, running.service, db));
  return {
    serviceUrl,
    pushUrl,
    emulatorUrl,
    adminToken: ADMIN_TOKEN,
    clock,
    db,
    service,
    server,
    emulator,
    api: (method, path, body, { token = ADMIN_TOKEN } = {}) =>
      request(`${serviceUrl}${path}`, method, body, token === null ? {} : { authorization: `Bearer ${token}` }),
    scan: (openId, ticket) => emulatorControl("POST", "/emulator/scan", { openId, ticket }),
    unsubscribe: (openId) => emulatorControl("POST", "/emulator/unsubscribe", { openId }),
    async deliveries(openId) {
      const res = await emulatorControl("GET", `/emulator/deliveries${openId === undefined ? "" : `?openId=${encodeURIComponent(openId)}`}`);
      return res.body.deliveries as DeliveryRecord[];
    },
    emulatorControl,
    closeService,
    close() {
      closing ??= (async () => {
        try {
          await closeService();
        } finally {
          await emulator.close();
        }
      })();
      return closing;
    },
  };
}

/** The value of one Prometheus sample, e.g. `metric(text, 'wxqr_pushes_total{outcome="duplicate"}')`; 0 when absent. */
export function metricValue(exposition: string, sample: string): number {
  for (const line of exposition.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}

/**
 * Harnesses on fresh databases of one factory, for a suite: each test's harnesses are closed after
 * it, then whatever else it handed to `closeAfter` (push proxies, webhook receivers …); the
 * factory's databases are removed after the suite. Call inside a `describe`.
 */
export function serviceHarnesses(makeFactory: () => DatabaseFactory): {
  start(options?: Omit<ServiceHarnessOptions, "db">): Promise<ServiceHarness>;
  closeAfter<T extends { close(): Promise<unknown> }>(closable: T): T;
  factory(): DatabaseFactory;
} {
  let factory: DatabaseFactory | undefined;
  let harnesses: ServiceHarness[] = [];
  let others: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(() => {
    factory = makeFactory();
  });
  afterEach(async () => {
    await Promise.allSettled(harnesses.map((h) => h.close()));
    await Promise.allSettled(others.map((o) => o.close()));
    harnesses = [];
    others = [];
  });
  afterAll(() => factory?.cleanup());
  const current = (): DatabaseFactory => {
    if (!factory) throw new Error("serviceHarnesses: use it inside a test");
    return factory;
  };
  return {
    async start(options = {}) {
      const { db } = await current().create();
      const h = await startServiceHarness({ ...options, db });
      harnesses.push(h);
      return h;
    },
    closeAfter(closable) {
      others.push(closable);
      return closable;
    },
    factory: current,
  };
}
