/**
 * Push ingestion end to end (issue #4): the whole service — safe-mode receiver, domain, group
 * commit, SQLite (WAL, `synchronous=NORMAL` and the service's own WAL fdatasync before the reply) or PostgreSQL — under 50
 * connections of distinct pushes from thousands of followers, next to a bare `node:http` server
 * answering "success" in the same run.
 *
 * Each row runs in fresh processes, as in the push section: the server under test in one, the
 * load generator (bench/load/ingest-cannon.ts) in another, which signs and encrypts every push
 * before the first request. Every request is a different push (its own dedupe key), so nothing
 * is deduplicated: subscribes of new followers through a channel's code and SCANs of it by 3,000
 * returning followers. The channel is created through the service, against an in-process
 * emulator, before the load.
 *
 * After a service row the server is killed (SIGKILL, no drain) and the database is opened from
 * here: every push the service answered 2xx must be in `push_log` (commit before reply, checked
 * rather than assumed), nothing else may be there but pushes that were in flight when the load
 * stopped, and the channel's counters, scanners and followers must agree with the log.
 *
 *   WXQR_TEST_POSTGRES_URL=postgres://… adds the PostgreSQL row (a fresh schema, dropped after).
 *   WXQR_BENCH_CPU_PROF=DIR (or 1: .tmp/cpu-prof) profiles the service rows' servers (`--cpu-prof`;
 *   they are then closed gracefully, not killed) and prints where their time went over the
 *   measured run (bench/load/cpu-profile.ts).
 *
 * Measured 2026-11-25 on the 2-core VM when quiet (load < 2): bare ≈ 41–46 k req/s; SQLite FULL
 * ≈ 2.0–2.5 k req/s (≈ 0.05 ×), p99 ≈ 40–49 ms; PostgreSQL ≈ 0.44–0.59 k req/s, p99 ≈ 0.3–0.7 s.
 * The SQLite server's time over the measured run (--cpu-prof): COMMIT + fsync 51 %, Node http/net
 * 14 %, SQLite statements 13 %, AES/SHA1 7 %, domain JS 5 %, XML 3 %, Fastify 2.5 %, GC 1 %. Its
 * group commit never groups: better-sqlite3 runs a whole transaction inside the macrotask of the
 * push that started it, so every push gets a transaction, and an fsync, of its own.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import type * as PushModule from "../../src/push/index.ts";
import type * as StoreModule from "../../src/store/index.ts";
import { startChild, stopAll, type Child } from "../load/child.ts";
import { formatProfileSummary, readCpuProfile, summariseCpuProfile } from "../load/cpu-profile.ts";
import type { IngestCannonJob, IngestCannonResult, PoolRegion, RunCounts } from "../load/ingest-cannon.ts";
import { pushSpec, RETURNING_FOLLOWERS, returningFollowerOf, safeRequest, type PoolParams, type PushSecrets } from "../load/ingest-pushes.ts";
import type { IngestListening, IngestServerConfig, IngestServerStats } from "../load/ingest-server.ts";
import type { PushServerConfig } from "../load/push-server.ts";
import type { SplitterConfig } from "../load/splitter.ts";
import { distIsFresh, type BenchContext, type BenchRow } from "../lib.ts";

type PushApi = typeof PushModule;
type StoreApi = typeof StoreModule;

export const name = "ingest";
export const description = "push ingestion end to end: safe mode, distinct pushes, commit before reply, 50 connections (req/s, p99; × bare node:http)";
/**
 * The peers section measures the same rows (through this module's serviceRow, with the kill and
 * the audit) in the full run; this one stays as the quicker tool with the server's CPU columns
 * and the profiler, run by name.
 */
export const onlyWhenNamed = true;

export const SECRETS: PushSecrets = {
  token: "benchIngestToken2026",
  appId: "wx5e7c1ce0000000b4",
  encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
  accountId: "gh_7f083739789a",
};
const APP_SECRET = "benchsecret0123456789abcdef01234";
export const PUSH_PATH = "/wechat";
export const CONNECTIONS = 50;
const WARMUP_SEC = 1;
const DURATION_SEC = 5;
/** Pool index of the one push sent before the load, to check the server answers "success". */
export const PROBE_INDEX = 0;
/**
 * The service rows' pool: enough distinct pushes for 24 k req/s (well above anything measured so far);
 * a faster service would send some twice, which fails the row with a request to raise these.
 * Building the pool costs ≈ 35 µs a push in the generator, before the warm-up.
 */
