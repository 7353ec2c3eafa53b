/**
 * Statistics at scale (issue #11): the latency of what operators read — a channel's stats
 * (`GET /api/channels/:id/stats`, lifetime range, what the channel page shows) and the
 * account-wide figures (`GET /api/overview`, what the dashboard polls) — with 10 k, 1 M and
 * 10 M scan events in the store, on SQLite and, when WXQR_BENCH_POSTGRES_URL (or
 * WXQR_TEST_POSTGRES_URL) is set, on PostgreSQL. Goal: p99 at 10 M ≤ 1.5 × p99 at 10 k.
 *
 * Each size gets a fresh store: the real service (`startService`, in this process) creates the
 * account and 4 channels against an in-process emulator and stops; then the events are
 * bulk-loaded in one transaction, with a statement per table (or per channel: SQLite a recursive
 * CTE, PostgreSQL generate_series), each table in its key order, the bulk tables' secondary
 * indexes (PostgreSQL: their keys too) dropped and built again at the end, SQLite on a connection
 * of its own with no journal, PostgreSQL with no row-by-row foreign-key checks:
 *
 * - `push_log`: N scan events over 60 days ending today (Asia/Shanghai), N/10 followers each
 *   loyal to one channel; a follower's first event is the subscribe through the channel's code
 *   (a new follower), the later ones SCANs (returning);
 * - `followers`, `channel_scanners`, `channel_last_scans`, `account_last_scans`, `channel_days`
 *   and `account_days` as ingestion leaves them for those events (the day counters from the
 *   scanner rows, the followers and the latest scans), the channels' `created_at` moved to the
 *   first day.
 *
 * Then ANALYZE (SQLite, sampled like `PRAGMA optimize`'s) or VACUUM (ANALYZE) (PostgreSQL): what
 * would have been done by then; a check of the store against the shape (`check`), the service started again,
 * and, per endpoint, sequential requests over HTTP with the admin token: 10 untimed (at most 5 s
 * of them), then up to 1,000 or 10 s.
 *
 *   WXQR_BENCH_STATS_SIZES=10000,1000000  the sizes (default 10000,1000000,10000000).
 *   WXQR_BENCH_STATS_MAX_LOAD_SEC=N        skip a size whose load, projected from the previous
 *                                          size's rate, would take longer (default 300).
 * @module
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as StartServiceModule from "../../src/cli/start-service.ts";
import type * as ConfigModule from "../../src/config.ts";
import type * as DepsModule from "../../src/deps.ts";
import type * as EmulatorModule from "../../src/emulator/index.ts";
import type * as StoreModule from "../../src/store/index.ts";
import { collectGarbage, type BenchContext, type BenchRow } from "../lib.ts";
import SqliteDriver from "better-sqlite3";
import pg from "pg";
import { chooseImpl, postgresEngine, sqliteEngine, type Engine } from "./ingest.ts";

export const name = "stats";
export const description = "channel stats and overview latency over HTTP with 10 k, 1 M and 10 M scan events in the store (p50/p99 ms)";

const DEFAULT_SIZES = [10_000, 1_000_000, 10_000_000];
const CHANNELS = 4;
const DAYS = 60;
const FOLLOWER_RATIO = 10;
const WARMUP = 10;
const WARMUP_MAX_MS = 5_000;
const MAX_REQUESTS = 1_000;
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
  if (raw === undefined || raw === "") return 300;
  const n = Number(raw);
  expect(Number.isFinite(n) && n > 0, `WXQR_BENCH_STATS_MAX_LOAD_SEC must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  return n;
}

function sizes(): number[] {
  const raw = process.env.WXQR_BENCH_STATS_SIZES;
  if (raw === undefined || raw === "") return DEFAULT_SIZES;
  const parsed = raw.split(",").map((s) => Number(s.trim()));
  expect(
    parsed.every((n) => Number.isSafeInteger(n) && n >= 1_000 && n % (FOLLOWER_RATIO * CHANNELS) === 0),
    `WXQR_BENCH_STATS_SIZES must be whole numbers ≥ 1000 and multiples of ${FOLLOWER_RATIO * CHANNELS}, comma-separated, not ${JSON.stringify(raw)}`,
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

/**
 * The statements that load `shape` into a migrated store holding the account and the channels,
 * its secondary indexes dropped (`withoutIndexes`). Each table is written in its key order.
 */
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
  // Event i: follower i % F on channel i % CHANNELS (F is a multiple of CHANNELS), on day i·DAYS/N, at second i % 86,000 of it.
  const t = (i: string): string => `(${s.base} + ((${i}) * ${DAYS} / ${N}) * 86400 + (${i}) % 86000)`;
  const dayOf = (i: string): string => `((${i}) * ${DAYS} / ${N})`;
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
  // Follower f's last event.
  const lastOf = (f: string): string => `((${f}) + ${F} * ((${N - 1} - (${f})) / ${F}))`;
  const channels = s.channels.map((ch, c) => ({ c, id: quote(ch.id) }));
  // Memory for the load's own connection (SQLite: its page cache, 1 GiB; PostgreSQL: sorts and
  // hashes, index builds); PostgreSQL does not wait for its WAL at the commit.
  const tuning =
    dialect === "sqlite"
      ? ["PRAGMA cache_size = -1048576"]
      : ["SET LOCAL work_mem = '256MB'", "SET LOCAL maintenance_work_mem = '1GB'", "SET LOCAL synchronous_commit = off"];
  return [
    ...tuning,
    `CREATE TABLE bench_days (d INTEGER PRIMARY KEY, day TEXT NOT NULL)`,
    `INSERT INTO bench_days (d, day) VALUES ${s.days.map((day, d) => `(${d}, ${quote(day)})`).join(", ")}`,
    series(
      N,
      `INSERT INTO push_log (account_id, dedupe_key, kind, open_id, event, event_key, ticket, scene, qrcode_id, is_new_follower, create_time, received_at)
       SELECT ${account}, ${openId(`i % ${F}`)} || '|' || ${t("i")} || '|' || (CASE WHEN i < ${F} THEN 'subscribe' ELSE 'SCAN' END) || '|' || i,
         'scan', ${openId(`i % ${F}`)}, CASE WHEN i < ${F} THEN 'subscribe' ELSE 'SCAN' END,
         CASE WHEN i < ${F} THEN 'qrscene_' ELSE '' END || ${sceneOf(`(i % ${CHANNELS})`)}, NULL,
         ${sceneOf(`(i % ${CHANNELS})`)}, ${qrcodeOf(`(i % ${CHANNELS})`)},
         CASE WHEN i < ${F} THEN 1 ELSE 0 END, ${t("i")}, ${t("i")} * 1000
       FROM (SELECT ${logEvent} AS i FROM {from}) e`,
    ),
    series(
      F,
      `INSERT INTO followers (account_id, open_id, subscribed, source_qrcode_id, first_seen_at, last_seen_at, subscribed_at, unsubscribed_at)
       SELECT ${account}, ${openId("i")}, 1, ${qrcodeOf(`(i % ${CHANNELS})`)}, ${t("i")} * 1000, ${t(lastOf("i"))} * 1000, ${t("i")} * 1000, NULL
       FROM {from}`,
    ),
    // A day holds at most ⌈N / DAYS⌉ consecutive events, fewer than F, so no follower scans twice
    // on one day: every event is its channel's first scan by that follower that day, a scanner
    // row of its own, and a day's unique scanners are its scans (checked after the load). Channel
    // by channel (its events i = CHANNELS·k + c), so rows come in key order (channel, day, follower)
    // but for one wrap of the follower number per day.
    ...channels.map(({ c, id }) =>
      series(
        N / CHANNELS,
        `INSERT INTO channel_scanners (account_id, channel_id, day, open_id)
         SELECT ${account}, ${id}, d.day, ${openId(`e.i % ${F}`)}
         FROM (SELECT ${CHANNELS} * i + ${c} AS i FROM {from}) e JOIN bench_days d ON d.d = ${dayOf("e.i")}`,
      ),
    ),
    // Each follower's latest scan: the day of their last event, on their one channel.
    ...channels.map(({ c, id }) =>
      series(
        F / CHANNELS,
        `INSERT INTO channel_last_scans (account_id, channel_id, open_id, day)
         SELECT ${account}, ${id}, ${openId("e.f")}, d.day
         FROM (SELECT ${CHANNELS} * i + ${c} AS f FROM {from}) e JOIN bench_days d ON d.d = ${dayOf(lastOf("e.f"))}`,
      ),
    ),
    `INSERT INTO account_last_scans (account_id, open_id, day) SELECT account_id, open_id, day FROM channel_last_scans ORDER BY open_id`,
    // The day counters as ingestion leaves them: scans (each a scanner row), new followers (a
    // follower's first event, on their channel), followers whose latest scan it is.
    `INSERT INTO channel_days (account_id, channel_id, day, scans, unique_scanners, new_followers, returning_followers, unfollows, last_scanners)
     SELECT ${account}, k.channel_id, k.day, k.n, k.n, COALESCE(f.n, 0), k.n - COALESCE(f.n, 0), 0, COALESCE(l.n, 0)
     FROM (SELECT channel_id, day, COUNT(*) AS n FROM channel_scanners GROUP BY channel_id, day) k
     LEFT JOIN (
       SELECT c.id AS channel_id, d.day, COUNT(*) AS n FROM followers f JOIN channels c ON c.qrcode_id = f.source_qrcode_id
         JOIN bench_days d ON d.d = (f.first_seen_at / 1000 - ${s.base}) / 86400
       GROUP BY c.id, d.day
     ) f ON f.channel_id = k.channel_id AND f.day = k.day
     LEFT JOIN (SELECT channel_id, day, COUNT(*) AS n FROM channel_last_scans GROUP BY channel_id, day) l ON l.channel_id = k.channel_id AND l.day = k.day
     ORDER BY k.channel_id, k.day`,
    `INSERT INTO account_days (account_id, day, last_scanners) SELECT account_id, day, COUNT(*) FROM account_last_scans GROUP BY account_id, day ORDER BY day`,
    `UPDATE channels SET created_at = ${s.base * 1000} WHERE account_id = ${account}`,
    `DROP TABLE bench_days`,
  ];
}

