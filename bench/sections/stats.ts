/**
 * Statistics at scale (issue #11): the latency of what operators read — a channel's stats
 * (`GET /api/channels/:id/stats`, lifetime range, what the channel page shows) and the
 * account-wide figures (`GET /api/overview`, what the dashboard polls) — with 10 k, 1 M and
 * 10 M scan events in the store, on SQLite and, when WXQR_BENCH_POSTGRES_URL (or
 * WXQR_TEST_POSTGRES_URL) is set, on PostgreSQL. Goal: p99 at 10 M ≤ 1.5 × p99 at 10 k.
 *
 * Each size gets a fresh store: the real service (`startService`, in this process) creates the
 * account and 4 channels against an in-process emulator, then the events are bulk-loaded with one
 * statement per table (SQLite: a recursive CTE; PostgreSQL: generate_series) in one transaction:
 *
 * - `push_log`: N scan events over 60 days ending today (Asia/Shanghai), N/10 followers each
 *   loyal to one channel; a follower's first event is the subscribe through the channel's code
 *   (a new follower), the later ones SCANs (returning);
 * - `followers`, `channel_scanners` and `channel_days` as ingestion leaves them for those events:
 *   derived from the log (distinct scanners per channel and day; counters per channel and day),
 *   the channels' `created_at` moved to the first day.
 *
 * Then ANALYZE (what autovacuum / `PRAGMA optimize` would have done by then) and, per endpoint,
 * sequential requests over HTTP with the admin token: 10 untimed (at most 5 s of them), then up to 200 or 10 s.
 *
 *   WXQR_BENCH_STATS_SIZES=10000,1000000  the sizes (default 10000,1000000,10000000).
 *   WXQR_BENCH_STATS_MAX_LOAD_SEC=N        skip a size whose load, projected from the previous
 *                                          size's rate, would take longer (default 150).
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as StartServiceModule from "../../src/cli/start-service.ts";
import type * as ConfigModule from "../../src/config.ts";
import type * as DepsModule from "../../src/deps.ts";
import type * as EmulatorModule from "../../src/emulator/index.ts";
import type * as StoreModule from "../../src/store/index.ts";
import type { BenchContext, BenchRow } from "../lib.ts";
import { chooseImpl, postgresEngine, sqliteEngine, type Engine } from "./ingest.ts";

export const name = "stats";
export const description = "channel stats and overview latency over HTTP with 10 k, 1 M and 10 M scan events in the store (p50/p99 ms)";

const DEFAULT_SIZES = [10_000, 1_000_000, 10_000_000];
const CHANNELS = 4;
const DAYS = 60;
const FOLLOWER_RATIO = 10;
const WARMUP = 10;
const WARMUP_MAX_MS = 5_000;
const MAX_REQUESTS = 200;
const MAX_MS = 10_000;
const SHANGHAI_OFFSET_SEC = 8 * 3600; // no daylight saving time: a day is [midnight − 8 h, + 24 h) in UTC
const APP_ID = "wx5e7c1ce0000000d6";
const APP_SECRET = "benchstatssecret0123456789abcdef";

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`stats bench: ${what}`);
}

/** A size whose load would take longer than this (projected from the previous size's rate) is skipped. */
function maxLoadSec(): number {
  const raw = process.env.WXQR_BENCH_STATS_MAX_LOAD_SEC;
  if (raw === undefined || raw === "") return 150;
  const n = Number(raw);
  expect(Number.isFinite(n) && n > 0, `WXQR_BENCH_STATS_MAX_LOAD_SEC must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  return n;
}

function sizes(): number[] {
  const raw = process.env.WXQR_BENCH_STATS_SIZES;
  if (raw === undefined || raw === "") return DEFAULT_SIZES;
  const parsed = raw.split(",").map((s) => Number(s.trim()));
  expect(
    parsed.every((n) => Number.isSafeInteger(n) && n >= 1_000 && n % FOLLOWER_RATIO === 0),
    `WXQR_BENCH_STATS_SIZES must be whole numbers ≥ 1000 and multiples of ${FOLLOWER_RATIO}, comma-separated, not ${JSON.stringify(raw)}`,
  );
  return parsed;
}

interface Modules {
  start: typeof StartServiceModule;
  config: typeof ConfigModule;
  deps: typeof DepsModule;
  emulator: typeof EmulatorModule;
  store: typeof StoreModule;
}

interface Shape {
  events: number;
  followers: number;
  /** Epoch seconds of the first day's midnight in Asia/Shanghai. */
  base: number;
  days: string[];
  channels: Array<{ id: string; qrcodeId: string; sceneId: number }>;
  accountId: string;
}

/** `YYYY-MM-DD` of the Shanghai day starting `base + d` days. */
function dayString(base: number, d: number): string {
  return new Date((base + d * 86_400 + SHANGHAI_OFFSET_SEC) * 1000).toISOString().slice(0, 10);
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The statements that load `shape` into a migrated store holding the account and the channels. */
function loadStatements(dialect: "sqlite" | "postgres", s: Shape): string[] {
  const series = (n: number, body: string): string =>
    dialect === "sqlite"
      ? `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1}) ${body.replace("{from}", "s")}`
      : body.replace("{from}", `generate_series(0::bigint, ${n - 1}) AS s(i)`);
  const F = s.followers;
  const N = s.events;
  const account = quote(s.accountId);
  // Zero-padded, so that text order is follower order (below).
  const openId = (f: string): string => (dialect === "sqlite" ? `'obench' || substr('0000000000' || (${f}), -10)` : `'obench' || lpad((${f})::text, 10, '0')`);
  // The log is written follower by follower (series value s.i is event (s.i % R)·F + s.i / R, R = N / F),
  // so its unique key (account, "openId|time|…") grows in order: appends, not a random insert
  // per row into an index far larger than the cache.
  const logEvent = `((s.i % ${FOLLOWER_RATIO}) * ${F} + s.i / ${FOLLOWER_RATIO})`;
  // Event i: follower i % F on channel (i % F) % CHANNELS, on day i·DAYS/N, at second i % 86,000 of it.
  const t = (i: string): string => `(${s.base} + ((${i}) * ${DAYS} / ${N}) * 86400 + (${i}) % 86000)`;
  const caseOf = (c: string, values: readonly string[]): string => `CASE ${c} ${values.map((v, k) => `WHEN ${k} THEN ${v}`).join(" ")} END`;
  const qrcodeOf = (c: string): string =>
    caseOf(
      c,
      s.channels.map((ch) => quote(ch.qrcodeId)),
    );
  const sceneOf = (c: string): string =>
    caseOf(
      c,
      s.channels.map((ch) => quote(String(ch.sceneId))),
    );
  const lastOf = `(i + ${F} * ((${N - 1} - i) / ${F}))`;
  // Memory for the load's own connection (SQLite: its page cache, 1 GiB; PostgreSQL: sorts and hashes).
  const tuning = dialect === "sqlite" ? ["PRAGMA cache_size = -1048576"] : ["SET LOCAL work_mem = '256MB'", "SET LOCAL maintenance_work_mem = '512MB'"];
  return [
    ...tuning,
    `CREATE TABLE bench_days (d INTEGER PRIMARY KEY, day TEXT NOT NULL)`,
    `INSERT INTO bench_days (d, day) VALUES ${s.days.map((day, d) => `(${d}, ${quote(day)})`).join(", ")}`,
    `CREATE TABLE bench_channels (qrcode_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL)`,
    `INSERT INTO bench_channels (qrcode_id, channel_id) VALUES ${s.channels.map((ch) => `(${quote(ch.qrcodeId)}, ${quote(ch.id)})`).join(", ")}`,
    series(
      N,
      `INSERT INTO push_log (account_id, dedupe_key, kind, open_id, event, event_key, ticket, scene, qrcode_id, is_new_follower, create_time, received_at)
       SELECT ${account}, ${openId(`i % ${F}`)} || '|' || ${t("i")} || '|' || (CASE WHEN i < ${F} THEN 'subscribe' ELSE 'SCAN' END) || '|' || i,
         'scan', ${openId(`i % ${F}`)}, CASE WHEN i < ${F} THEN 'subscribe' ELSE 'SCAN' END,
         CASE WHEN i < ${F} THEN 'qrscene_' ELSE '' END || ${sceneOf(`((i % ${F}) % ${CHANNELS})`)}, NULL,
         ${sceneOf(`((i % ${F}) % ${CHANNELS})`)}, ${qrcodeOf(`((i % ${F}) % ${CHANNELS})`)},
         CASE WHEN i < ${F} THEN 1 ELSE 0 END, ${t("i")}, ${t("i")} * 1000
       FROM (SELECT ${logEvent} AS i FROM {from}) e`,
    ),
    series(
      F,
      `INSERT INTO followers (account_id, open_id, subscribed, source_qrcode_id, first_seen_at, last_seen_at, subscribed_at, unsubscribed_at)
       SELECT ${account}, ${openId("i")}, 1, ${qrcodeOf(`(i % ${CHANNELS})`)}, ${t("i")} * 1000, ${t(lastOf)} * 1000, ${t("i")} * 1000, NULL
       FROM {from}`,
    ),
    // A day holds at most ⌈N / DAYS⌉ consecutive events, fewer than F, so no follower scans twice
    // on one day: every event is its channel's first scan by that follower that day, a scanner
    // row of its own, and a day's unique scanners are its scans (checked after the load).
    series(
      N,
      `INSERT INTO channel_scanners (account_id, channel_id, day, open_id)
       SELECT ${account}, c.channel_id, d.day, ${openId(`i % ${F}`)}
       FROM {from} JOIN bench_channels c ON c.qrcode_id = ${qrcodeOf(`((i % ${F}) % ${CHANNELS})`)} JOIN bench_days d ON d.d = i * ${DAYS} / ${N}`,
    ),
    `INSERT INTO channel_days (account_id, channel_id, day, scans, unique_scanners, new_followers, returning_followers, unfollows)
     SELECT ${account}, c.channel_id, d.day, COUNT(*), COUNT(*), SUM(p.is_new_follower), COUNT(*) - SUM(p.is_new_follower), 0
     FROM push_log p JOIN bench_channels c ON c.qrcode_id = p.qrcode_id JOIN bench_days d ON d.d = (p.create_time - ${s.base}) / 86400
     GROUP BY c.channel_id, d.day`,
    `UPDATE channels SET created_at = ${s.base * 1000} WHERE account_id = ${account}`,
    `DROP TABLE bench_days`,
    `DROP TABLE bench_channels`,
  ];
}

interface Latency {
  p50: number;
  p99: number;
  requests: number;
}

async function latency(url: string, adminToken: string): Promise<Latency> {
  const headers = { authorization: `Bearer ${adminToken}` };
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const body = await res.text();
    expect(res.status === 200, `GET ${url} answered ${res.status}: ${body.slice(0, 200)}`);
    return performance.now() - t0;
  };
  const warmStart = performance.now();
  for (let i = 0; i < WARMUP && performance.now() - warmStart < WARMUP_MAX_MS; i++) await once();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < MAX_REQUESTS && performance.now() - start < MAX_MS) times.push(await once());
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), requests: times.length };
}

/**
 * Prints how the engine runs the two distinct-scanner counts the endpoints make (store/channels.ts:
 * `channelUniqueScanners` over the channel's lifetime, `accountTotals` over the last 30 days),
 * the queries whose cost grows with the events.
 */
async function logPlans(ctx: BenchContext, db: StoreModule.Database, kind: "sqlite" | "postgres", s: Shape): Promise<void> {
  const today = s.days[s.days.length - 1]!;
  const queries: Array<[string, string, Array<string | number>]> = [
    [
      "channel unique scanners",
      "SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE channel_id = ? AND day >= ? AND day <= ?",
      [s.channels[0]!.id, s.days[0]!, today],
    ],
    [
      "overview unique scanners (30 days)",
      "SELECT COUNT(DISTINCT CASE WHEN day >= ? THEN open_id END) AS r0 FROM channel_scanners WHERE account_id = ? AND day >= ? AND day <= ?",
      [s.days[s.days.length - 30]!, s.accountId, s.days[s.days.length - 30]!, today],
    ],
  ];
  for (const [what, text, params] of queries) {
    const plan = await db.read((sql) =>
      kind === "sqlite"
        ? sql.all<Record<string, unknown>>(`EXPLAIN QUERY PLAN ${text}`, params)
        : sql.all<Record<string, unknown>>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params),
    );
    const lines = plan.map((r) => String(r["detail"] ?? r["QUERY PLAN"] ?? JSON.stringify(r)));
    ctx.log(`stats: ${kind} ${s.events.toLocaleString("en-US")} events, plan of the ${what}:\n      ${lines.join("\n      ")}`);
  }
}

interface SizeResult {
  events: number;
  loadSec: number;
  channel: Latency;
  overview: Latency;
  scannerRows: number;
}

/** One store of `events` events: build, load, measure, close. */
async function measureSize(ctx: BenchContext, m: Modules, engine: Engine, events: number, explain: boolean): Promise<SizeResult> {
  const deps = m.deps.systemDeps();
  const adminToken = deps.random.uuid();
  const emulator = m.emulator.createEmulator({ appId: APP_ID, appSecret: APP_SECRET }, { logger: m.deps.silentLogger });
  let running: StartServiceModule.RunningService | undefined;
  const db = m.store.openDatabase(engine.url);
  try {
    const emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
    const config = m.config.loadConfig(
      {},
      {
        WECHAT_APP_ID: APP_ID,
        WECHAT_APP_SECRET: APP_SECRET,
        WECHAT_TOKEN: "benchStatsToken2026",
        WECHAT_API_BASE: emulatorUrl,
        WECHAT_MP_BASE: emulatorUrl,
        WXQR_DATABASE: engine.url,
        WXQR_HOST: "127.0.0.1",
        WXQR_PORT: "0",
        WXQR_ADMIN_TOKEN: adminToken,
      },
    );
    m.config.requireConfig(config, m.start.SERVICE_REQUIRES, "by the bench");
    running = await m.start.startService(config, deps, { logger: false });
    const channels: Shape["channels"] = [];
    for (let c = 0; c < CHANNELS; c++) {
      const created = await running.service.channels.create({ name: `bench: poster ${c + 1}` });
      expect(created.qrcode.sceneId !== null, "a channel's code has no scene id");
      channels.push({ id: created.id, qrcodeId: created.qrcode.id, sceneId: created.qrcode.sceneId! });
    }
    const accounts = await db.read((sql) => sql.all<{ id: string }>("SELECT id FROM accounts"));
    expect(accounts.length === 1, `expected one account, found ${accounts.length}`);
    const todayStart = Math.floor((Date.now() / 1000 + SHANGHAI_OFFSET_SEC) / 86_400) * 86_400 - SHANGHAI_OFFSET_SEC;
    const base = todayStart - (DAYS - 1) * 86_400;
    const shape: Shape = {
      events,
      followers: events / FOLLOWER_RATIO,
      base,
      days: Array.from({ length: DAYS }, (_, d) => dayString(base, d)),
      channels,
      accountId: accounts[0]!.id,
    };
    const t0 = performance.now();
    await db.transaction(async (sql) => {
      for (const statement of loadStatements(sql.dialect, shape)) {
        const s0 = performance.now();
        await sql.run(statement);
        const ms = performance.now() - s0;
        if (ms > 1_000)
          ctx.log(`stats: ${engine.kind} ${events.toLocaleString("en-US")}: ${(ms / 1000).toFixed(1)} s for ${statement.replace(/\s+/g, " ").slice(0, 60)}…`);
      }
    });
    await db.transaction((sql) => sql.run("ANALYZE"));
    const loadSec = (performance.now() - t0) / 1000;
    const counted = await db.read(async (sql) => ({
      log: Number((await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM push_log"))!.n),
      scans: Number((await sql.get<{ n: number }>("SELECT SUM(scans) AS n FROM channel_days"))!.n),
      scanners: Number((await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM channel_scanners"))!.n),
      unique: Number((await sql.get<{ n: number }>("SELECT SUM(unique_scanners) AS n FROM channel_days"))!.n),
      followers: Number((await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM followers"))!.n),
      newFollowers: Number((await sql.get<{ n: number }>("SELECT SUM(new_followers) AS n FROM channel_days"))!.n),
    }));
    expect(counted.log === events && counted.scans === events, `loaded ${counted.log} events, counters say ${counted.scans}; expected ${events}`);
    expect(counted.scanners === counted.unique, `${counted.scanners} scanner rows, but the day counters say ${counted.unique} unique scanners`);
    expect(
      counted.followers === shape.followers && counted.newFollowers === shape.followers,
      `${counted.followers} followers, ${counted.newFollowers} new in the counters; expected ${shape.followers}`,
    );
    ctx.log(
      `stats: ${engine.kind} ${events.toLocaleString("en-US")} events loaded in ${loadSec.toFixed(1)} s (${counted.scanners.toLocaleString("en-US")} scanner rows)`,
    );
    const channel = await latency(`${running.url}/api/channels/${channels[0]!.id}/stats`, adminToken);
    const overview = await latency(`${running.url}/api/overview`, adminToken);
    if (explain) await logPlans(ctx, db, engine.kind, shape);
    return { events, loadSec, channel, overview, scannerRows: counted.scanners };
  } finally {
    await running?.close();
    await db.close();
    await emulator.close();
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

function rowsFor(kind: string, results: readonly SizeResult[]): BenchRow[] {
  const first = results[0]!;
  return results.flatMap((r) =>
    (["channel", "overview"] as const).map((endpoint) => ({
      engine: kind,
      endpoint: endpoint === "channel" ? "GET /api/channels/:id/stats" : "GET /api/overview",
      events: r.events,
      "scanner rows": r.scannerRows,
      "load s": Math.round(r.loadSec * 10) / 10,
      "p50 ms": round(r[endpoint].p50),
      "p99 ms": round(r[endpoint].p99),
      "p99 × smallest": Math.round((r[endpoint].p99 / first[endpoint].p99) * 100) / 100,
      requests: r[endpoint].requests,
    })),
  );
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const impl = chooseImpl(ctx.root);
  const load = async <T>(dist: string, src: string): Promise<T> => (await import(pathToFileURL(join(ctx.root, impl === "dist" ? dist : src)).href)) as T;
  const m: Modules = {
    start: await load("dist/cli/start-service.js", "src/cli/start-service.ts"),
    config: await load("dist/config.js", "src/config.ts"),
    deps: await load("dist/deps.js", "src/deps.ts"),
    emulator: await load("dist/emulator/index.js", "src/emulator/index.ts"),
    store: await load("dist/store/index.js", "src/store/index.ts"),
  };
  const postgresUrl = process.env.WXQR_BENCH_POSTGRES_URL ?? process.env.WXQR_TEST_POSTGRES_URL;
  const wanted = sizes();
  ctx.log(`stats: measuring wxqr's ${impl}; sizes ${wanted.map((n) => n.toLocaleString("en-US")).join(", ")}`);
  const engines: Array<[string, () => Promise<Engine>]> = [["SQLite", async () => sqliteEngine()]];
  if (postgresUrl) engines.push(["PostgreSQL", () => postgresEngine(postgresUrl)]);
  else ctx.log("stats: PostgreSQL skipped: set WXQR_BENCH_POSTGRES_URL or WXQR_TEST_POSTGRES_URL");

  const budget = maxLoadSec();
  const rows: BenchRow[] = [];
  const skipped: BenchRow[] = [];
  for (const [kind, makeEngine] of engines) {
    const results: SizeResult[] = [];
    for (const [k, events] of wanted.entries()) {
      const previous = results[results.length - 1];
      const projected = previous === undefined ? 0 : (previous.loadSec * events) / previous.events;
      if (projected > budget) {
        ctx.log(
          `stats: ${kind} ${events.toLocaleString("en-US")} skipped: its load would take ≈ ${Math.round(projected)} s (WXQR_BENCH_STATS_MAX_LOAD_SEC=${budget})`,
        );
        skipped.push({
          engine: kind,
          endpoint: null,
          events,
          "load s": Math.round(projected),
          note: `skipped: load projected at ≈ ${Math.round(projected)} s, over WXQR_BENCH_STATS_MAX_LOAD_SEC=${budget}`,
        });
        continue;
      }
      const engine = await makeEngine();
      try {
        results.push(await measureSize(ctx, m, engine, events, k === wanted.length - 1));
      } finally {
        await engine.cleanup().catch((error: unknown) => ctx.log(`stats: cleanup of the ${engine.kind} database failed: ${String(error)}`));
      }
    }
    rows.push(...rowsFor(kind, results), ...skipped.splice(0));
  }
  if (!postgresUrl) rows.push({ engine: "PostgreSQL", endpoint: null, note: "skipped: set WXQR_BENCH_POSTGRES_URL (or WXQR_TEST_POSTGRES_URL)" });
  return rows;
}