export const SERVICE_WARMUP: PoolRegion = { start: 4, perConnection: 480 };
const SERVICE_MEASURED: PoolRegion = { start: halfwayStart(SERVICE_WARMUP.start + SERVICE_WARMUP.perConnection * CONNECTIONS), perConnection: 2_400 };
/** The bare server deduplicates nothing: a smaller pool, sent round and round. */
const BARE_WARMUP: PoolRegion = { start: 4, perConnection: 100 };
const BARE_MEASURED: PoolRegion = { start: BARE_WARMUP.start + BARE_WARMUP.perConnection * CONNECTIONS, perConnection: 200 };

/**
 * The first index from `min` whose SCAN goes to the returning follower halfway round from the
 * warm-up's first: each run sends a prefix of its region, so a slow service (a few thousand
 * pushes in all) still meets a different follower with every push.
 */
export function halfwayStart(min: number): number {
  const target = (returningFollowerOf(SERVICE_WARMUP.start + 1)! + RETURNING_FOLLOWERS / 2) % RETURNING_FOLLOWERS;
  for (let i = min; i < min + 2 * RETURNING_FOLLOWERS; i++) if (returningFollowerOf(i) === target) return i;
  throw new Error("ingest bench: no index lines the measured run up halfway round the returning followers");
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`ingest bench: ${what}`);
}

/** The built dist when it is at least as new as every source, else the sources through tsx. */
export function chooseImpl(root: string): "dist" | "src" {
  const built = [
    "dist/cli/start-service.js",
    "dist/push/index.js",
    "dist/emulator/index.js",
    "dist/store/index.js",
    "dist/server/app.js",
    "dist/domain/index.js",
  ];
  return distIsFresh(root, built, ["src"]) ? "dist" : "src";
}