// The tables that take millions of rows: loaded without their secondary indexes (and, on
// PostgreSQL, their keys), which are built once at the end, by a sort, instead of row by row.
const BULK_TABLES = ["push_log", "channel_scanners", "channel_last_scans", "followers"];

/**
 * Runs `load` with the bulk tables' droppable indexes dropped, then builds them again as they
 * were (their definitions read from the catalog). SQLite's keys declared with the table cannot be
 * dropped: its rows are written in key order instead.
 */
async function withoutIndexes(sql: StoreModule.Sql, load: () => Promise<void>, build: (statement: string) => Promise<void>): Promise<void> {
  const tables = BULK_TABLES.map(quote).join(", ");
  const rebuild: string[] = [];
  if (sql.dialect === "sqlite") {
    const indexes = await sql.all<{ name: string; sql: string }>(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${tables})`,
    );
    for (const ix of indexes) {
      await sql.run(`DROP INDEX ${ix.name}`);
      rebuild.push(ix.sql);
    }
  } else {
    const keys = await sql.all<{ table_name: string; name: string; def: string }>(
      `SELECT r.relname AS table_name, c.conname AS name, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
       WHERE c.contype IN ('p', 'u') AND r.relnamespace = current_schema()::regnamespace AND r.relname IN (${tables})`,
    );
    const indexes = await sql.all<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN (${tables})
       AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace)`,
    );
    for (const ix of indexes) {
      await sql.run(`DROP INDEX ${ix.name}`);
      rebuild.push(ix.def);
    }
    for (const k of keys) {
      await sql.run(`ALTER TABLE ${k.table_name} DROP CONSTRAINT ${k.name}`);
      rebuild.unshift(`ALTER TABLE ${k.table_name} ADD CONSTRAINT ${k.name} ${k.def}`);
    }
  }
  await load();
  for (const statement of rebuild) await build(statement);
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
 * `channelUniqueScanners` over the channel's lifetime, `accountTotals` over the last 30 days):
 * sums of the per-day counts of latest scans, one row per day, where a `COUNT(DISTINCT)` over
 * the scanner rows grew with the events.
 */
