/**
 * Invariant 6 across processes: two `wxqr serve` processes (the built binary) on one PostgreSQL
 * share one access token through the database. When the platform's token runs out, 400 API calls
 * that need a token, fired at both processes at once, cause exactly one new `stable_token`
 * request at the emulator.
 *
 * Which clock decides "expired": the serve processes run on the real clock and cache the token's
 * `expiresAt` from `expires_in` on that clock, so moving the emulator's clock does not make them
 * refresh on their own. What it does make is the platform answer 42001 (expired) to the token they
 * hold — the honest production case of a token that dies earlier than the client thought (clock
 * skew, a restart of the platform's side). The refresh then goes through the rejection path:
 * compare-and-expire in the shared store, one lease holder fetches, everyone else reads its token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createEmulator, type Emulator } from "../../src/emulator/index.ts";
import { startCli, type LongRunning } from "../helpers/cli.ts";
import { announcePostgres, markPostgresRan, postgresFactory, POSTGRES_URL, type DatabaseFactory } from "../helpers/databases.ts";
import { metricValue } from "../helpers/service.ts";

const APP_ID = "wxtokenshare000001";
const APP_SECRET = "tokensharesecret0123456789abcdef";
const ADMIN_TOKEN = "admin-token-for-token-sharing-01";
const METRICS_TOKEN = "metrics-token-for-token-sharing";
const CALLS_PER_PROCESS = 200;

const run = announcePostgres("token sharing between two wxqr serve processes (PostgreSQL)");

describe.runIf(run)("one access token for all instances (two wxqr serve on one PostgreSQL)", () => {
  let factory: DatabaseFactory;
  let emulator: Emulator;
  let emulatorUrl: string;
  const processes: Array<LongRunning & { match: RegExpMatchArray }> = [];
  let finished = 0;

  beforeAll(async () => {
    factory = postgresFactory(POSTGRES_URL!);
    // The emulator's own clock, moved only by the test (its `now` starts at the real one).
    const clock = createManualClock(Date.now());
    emulator = createEmulator({ appId: APP_ID, appSecret: APP_SECRET }, { clock, random: createSeededRandom(61), logger: silentLogger });
    emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
    await emulator?.close();
    await factory?.cleanup();
    markPostgresRan("token-sharing-postgres", finished);
  });

  const counters = async (): Promise<Record<string, number>> =>
    ((await (await fetch(`${emulatorUrl}/emulator/counters`)).json()) as { totals: Record<string, number> }).totals;
  const createCode = (serviceUrl: string): Promise<Response> =>
    fetch(`${serviceUrl}/api/qrcodes`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "temporary", expireSeconds: 3_600 }),
    });

  it("refreshes an expired token once for both processes, however many calls need it at once", async () => {
    const { url: database } = await factory.create();
    const env = {
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_TOKEN: "tokenShare2026",
      WECHAT_API_BASE: emulatorUrl,
      WECHAT_MP_BASE: emulatorUrl,
      WXQR_DATABASE: database,
      WXQR_ADMIN_TOKEN: ADMIN_TOKEN,
      WXQR_METRICS_TOKEN: METRICS_TOKEN,
      WXQR_PORT: "0",
    };
    // Both start at once: migrations on one database from two processes must be safe too.
    const started = await Promise.all([0, 1].map(() => startCli(["serve"], /wxqr serving on (http:\/\/\S+) /, env)));
    processes.push(...started);
    const urls = started.map((p) => p.match[1]!);

    // Warm up: the first process fetches a token, the second finds it in the database.
    expect((await createCode(urls[0]!)).status).toBe(201);
    expect((await createCode(urls[1]!)).status).toBe(201);
    const before = await counters();
    expect(before.stable_token).toBe(1);

    // The platform's token runs out (the emulator's clock passes its 7200 s life); the processes' clocks say nothing.
    const moved = await fetch(`${emulatorUrl}/emulator/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: 7_200 + 60 }),
    });
    expect(moved.status).toBe(200);

    const answers = await Promise.all(urls.flatMap((url) => Array.from({ length: CALLS_PER_PROCESS }, () => createCode(url))));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(2 * CALLS_PER_PROCESS);
    await Promise.all(answers.map((a) => a.arrayBuffer()));

    const after = await counters();
    expect(after.stable_token! - before.stable_token!).toBe(1);
    expect(after["qrcode/create"]).toBeGreaterThanOrEqual(2 + 2 * CALLS_PER_PROCESS);
    // Each process's own count of token requests: two in all (the warm-up's and the refresh).
    const refreshes = await Promise.all(
      urls.map(async (url) =>
        metricValue(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text(), "wxqr_access_token_refreshes"),
      ),
    );
    expect(refreshes.reduce((a, b) => a + b, 0)).toBe(2);

    for (const p of started) expect(await p.stop("SIGINT")).toBe(0);
    finished++;
  }, 60_000);
});