/** One POST on a fresh connection, outside the load. */
export function postOnce(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePost, reject) => {
    const headers = { "content-type": "text/xml", connection: "close", "content-length": String(Buffer.byteLength(body)) };
    const req = request(url, { method: "POST", agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolvePost({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

export interface Engine {
  kind: "sqlite" | "postgres";
  /** WXQR_DATABASE for the service. */
  url: string;
  cleanup(): Promise<void>;
}

export function sqliteEngine(): Engine {
  const dir = mkdtempSync(join(tmpdir(), "wxqr-bench-ingest-"));
  return { kind: "sqlite", url: `sqlite:${join(dir, "wxqr.db")}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function postgresEngine(adminUrl: string): Promise<Engine> {
  const schema = `wxqr_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const scoped = new URL(adminUrl);
  scoped.searchParams.set("options", `-c search_path=${schema}`);
  return {
    kind: "postgres",
    url: scoped.toString(),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface ServerCounters {
  handled: number;
  refused: number;
  duplicate: number;
  cpuMicros: number;
  /** Kernel part of cpuMicros (service rows only). */
  systemMicros?: number;
  atMs: number;
  /** The server's `process.hrtime` in µs (service rows only). */
  monoUs?: number;
  /** CPU of every `postgres` process on this machine, in µs (PostgreSQL rows only). */
  dbCpuMicros?: number;
}

let clockTicks: number | undefined;

/**
 * CPU used so far by every process named `postgres` on this machine (user + system, from
 * /proc/PID/stat), in µs: the database's share of a push, which the service's own CPU leaves out.
 * Every PostgreSQL on the machine counts, so it is only meaningful when the bench's is the only
 * one at work. Processes that ended since the last look are not counted (the bench's pool keeps
 * its backends for the whole run).
 */
export function postgresCpuMicros(): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(")");
    if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
    // Fields after the command: state is the 3rd field of the line, utime the 14th, stime the 15th.
    const fields = stat.slice(close + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks / clockTicks) * 1e6;
}

export interface LoadOutcome {
  result: IngestCannonResult;
  before: ServerCounters;
  after: ServerCounters;
}

/** Starts the generator against `url`, samples the server around the measured run, and checks every answer was a 2xx "success". */
export async function runLoad(
  ctx: BenchContext,
  label: string,
  job: IngestCannonJob,
  sample: () => Promise<ServerCounters>,
  allowRepeats: boolean,
  /** Whether requests unanswered within 5 s are counted (result.timeouts) rather than failing the run: only where nothing is stored. */
  allowTimeouts = false,
): Promise<LoadOutcome> {
  // Refusals before the load (forged probes) are the probes' business, not the load's.
  const atStart = await sample();
  const cannon = startChild("ingest-cannon.ts", job, `autocannon → ${label}`, ctx.root);
  let result: IngestCannonResult;
  let before: ServerCounters;
  let after: ServerCounters;
  try {
    // Building the pool and a run's buffers takes seconds when the cores are free, and several
    // times that when other work shares them: bounded, but generously.
    const ready = await cannon.waitFor<{ type: "ready"; pooled: number; generateMs: number }>("ready", 180_000);
    ctx.log(`ingest: ${label}: ${ready.pooled.toLocaleString("en-US")} pushes signed and encrypted in ${(ready.generateMs / 1000).toFixed(1)} s; load starts`);
    await cannon.waitFor("warmed", job.warmupSec * 1000 + 30_000);
    await cannon.waitFor("measuring", 120_000);
    before = await sample();
    result = await cannon.waitFor<IngestCannonResult>("result", job.durationSec * 1000 + 30_000);
    after = await sample();
  } finally {
    await cannon.stop();
  }
  // autocannon counts a timeout among the errors too.
  const bad = (r: RunCounts): number => r.non2xx + r.mismatches + (allowTimeouts ? r.errors - r.timeouts : r.errors + r.timeouts);
  if (bad(result) + bad(result.warmup) > 0 || after.refused > atStart.refused) {
    const counts = (r: RunCounts): string =>
      JSON.stringify({ non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, mismatches: r.mismatches, statusCodes: r.statusCodes });
    throw new Error(
      `ingest bench: ${label} had failures — measured: ${counts(result)}, warm-up: ${counts(result.warmup)}, server refused ${after.refused - atStart.refused}; every push must be answered 2xx "success"`,
    );
  }
  if (!allowRepeats && result.repeated + result.warmup.repeated > 0) {
    throw new Error(
      `ingest bench: ${label} sent ${result.repeated + result.warmup.repeated} pushes twice: a connection used up its share of the pool ` +
        `(${job.warmup.perConnection} warm-up / ${job.measured.perConnection} measured). The service is faster than the pool allows: raise SERVICE_WARMUP / SERVICE_MEASURED in bench/sections/ingest.ts`,
    );
  }
  expect(
    after.duplicate === atStart.duplicate,
    `${label}: the service found ${after.duplicate - atStart.duplicate} pushes already recorded; every push sent was distinct`,
  );
  expect(result.requests > 0, `${label}: no requests completed`);
  return { result, before, after };
}

export function measuredColumns(o: LoadOutcome, bare: number | undefined): BenchRow {
  const { result, before, after } = o;
  const cpuMicros = after.cpuMicros - before.cpuMicros;
  return {
    "req/s": Math.round(result.reqPerSec),
    "p50 ms": result.latencyP50Ms,
    "p99 ms": result.latencyP99Ms,
    "× bare": bare === undefined ? 1 : Math.round((result.reqPerSec / bare) * 1000) / 1000,
    "non-2xx": result.non2xx + result.warmup.non2xx,
    "srv µs/req": Math.round((cpuMicros / Math.max(1, after.handled - before.handled)) * 10) / 10,
    "srv CPU %": Math.round((cpuMicros / 1000 / (after.atMs - before.atMs)) * 100),
    "gen CPU %": Math.round(result.cpuPercent),
    ...(after.dbCpuMicros !== undefined && before.dbCpuMicros !== undefined
      ? { "db µs/req": Math.round(((after.dbCpuMicros - before.dbCpuMicros) / Math.max(1, after.handled - before.handled)) * 10) / 10 }
      : {}),
    n: result.requests,
  };
}

async function bareRow(ctx: BenchContext, impl: "dist" | "src", api: PushApi, pool: PoolParams): Promise<BenchRow & { reqPerSec: number }> {
  const config: PushServerConfig = {
    mode: "bare-success",
    impl,
    root: ctx.root,
    path: PUSH_PATH,
    token: SECRETS.token,
    appId: SECRETS.appId,
    encodingAESKey: SECRETS.encodingAESKey,
  };
  const server = startChild("push-server.ts", config, "server bare-success", ctx.root);
  try {
    const { port } = await server.waitFor<{ type: "listening"; port: number }>("listening", 30_000);
    const url = `http://127.0.0.1:${port}${PUSH_PATH}`;
    const probe = safeRequest(api, SECRETS, pool, PROBE_INDEX, "1415979516", Buffer.alloc(16, 7));
    const answer = await postOnce(`http://127.0.0.1:${port}${probe.pathAndQuery(PUSH_PATH)}`, probe.body);
    expect(answer.status === 200 && answer.body === "success", `bare probe answered ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))}`);
    const job: IngestCannonJob = {
      url,
      impl,
      root: ctx.root,
      secrets: SECRETS,
      pool,
      connections: CONNECTIONS,
      warmupSec: WARMUP_SEC,
      durationSec: DURATION_SEC,
      warmup: BARE_WARMUP,
      measured: BARE_MEASURED,
      expectBody: "success",
    };
    const sample = async (): Promise<ServerCounters> => {
      const s = await server.ask<{ type: "stats"; handled: number; refused: number; cpuMicros: number; atMs: number }>({ type: "stats" }, "stats", 5_000);
      return { handled: s.handled, refused: s.refused, duplicate: 0, cpuMicros: s.cpuMicros, atMs: s.atMs };
    };
    const outcome = await runLoad(ctx, "bare node:http", job, sample, true);
    return {
      case: 'a. node:http → "success" (reference)',
      ...measuredColumns(outcome, undefined),
      push_log: null,
      followers: null,
      note: `same generator and pushes (safe mode, ${Buffer.byteLength(probe.body)} B); reads the body, no checks; push section's bare-success server; p max ${Math.round(outcome.result.latencyMaxMs)} ms`,
      reqPerSec: outcome.result.reqPerSec,
    };
  } finally {
    await server.stop();
  }
}

interface Verification {
  rows: number;
  acked: number;
  /** Committed but not acknowledged: in flight when a run's clients stopped. */
  inFlight: number;
  followers: number;
  newFollowers: number;
  scans: number;
  uniqueScanners: number;
}

/**
 * Opens the database the killed server wrote and checks what it acknowledged is there, and that
 * the channel's counters agree with the log.
 */
async function verifyDatabase(
  store: StoreApi,
  engine: Engine,
  pool: PoolParams,
  regions: readonly PoolRegion[],
  acks: Uint8Array,
  channel: IngestListening["channel"],
  /** Pool indices outside the regions that were sent and acknowledged (besides the probe). */
  extra: readonly number[] = [],
): Promise<Verification> {
  // Every push of the pool by dedupe key → whether it is a new follower's subscribe.
  const poolKeys = new Map<string, boolean>();
  for (const index of [PROBE_INDEX, ...extra]) poolKeys.set(pushSpec(pool, index).dedupeKey, pushSpec(pool, index).newFollower);
  let maxCreateTime = pool.baseTime;
  for (const r of regions) {
    for (let i = r.start; i < r.start + r.perConnection * CONNECTIONS; i++) {
      const spec = pushSpec(pool, i);
      poolKeys.set(spec.dedupeKey, spec.newFollower);
      maxCreateTime = Math.max(maxCreateTime, spec.createTime);
    }
  }
  const db = store.openDatabase(engine.url);
  try {
    return await db.read(async (sql) => {
      const num = (v: unknown): number => Number(v ?? 0);
      const log = await sql.all<{ dedupe_key: string; qrcode_id: string | null; is_new_follower: number | null }>(
        "SELECT dedupe_key, qrcode_id, is_new_follower FROM push_log WHERE account_id = ?",
        [SECRETS.appId],
      );
      const logged = new Set(log.map((r) => r.dedupe_key));
      expect(logged.size === log.length, `push_log holds ${log.length - logged.size} duplicate dedupe keys`);

      let acked = 0;
      const missing: string[] = [];
      for (let i = 0; i < acks.length; i++) {
        if (acks[i] === 0) continue;
        expect(acks[i] === 1, `push ${i} was acknowledged ${acks[i]} times: it was sent more than once`);
        acked++;
        const key = pushSpec(pool, i).dedupeKey;
        if (!logged.has(key)) missing.push(key);
      }
      expect(
        missing.length === 0,
        `${missing.length} of ${acked} acknowledged pushes are not in push_log after the server was killed — "success" before commit? e.g. ${missing.slice(0, 3).join(", ")}`,
      );
      const unknown = log.filter((r) => !poolKeys.has(r.dedupe_key));
      expect(unknown.length === 0, `push_log holds ${unknown.length} pushes that were never sent, e.g. ${unknown[0]?.dedupe_key}`);
      const inFlight = log.length - acked;
      // At most one request per connection is unanswered when autocannon stops a run (two runs).
      expect(
        inFlight >= 0 && inFlight <= 2 * CONNECTIONS,
        `push_log holds ${log.length} pushes for ${acked} acknowledged: ${inFlight} more than were answered (at most ${2 * CONNECTIONS} can be in flight)`,
      );

      const attributed = log.filter((r) => r.qrcode_id === channel.qrcodeId);
      expect(attributed.length === log.length, `${log.length - attributed.length} of ${log.length} logged pushes were not attributed to the channel's code`);
      const newLogged = log.filter((r) => num(r.is_new_follower) === 1);
      const newSent = log.filter((r) => poolKeys.get(r.dedupe_key) === true);
      expect(
        newLogged.length === newSent.length,
        `push_log marks ${newLogged.length} new followers, but ${newSent.length} logged pushes were first subscribes`,
      );

      const day = await sql.get<{
        scans: number;
        unique_scanners: number;
        new_followers: number;
        returning_followers: number;
        unfollows: number;
        days: number;
      }>(
        `SELECT SUM(scans) AS scans, SUM(unique_scanners) AS unique_scanners, SUM(new_followers) AS new_followers,
           SUM(returning_followers) AS returning_followers, SUM(unfollows) AS unfollows, COUNT(*) AS days FROM channel_days WHERE channel_id = ?`,
        [channel.id],
      );
      const scanners = await sql.get<{ n: number; people: number }>(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT open_id) AS people FROM channel_scanners WHERE channel_id = ?",
        [channel.id],
      );
      const people = await sql.get<{ n: number }>("SELECT COUNT(DISTINCT open_id) AS n FROM push_log WHERE account_id = ?", [SECRETS.appId]);
      const followers = await sql.get<{ n: number; sourced: number }>(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN source_qrcode_id = ? THEN 1 ELSE 0 END) AS sourced FROM followers WHERE account_id = ?",
        [channel.qrcodeId, SECRETS.appId],
      );
      const c = {
        scans: num(day?.scans),
        unique: num(day?.unique_scanners),
        newF: num(day?.new_followers),
        returning: num(day?.returning_followers),
        unfollows: num(day?.unfollows),
      };
      const mismatch = (what: string, got: number, want: number): void => expect(got === want, `channel counter ${what} is ${got}, the log says ${want}`);
      mismatch("scans", c.scans, log.length);
      mismatch("new_followers", c.newF, newLogged.length);
      mismatch("returning_followers", c.returning, log.length - newLogged.length);
      mismatch("unfollows", c.unfollows, 0);
      mismatch("unique_scanners (vs channel_scanners rows)", c.unique, num(scanners?.n));
      // Within one statistics day (the pool spans about a minute), a scanner is one person.
      const oneDay = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" });
      if (oneDay.format(pool.baseTime * 1000) === oneDay.format(maxCreateTime * 1000)) {
        mismatch("unique_scanners (vs distinct openIds in the log)", c.unique, num(people?.n));
        mismatch("days", num(day?.days), 1);
      }
      expect(num(followers?.n) === num(people?.n), `followers holds ${num(followers?.n)} rows for ${num(people?.n)} distinct openIds in push_log`);
      expect(
        num(followers?.sourced) === newLogged.length,
        `${num(followers?.sourced)} followers name the channel's code as their source; ${newLogged.length} came through it as new followers`,
      );
      // The openIds the logged pushes were sent from, by the pool: each one person in the log. (Not
      // "one follower per push": a connection far ahead of the others, as behind two instances of
      // unequal speed, reaches returning followers the measured run also scans. The row's note
      // says when fewer than 2,000 followers came.)
      const sentFrom = new Set(log.map((r) => r.dedupe_key.slice(0, r.dedupe_key.indexOf("|")))).size;
      expect(num(people?.n) === sentFrom, `push_log holds ${num(people?.n)} distinct openIds; its pushes were sent from ${sentFrom}`);
      return { rows: log.length, acked, inFlight, followers: num(followers?.n), newFollowers: newLogged.length, scans: c.scans, uniqueScanners: c.unique };
    });
  } finally {
    await db.close();
  }
}

/** The main thread's profile of process `pid` (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`; thread 0; tsx's loader thread has its own). */
function mainThreadProfile(dir: string, pid: number): string | undefined {
  const name = readdirSync(dir).find((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.0.`));
  return name === undefined ? undefined : join(dir, name);
}

/** How a service row's load is shaped, and what else it checks before the load; the ingest section's own constants by default. */
export interface ServiceRowOptions {
  warmupSec?: number;
  durationSec?: number;
  warmup?: PoolRegion;
  measured?: PoolRegion;
  /**
   * Runs after the valid probe and before the load (e.g. forged pushes): returns cells for the row
   * and the pool indices of any push it got acknowledged, which the audit then expects in the log.
   */
  beforeLoad?: (base: string, pool: PoolParams, sample: () => Promise<ServerCounters>) => Promise<{ cells: BenchRow; acked: number[] }>;
  /**
   * `wxqr serve` processes on the one database (default 1). With more, the load goes through a
   * round-robin TCP splitter (bench/load/splitter.ts) that hands each connection to the next
   * instance; all are killed before the audit, and the counters sum theirs.
   */
  instances?: number;
}

export async function serviceRow(
  ctx: BenchContext,
  impl: "dist" | "src",
  api: PushApi,
  store: StoreApi,
  engine: Engine,
  label: string,
  bare: number,
  profileDir: string | undefined,
  options: ServiceRowOptions = {},
): Promise<BenchRow> {
  const warmupSec = options.warmupSec ?? WARMUP_SEC;
  const durationSec = options.durationSec ?? DURATION_SEC;
  const warmup = options.warmup ?? SERVICE_WARMUP;
  const measured = options.measured ?? SERVICE_MEASURED;
  const config: IngestServerConfig = {
    impl,
    root: ctx.root,
    database: engine.url,
    appId: SECRETS.appId,
    appSecret: APP_SECRET,
    token: SECRETS.token,
    encodingAESKey: SECRETS.encodingAESKey,
  };
  const instances = options.instances ?? 1;
  const execArgv = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const server: Child = startChild("ingest-server.ts", config, `service ${engine.kind}`, ctx.root, { execArgv });
  const listening = await server.waitFor<IngestListening>("listening", 60_000);
  const servers = [server];
  const ports = [listening.port];
  // One after the other: the first has migrated the database and created the channel.
  for (let i = 2; i <= instances; i++) {
    const next = startChild("ingest-server.ts", { ...config, channel: listening.channel }, `service ${engine.kind} #${i}`, ctx.root, { execArgv });
    servers.push(next);
    ports.push((await next.waitFor<IngestListening>("listening", 60_000)).port);
  }
  const splitter = instances > 1 ? startChild("splitter.ts", { upstreams: ports } satisfies SplitterConfig, "splitter", ctx.root) : undefined;
  const port = splitter ? (await splitter.waitFor<{ type: "listening"; port: number }>("listening", 30_000)).port : listening.port;
  if (engine.kind === "sqlite") {
    expect(
      listening.sqlite?.journalMode === "wal" && (listening.sqlite.synchronous === 2 || listening.sqlite.synchronous === 1),
      `SQLite is not WAL + synchronous=FULL, or NORMAL with the service's own WAL fdatasync: ${JSON.stringify(listening.sqlite)}`,
    );
  }
  const pool: PoolParams = {
    baseTime: Math.floor(Date.now() / 1000) - 20,
    tag: `${engine.kind[0]}${(Date.now() % 1_679_616).toString(36)}`,
    sceneId: listening.channel.sceneId,
    ticket: listening.channel.ticket,
  };
  const base = `http://127.0.0.1:${port}`;
  const probe = safeRequest(api, SECRETS, pool, PROBE_INDEX, "1415979516", Buffer.alloc(16, 7));
  const answer = await postOnce(`${base}${probe.pathAndQuery(PUSH_PATH)}`, probe.body);
  expect(answer.status === 200 && answer.body === "success", `${label}: probe answered ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))}`);

  const job: IngestCannonJob = {
    url: `${base}${PUSH_PATH}`,
    impl,
    root: ctx.root,
    secrets: SECRETS,
    pool,
    connections: CONNECTIONS,
    warmupSec,
    durationSec,
    warmup,
    measured,
    expectBody: "success",
  };
  const perInstance = (): Promise<IngestServerStats[]> => Promise.all(servers.map((s) => s.ask<IngestServerStats>({ type: "stats" }, "stats", 5_000)));
  const sample = async (): Promise<ServerCounters> => {
    const all = await perInstance();
    const sum = (f: (s: IngestServerStats) => number): number => all.reduce((n, s) => n + f(s), 0);
    return {
      handled: sum((s) => s.recorded + s.duplicate),
      refused: sum((s) => s.refused),
      duplicate: sum((s) => s.duplicate),
      cpuMicros: sum((s) => s.cpuMicros),
      systemMicros: sum((s) => s.systemMicros),
      atMs: all[0]!.atMs,
      monoUs: all[0]!.monoUs,
      ...(engine.kind === "postgres" ? { dbCpuMicros: postgresCpuMicros() } : {}),
    };
  };
  const checked = options.beforeLoad ? await options.beforeLoad(base, pool, sample) : { cells: {}, acked: [] };
  const outcome = await runLoad(ctx, label, job, sample, false);
  const handledEach = (await perInstance()).map((s) => s.recorded + s.duplicate);
  expect(
    handledEach.every((n) => n > 0),
    `${label}: an instance handled no push (${handledEach.join(" / ")}): the splitter did not spread the connections`,
  );

  await splitter?.stop();
  for (const s of servers) {
    if (profileDir)
      await s.stop(15_000); // a graceful exit writes the profile
    else await s.kill(); // a crash: only what was committed survives
  }
  const acks = new Uint8Array(Buffer.from(outcome.result.acks, "base64"));
  acks[PROBE_INDEX] = 1; // answered "success" above
  for (const index of checked.acked) acks[index] = 1;
  const v = await verifyDatabase(store, engine, pool, [warmup, measured], acks, listening.channel, checked.acked);
  ctx.log(
    `ingest: ${label}: verified after ${profileDir ? "a graceful close" : "SIGKILL"}: ${v.acked.toLocaleString("en-US")} acknowledged pushes all in push_log ` +
      `(+${v.inFlight} in flight at the stop); ${v.followers.toLocaleString("en-US")} followers, ${v.newFollowers.toLocaleString("en-US")} new; counters agree`,
  );
  if (profileDir) {
    const file = mainThreadProfile(profileDir, server.pid);
    if (file) {
      const window = { fromUs: outcome.before.monoUs, toUs: outcome.after.monoUs, topN: 20 };
      ctx.log(
        `ingest: CPU profile of the ${engine.kind} service over the measured ${durationSec} s (${file}):\n${formatProfileSummary(summariseCpuProfile(readCpuProfile(file), window))}`,
      );
    } else ctx.log(`ingest: no main-thread .cpuprofile of pid ${server.pid} in ${profileDir}`);
  }
  const sync =
    engine.kind === "sqlite"
      ? listening.sqlite?.synchronous === 1
        ? "WAL, synchronous=NORMAL + fdatasync before reply"
        : "WAL, synchronous=FULL"
      : "fresh schema";
  const spread =
    instances > 1 ? `${instances} instances behind a round-robin splitter handled ${handledEach.map((n) => n.toLocaleString("en-US")).join(" / ")}; ` : "";
  const cpu = outcome.after.cpuMicros - outcome.before.cpuMicros;
  const kernelShare = Math.round((((outcome.after.systemMicros ?? 0) - (outcome.before.systemMicros ?? 0)) / Math.max(1, cpu)) * 100);
  return {
    case: label,
    ...measuredColumns(outcome, bare),
    ...checked.cells,
    push_log: v.rows,
    followers: v.followers,
    note:
      `${sync}; ${spread}server CPU ${kernelShare} % in the kernel; ${v.acked.toLocaleString("en-US")} acked = in push_log after ${profileDir ? "close" : "SIGKILL"} (+${v.inFlight} in flight); ` +
      `${v.newFollowers.toLocaleString("en-US")} new + ${RETURNING_FOLLOWERS.toLocaleString("en-US")} returning openIds${v.followers < 2_000 ? " (FEWER THAN 2,000 FOLLOWERS: too few pushes handled)" : ""}; p max ${Math.round(outcome.result.latencyMaxMs)} ms${profileDir ? "; PROFILED (--cpu-prof)" : ""}`,
  };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const impl = chooseImpl(ctx.root);
  const load = async <T>(dist: string, src: string): Promise<T> => (await import(pathToFileURL(join(ctx.root, impl === "dist" ? dist : src)).href)) as T;
  const api = await load<PushApi>("dist/push/index.js", "src/push/index.ts");
  const store = await load<StoreApi>("dist/store/index.js", "src/store/index.ts");
  ctx.log(`ingest: measuring ${impl === "dist" ? "dist" : "src (dist missing or stale)"}`);
  const profileEnv = process.env.WXQR_BENCH_CPU_PROF;
  const profileDir = profileEnv ? resolve(ctx.root, profileEnv === "1" ? ".tmp/cpu-prof" : profileEnv) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const postgresUrl = process.env.WXQR_TEST_POSTGRES_URL;

  const rows: BenchRow[] = [];
  const engines: Engine[] = [];
  try {
    ctx.log(`ingest: a. bare node:http (${WARMUP_SEC} s warm-up + ${DURATION_SEC} s, ${CONNECTIONS} connections)`);
    const barePool: PoolParams = {
      baseTime: Math.floor(Date.now() / 1000) - 20,
      tag: "bare",
      sceneId: 1,
      ticket: "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==",
    };
    const { reqPerSec: bare, ...bareCells } = await bareRow(ctx, impl, api, barePool);
    rows.push(bareCells);

    const sqlite = sqliteEngine();
    engines.push(sqlite);
    ctx.log(`ingest: b. service on SQLite${profileDir ? " (profiled)" : ""}`);
    rows.push(await serviceRow(ctx, impl, api, store, sqlite, "b. service, SQLite (WAL), safe mode", bare, profileDir));

    const pgCase = "c. service, PostgreSQL, safe mode";
    if (postgresUrl) {
      const postgres = await postgresEngine(postgresUrl);
      engines.push(postgres);
      ctx.log(`ingest: c. service on PostgreSQL${profileDir ? " (profiled)" : ""}`);
      rows.push(await serviceRow(ctx, impl, api, store, postgres, pgCase, bare, profileDir));
    } else {
      ctx.log("ingest: c. PostgreSQL skipped: WXQR_TEST_POSTGRES_URL is not set");
      rows.push({ case: pgCase, "req/s": null, "p99 ms": null, "× bare": null, note: "skipped: set WXQR_TEST_POSTGRES_URL to run it" });
    }
  } finally {
    await stopAll();
    for (const e of engines) await e.cleanup().catch((error: unknown) => ctx.log(`ingest: cleanup of the ${e.kind} database failed: ${String(error)}`));
  }
  return rows;
}