async function logPlans(ctx: BenchContext, db: StoreModule.Database, kind: "sqlite" | "postgres", s: Shape): Promise<void> {
  const today = s.days[s.days.length - 1]!;
  const queries: Array<[string, string, Array<string | number>]> = [
    [
      "channel unique scanners",
      "SELECT SUM(last_scanners) AS n, SUM(CASE WHEN day > ? AND last_scanners > 0 THEN 1 ELSE 0 END) AS later FROM channel_days WHERE channel_id = ? AND day >= ?",
      [today, s.channels[0]!.id, s.days[0]!],
    ],
    [
      "overview unique scanners (30 days)",
      "SELECT SUM(CASE WHEN day >= ? THEN last_scanners ELSE 0 END) AS r0, SUM(CASE WHEN day > ? AND last_scanners > 0 THEN 1 ELSE 0 END) AS later FROM account_days WHERE account_id = ? AND day >= ?",
      [s.days[s.days.length - 30]!, today, s.accountId, s.days[s.days.length - 30]!],
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

/**
 * A connection for the load alone. SQLite: its own, with no journal and no sync (a crash during
 * the load loses only the bench's store), which needs the file to itself: the service is stopped
 * meanwhile, and WAL, the service's mode, is set again at the end. PostgreSQL: one of the store's.
 */
async function withLoadConnection(m: Modules, engine: Engine, fn: (sql: StoreModule.Sql) => Promise<void>): Promise<{ commitMs: number }> {
  if (engine.kind === "postgres") {
    const db = m.store.openDatabase(engine.url);
    try {
      let doneAt = 0;
      await db.transaction(async (sql) => {
        await fn(sql);
        doneAt = performance.now();
      });
      return { commitMs: performance.now() - doneAt };
    } finally {
      await db.close();
    }
  }
  const file = engine.url.slice("sqlite:".length);
  const raw = new SqliteDriver(file);
  try {
    raw.pragma("journal_mode = OFF");
    raw.pragma("synchronous = OFF");
    raw.pragma("temp_store = MEMORY");
    const sql: StoreModule.Sql = {
      dialect: "sqlite",
      run: async (text, params = []) => raw.prepare(text).run(...params).changes,
      get: async <T>(text: string, params: readonly StoreModule.SqlParam[] = []) => raw.prepare(text).get(...params) as T | undefined,
      all: async <T>(text: string, params: readonly StoreModule.SqlParam[] = []) => raw.prepare(text).all(...params) as T[],
    };
    let commitMs: number;
    raw.exec("BEGIN");
    try {
      await fn(sql);
      const c0 = performance.now();
      raw.exec("COMMIT");
      commitMs = performance.now() - c0;
    } catch (err) {
      raw.exec("ROLLBACK");
      throw err;
    }
    raw.pragma("journal_mode = WAL");
    return { commitMs };
  } finally {
    raw.close();
  }
}

/**
 * Loads `shape`, then ANALYZE (SQLite: sampled, as `PRAGMA optimize` does) or VACUUM (ANALYZE)
 * (PostgreSQL); logs each statement that takes over a second.
 */
async function load(ctx: BenchContext, m: Modules, engine: Engine, shape: Shape): Promise<void> {
  const label = `${engine.kind} ${shape.events.toLocaleString("en-US")}`;
  const timed = async (sql: StoreModule.Sql, statement: string): Promise<void> => {
    const s0 = performance.now();
    await sql.run(statement);
    const ms = performance.now() - s0;
    if (ms > 1_000) ctx.log(`stats: ${label}: ${(ms / 1000).toFixed(1)} s for ${what(statement)}`);
  };
  const { commitMs } = await withLoadConnection(m, engine, async (sql) => {
    const accounts = await sql.all<{ id: string }>("SELECT id FROM accounts");
    expect(
      accounts.length === 1 && accounts[0]!.id === shape.accountId,
      `expected the one account ${shape.accountId}, found ${accounts.map((a) => a.id).join(", ")}`,
    );
    // No foreign key checked row by row (every row refers to the account and channels made
    // above): as a replica applies rows, which only a superuser may ask for.
    if (sql.dialect === "postgres" && (await sql.get<{ su: string }>("SELECT current_setting('is_superuser') AS su"))?.su === "on")
      await sql.run("SET LOCAL session_replication_role = replica");
    await withoutIndexes(
      sql,
      async () => {
        for (const statement of loadStatements(sql.dialect, shape)) await timed(sql, statement);
      },
      (statement) => timed(sql, statement),
    );
    if (sql.dialect === "sqlite") {
      await sql.run("PRAGMA analysis_limit = 1000");
      await timed(sql, "ANALYZE");
    }
  });
  if (commitMs > 1_000) ctx.log(`stats: ${label}: ${(commitMs / 1000).toFixed(1)} s for the commit`);
  if (engine.kind === "postgres") await vacuumPostgres(ctx, label, engine.url);
}

/**
 * Writes the load's pages to disk before the timed requests, so that the kernel's writeback
 * (SQLite: the load had no journal and no sync) or PostgreSQL's checkpointer (its checkpoint
 * spreads the writes over minutes) does not run during them, on the same two cores and disk. Not
 * part of `load s`: a PostgreSQL CHECKPOINT also writes whatever else the server holds dirty.
 */
async function settle(ctx: BenchContext, engine: Engine, label: string): Promise<void> {
  const s0 = performance.now();
  if (engine.kind === "sqlite") {
    const fd = openSync(engine.url.slice("sqlite:".length), "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } else {
    const client = new pg.Client({ connectionString: engine.url });
    await client.connect();
    try {
      // A superuser's (or pg_checkpoint's) right; without it the checkpointer does it in its time.
      await client.query("CHECKPOINT").catch((error: unknown) => ctx.log(`stats: ${label}: CHECKPOINT failed: ${String(error)}`));
    } finally {
      await client.end();
    }
  }
  const ms = performance.now() - s0;
  if (ms > 1_000) ctx.log(`stats: ${label}: ${(ms / 1000).toFixed(1)} s to write the load to disk (not in load s)`);
}

/**
 * Leaves PostgreSQL's tables as a store that grew over months would have them: vacuumed
 * (visibility map set, statistics gathered). Otherwise autovacuum, woken by ten million fresh
 * rows, works through them during the timed requests, on the same two cores: at 10 M, the p50 of
 * a 0.07 ms query doubled and its p99 tripled while it ran.
 */
async function vacuumPostgres(ctx: BenchContext, label: string, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const s0 = performance.now();
    await client.query("VACUUM (ANALYZE)");
    const ms = performance.now() - s0;
    if (ms > 1_000) ctx.log(`stats: ${label}: ${(ms / 1000).toFixed(1)} s for VACUUM (ANALYZE)`);
  } finally {
    await client.end();
  }
}

/** What a load statement does, for the log: `INSERT INTO push_log`, `CREATE INDEX …`. */
function what(statement: string): string {
  const flat = statement.replace(/\s+/g, " ");
  return /(INSERT INTO \w+|CREATE (UNIQUE )?INDEX \w+|ALTER TABLE \w+ ADD CONSTRAINT \w+|ANALYZE)/.exec(flat)?.[0] ?? `${flat.slice(0, 60)}…`;
}

/**
 * Checks the loaded store against the shape: the log holds N events and the day counters sum to
 * N scans; unique scanners equal the scanner rows, new followers the followers; each follower has
 * one latest scan per channel and of any channel, counted once in the per-day counts; and the
 * distinct scanners the endpoints now sum (a channel's over its life, the account's over 30 days)
 * equal a count of the scanner rows.
 */
async function check(db: StoreModule.Database, shape: Shape): Promise<number> {
  const today = shape.days[shape.days.length - 1]!;
  const from30 = shape.days[shape.days.length - 30]!;
  const n = async (sql: StoreModule.Sql, text: string, params: string[] = []): Promise<number> => Number((await sql.get<{ n: number }>(text, params))!.n);
  const c = await db.read(async (sql) => ({
    log: await n(sql, "SELECT COUNT(*) AS n FROM push_log"),
    scans: await n(sql, "SELECT SUM(scans) AS n FROM channel_days"),
    scanners: await n(sql, "SELECT COUNT(*) AS n FROM channel_scanners"),
    unique: await n(sql, "SELECT SUM(unique_scanners) AS n FROM channel_days"),
    followers: await n(sql, "SELECT COUNT(*) AS n FROM followers"),
    newFollowers: await n(sql, "SELECT SUM(new_followers) AS n FROM channel_days"),
    channelLatest: await n(sql, "SELECT COUNT(*) AS n FROM channel_last_scans"),
    accountLatest: await n(sql, "SELECT COUNT(*) AS n FROM account_last_scans"),
    channelLatestCounted: await n(sql, "SELECT SUM(last_scanners) AS n FROM channel_days"),
    accountLatestCounted: await n(sql, "SELECT SUM(last_scanners) AS n FROM account_days"),
    lifetime: await n(sql, "SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE channel_id = ?", [shape.channels[0]!.id]),
    lifetimeSummed: await n(sql, "SELECT SUM(last_scanners) AS n FROM channel_days WHERE channel_id = ?", [shape.channels[0]!.id]),
    month: await n(sql, "SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE account_id = ? AND day >= ? AND day <= ?", [
      shape.accountId,
      from30,
      today,
    ]),
    monthSummed: await n(sql, "SELECT SUM(last_scanners) AS n FROM account_days WHERE account_id = ? AND day >= ?", [shape.accountId, from30]),
  }));
  const events = shape.events;
  expect(c.log === events && c.scans === events, `loaded ${c.log} events, counters say ${c.scans}; expected ${events}`);
  expect(c.scanners === c.unique, `${c.scanners} scanner rows, but the day counters say ${c.unique} unique scanners`);
  expect(
    c.followers === shape.followers && c.newFollowers === shape.followers,
    `${c.followers} followers, ${c.newFollowers} new in the counters; expected ${shape.followers}`,
  );
  expect(
    [c.channelLatest, c.accountLatest, c.channelLatestCounted, c.accountLatestCounted].every((v) => v === shape.followers),
    `latest scans: ${c.channelLatest} per channel, ${c.accountLatest} per follower, counted ${c.channelLatestCounted} and ${c.accountLatestCounted}; expected ${shape.followers} each`,
  );
  expect(c.lifetime === c.lifetimeSummed, `channel 1: ${c.lifetime} distinct scanners over its life, the latest-scan counts say ${c.lifetimeSummed}`);
  expect(c.month === c.monthSummed, `account: ${c.month} distinct scanners over 30 days, the latest-scan counts say ${c.monthSummed}`);
  return c.scanners;
}

/** One store of `events` events: build, load, measure, close. */
async function measureSize(ctx: BenchContext, m: Modules, engine: Engine, events: number, explain: boolean): Promise<SizeResult> {
  const deps = m.deps.systemDeps();
  const adminToken = deps.random.uuid();
  const emulator = m.emulator.createEmulator({ appId: APP_ID, appSecret: APP_SECRET }, { logger: m.deps.silentLogger });
  let running: StartServiceModule.RunningService | undefined;
  let db: StoreModule.Database | undefined;
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
    // The load has the store to itself; the service starts again on the loaded store.
    await running.close();
    running = undefined;
    const todayStart = Math.floor((Date.now() / 1000 + SHANGHAI_OFFSET_SEC) / 86_400) * 86_400 - SHANGHAI_OFFSET_SEC;
    const base = todayStart - (DAYS - 1) * 86_400;
    const shape: Shape = {
      events,
      followers: events / FOLLOWER_RATIO,
      base,
      days: Array.from({ length: DAYS }, (_, d) => dayString(base, d)),
      channels,
      accountId: APP_ID,
    };
    const t0 = performance.now();
    await load(ctx, m, engine, shape);
    const loadSec = (performance.now() - t0) / 1000;
    await settle(ctx, engine, `${engine.kind} ${events.toLocaleString("en-US")}`);
    db = m.store.openDatabase(engine.url);
    const c0 = performance.now();
    const scannerRows = await check(db, shape);
    ctx.log(
      `stats: ${engine.kind} ${events.toLocaleString("en-US")} events loaded in ${loadSec.toFixed(1)} s (${scannerRows.toLocaleString("en-US")} scanner rows), checked in ${((performance.now() - c0) / 1000).toFixed(1)} s`,
    );
    running = await m.start.startService(config, deps, { logger: false });
    // The service runs in this process: the garbage of generating and checking millions of rows
    // is collected now, not in the middle of the timed requests (at 10 M it put one endpoint's
    // p99 at 2–4× its p50-equal neighbour's, in whichever series it fell).
    collectGarbage();
    const channel = await latency(`${running.url}/api/channels/${channels[0]!.id}/stats`, adminToken);
    collectGarbage();
    const overview = await latency(`${running.url}/api/overview`, adminToken);
    if (explain) await logPlans(ctx, db, engine.kind, shape);
    return { events, loadSec, channel, overview, scannerRows };
  } finally {
    await running?.close();
    await db?.close();
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
