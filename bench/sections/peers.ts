/**
 * Push ingestion over HTTP against the Node peers (issue #11), one table: the same safe-mode
 * pushes, every one distinct and pre-generated, 50 connections, each target the median of 3 runs
 * in fresh processes (server and load generator apart, as in the ingest section):
 *
 * - bare `node:http` answering "success" after reading the body — the reference (× bare);
 * - bare `node:http` + wxqr's receiver (signature, timestamp, msg_signature, AES), no storage;
 * - `wechat` (node-webot) on Express and `co-wechat` on Koa, safe mode, a handler that stores
 *   nothing and answers the empty string;
 * - `wxqr serve` on SQLite, and on PostgreSQL when WXQR_BENCH_POSTGRES_URL (or
 *   WXQR_TEST_POSTGRES_URL) is set: every run is killed (SIGKILL) after its load and its database
 *   audited, as in the ingest section;
 * - two `wxqr serve` processes on one PostgreSQL database behind a round-robin TCP splitter
 *   (bench/load/splitter.ts), both killed after the load and the one database audited.
 *
 * Before each load the target must answer one valid push with 200; then it gets a push whose
 * `msg_signature` is forged and one whose `signature` is forged (each otherwise valid, so only
 * that check can refuse it). A forgery counts as accepted when it is answered 2xx and reaches the
 * handler (or the log).
 *
 * Each row also says what a request cost in CPU, the server's, the generator's and for PostgreSQL
 * the database's (every `postgres` process on the machine), and from that the rate the machine's
 * cores would reach if all were busy all the time ("CPU ceiling", as × bare): a goal above it
 * needs a cheaper push, not better overlap of waits.
 *
 * The peers are installed by the section itself, on first run, into bench/.peers/ (git-ignored,
 * its own package.json), never as wxqr dependencies.
 *
 *   WXQR_BENCH_PEERS_SEC=N  measured seconds per run (default 5, so that the whole bench fits in 15 minutes
 *   on 2 cores; 10 is the issue's figure; the warm-up is 1 s).
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as PushModule from "../../src/push/index.ts";
import type * as StoreModule from "../../src/store/index.ts";
import { startChild, stopAll, type Child } from "../load/child.ts";
import type { IngestCannonJob, PoolRegion } from "../load/ingest-cannon.ts";
import { safeRequest, type PoolParams } from "../load/ingest-pushes.ts";
import type { PeerName, PeerServerConfig } from "../load/peer-server.ts";
import type { PushServerConfig } from "../load/push-server.ts";
import { type BenchContext, type BenchRow } from "../lib.ts";
import {
  chooseImpl,
  CONNECTIONS,
  halfwayStart,
  measuredColumns,
  postgresEngine,
  postOnce,
  PROBE_INDEX,
  PUSH_PATH,
  runLoad,
  SECRETS,
  serviceRow,
  sqliteEngine,
  type Engine,
  type ServerCounters,
} from "./ingest.ts";

type PushApi = typeof PushModule;
type StoreApi = typeof StoreModule;

export const name = "peers";
export const description =
  "push ingestion over HTTP vs the Node peers: safe mode, distinct pushes, 50 connections, median of 3 runs (req/s, p99; × bare node:http; forgeries)";

const RUNS = 3;
const WARMUP_SEC = 1;
const DURATION_SEC = positiveNumber(process.env.WXQR_BENCH_PEERS_SEC, 5);
/**
 * Distinct pushes are built for this rate over the whole run (≈ 20 µs each in the generator):
 * bare node:http has done 47 k req/s here, the others at most 13 k. A faster target would send
 * some twice: shown in the row where nothing deduplicates, a failure for wxqr serve.
 */
const BARE_POOL_RATE = 60_000;
const POOL_RATE = 24_000;

interface PoolShape {
  rate: number;
  warmup: PoolRegion;
  measured: PoolRegion;
}

function poolShape(rate: number): PoolShape {
  const warmup: PoolRegion = { start: 4, perConnection: Math.ceil((rate * WARMUP_SEC) / CONNECTIONS) };
  const measured: PoolRegion = {
    start: halfwayStart(warmup.start + warmup.perConnection * CONNECTIONS),
    perConnection: Math.ceil((rate * DURATION_SEC) / CONNECTIONS),
  };
  return { rate, warmup, measured };
}
/** Pool indices of the forged pushes: between the probe and the warm-up, so never sent by the load. */
const FORGED_MSG_SIGNATURE_INDEX = 1;
const FORGED_SIGNATURE_INDEX = 2;

/** Exact versions, so every run measures the same code; all run on Node 20. co-wechat-api is the token section's peer. */
export const PEER_PACKAGES = { wechat: "2.1.0", "co-wechat": "2.4.0", express: "4.21.2", koa: "2.15.3", "co-wechat-api": "3.11.0" } as const;

function positiveNumber(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`peers bench: WXQR_BENCH_PEERS_SEC must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  return n;
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`peers bench: ${what}`);
}

function installedVersion(peersDir: string, pkg: string): string | undefined {
  const file = join(peersDir, "node_modules", pkg, "package.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version : undefined;
}

/** Installs the peers into `peersDir` unless the wanted versions are already there. */
export function ensurePeers(ctx: BenchContext, peersDir: string): void {
  const wanted = Object.entries(PEER_PACKAGES);
  if (wanted.every(([pkg, version]) => installedVersion(peersDir, pkg) === version)) return;
  mkdirSync(peersDir, { recursive: true });
  // A package.json of its own stops npm from walking up to wxqr's and adding them there.
  writeFileSync(join(peersDir, "package.json"), `${JSON.stringify({ name: "wxqr-bench-peers", private: true }, null, 2)}\n`);
  ctx.log(`peers: installing ${wanted.map(([p, v]) => `${p}@${v}`).join(" ")} into ${peersDir}`);
  execFileSync(
    "npm",
    ["install", "--prefix", peersDir, "--no-audit", "--no-fund", "--save-exact", "--loglevel=error", ...wanted.map(([p, v]) => `${p}@${v}`)],
    { stdio: ["ignore", 2, 2], timeout: 180_000 },
  );
  for (const [pkg, version] of wanted) expect(installedVersion(peersDir, pkg) === version, `npm did not install ${pkg}@${version} into ${peersDir}`);
}

function poolFor(tag: string, sceneId: number, ticket: string): PoolParams {
  return { baseTime: Math.floor(Date.now() / 1000) - 20, tag: `${tag}${(Date.now() % 1_679_616).toString(36)}`, sceneId, ticket };
}

/** A valid push at `index` with one of its two signatures replaced by one made with a wrong token. */
function forgedRequest(api: PushApi, pool: PoolParams, index: number, forge: "msg_signature" | "signature"): { path: string; body: string } {
  const r = safeRequest(api, SECRETS, pool, index, "1415979517", Buffer.alloc(16, 9));
  const url = new URL(r.pathAndQuery(PUSH_PATH), "http://127.0.0.1");
  const forgedValue = api.computeSignature("forged-token", url.searchParams.get("timestamp")!, url.searchParams.get("nonce")!);
  expect(forgedValue !== url.searchParams.get(forge), "the forged signature equals the real one");
  url.searchParams.set(forge, forgedValue);
  return { path: `${url.pathname}${url.search}`, body: r.body };
}

interface ForgeryOutcome {
  cells: BenchRow;
  acked: number[];
}

/** Sends the two forged pushes; accepted = answered 2xx and seen by the handler (`handled` grew). */
async function checkForgeries(api: PushApi, base: string, pool: PoolParams, sample: () => Promise<ServerCounters>): Promise<ForgeryOutcome> {
  const cells: BenchRow = {};
  const acked: number[] = [];
  for (const [forge, index, column] of [
    ["msg_signature", FORGED_MSG_SIGNATURE_INDEX, "forged msg_signature"],
    ["signature", FORGED_SIGNATURE_INDEX, "forged signature"],
  ] as const) {
    const request = forgedRequest(api, pool, index, forge);
    const before = (await sample()).handled;
    const answer = await postOnce(`${base}${request.path}`, request.body);
    const handled = (await sample()).handled - before;
    const ok = answer.status >= 200 && answer.status < 300;
    if (ok && handled > 0) acked.push(index);
    cells[column] = ok && handled > 0 ? `ACCEPTED (${answer.status})` : `refused (${answer.status}${ok ? ", not handled" : ""})`;
  }
  return { cells, acked };
}

interface RunFigures {
  reqPerSec: number;
  p99Ms: number;
  forgery: BenchRow;
  repeated: number;
  /** Requests unanswered within 5 s (WeChat's limit), warm-up included. */
  timeouts: number;
  /** CPU per answered request over the measured run: the server's (all its processes), the load generator's. */
  serverMicrosPerReq: number;
  generatorMicrosPerReq: number;
  /** PostgreSQL's own processes, where the target has them. */
  databaseMicrosPerReq: number | null;
}

type StatelessTarget = ({ kind: "push-server"; mode: "bare-success" | "bare-receiver" } | { kind: "peer"; peer: PeerName }) & { pool: PoolShape };

/** One run of a server that stores nothing: probe, forgeries, load; the server is then stopped. */
async function statelessRun(
  ctx: BenchContext,
  impl: "dist" | "src",
  api: PushApi,
  target: StatelessTarget,
  label: string,
  peersDir: string,
): Promise<RunFigures> {
  const secrets = { path: PUSH_PATH, token: SECRETS.token, appId: SECRETS.appId, encodingAESKey: SECRETS.encodingAESKey };
  const server: Child =
    target.kind === "push-server"
      ? startChild("push-server.ts", { mode: target.mode, impl, root: ctx.root, ...secrets } satisfies PushServerConfig, `server ${label}`, ctx.root)
      : startChild("peer-server.ts", { peer: target.peer, peersDir, ...secrets } satisfies PeerServerConfig, `server ${label}`, ctx.root);
  try {
    const { port } = await server.waitFor<{ type: "listening"; port: number }>("listening", 30_000);
    const base = `http://127.0.0.1:${port}`;
    const pool = poolFor("p", 1, "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==");
    const probe = safeRequest(api, SECRETS, pool, PROBE_INDEX, "1415979516", Buffer.alloc(16, 7));
    const answer = await postOnce(`${base}${probe.pathAndQuery(PUSH_PATH)}`, probe.body);
    expect(answer.status === 200, `${label}: a valid push was answered ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))}`);
    const sample = async (): Promise<ServerCounters> => {
      const s = await server.ask<{ type: "stats"; handled: number; refused: number; cpuMicros: number; atMs: number }>({ type: "stats" }, "stats", 5_000);
      return { handled: s.handled, refused: s.refused, duplicate: 0, cpuMicros: s.cpuMicros, atMs: s.atMs };
    };
    const forgery = await checkForgeries(api, base, pool, sample);
    const job: IngestCannonJob = {
      url: `${base}${PUSH_PATH}`,
      impl,
      root: ctx.root,
      secrets: SECRETS,
      pool,
      connections: CONNECTIONS,
      warmupSec: WARMUP_SEC,
      durationSec: DURATION_SEC,
      warmup: target.pool.warmup,
      measured: target.pool.measured,
      // Whatever the target answers a valid push (the peers: the empty string) must be every answer.
      expectBody: answer.body,
    };
    const outcome = await runLoad(ctx, label, job, sample, true, true);
    const { result } = outcome;
    const timeouts = result.timeouts + result.warmup.timeouts;
    if (timeouts > 0) ctx.log(`peers: ${label}: ${timeouts} requests unanswered within 5 s`);
    const cpu = cpuPerRequest(measuredColumns(outcome, undefined));
    return { reqPerSec: result.reqPerSec, p99Ms: result.latencyP99Ms, forgery: forgery.cells, repeated: result.repeated, timeouts, ...cpu };
  } finally {
    await server.stop();
  }
}

/** One run of `wxqr serve` on a fresh database: the ingest section's row (kill + audit) with the forgery checks. */
async function serviceRun(
  ctx: BenchContext,
  impl: "dist" | "src",
  api: PushApi,
  store: StoreApi,
  makeEngine: () => Promise<Engine>,
  label: string,
  bare: number,
  instances = 1,
): Promise<RunFigures> {
  const engine = await makeEngine();
  try {
    let forgery: BenchRow = {};
    const { warmup, measured } = poolShape(POOL_RATE);
    const row = await serviceRow(ctx, impl, api, store, engine, label, bare, undefined, {
      warmupSec: WARMUP_SEC,
      durationSec: DURATION_SEC,
      warmup,
      measured,
      instances,
      beforeLoad: async (base, pool, sample) => {
        const outcome = await checkForgeries(api, base, pool, sample);
        forgery = outcome.cells;
        return { cells: {}, acked: outcome.acked };
      },
    });
    // A timeout fails a service run, so none is counted here.
    return { reqPerSec: Number(row["req/s"]), p99Ms: Number(row["p99 ms"]), forgery, repeated: 0, timeouts: 0, ...cpuPerRequest(row) };
  } finally {
    await engine.cleanup().catch((error: unknown) => ctx.log(`peers: cleanup of the ${engine.kind} database failed: ${String(error)}`));
  }
}

/** CPU per request from a row of measured columns ("srv µs/req", "gen CPU %", "req/s"). */
function cpuPerRequest(row: BenchRow): Pick<RunFigures, "serverMicrosPerReq" | "generatorMicrosPerReq" | "databaseMicrosPerReq"> {
  const rate = Number(row["req/s"]);
  return {
    serverMicrosPerReq: Number(row["srv µs/req"]),
    generatorMicrosPerReq: (Number(row["gen CPU %"]) / 100) * (1e6 / Math.max(1, rate)),
    databaseMicrosPerReq: row["db µs/req"] === undefined ? null : Number(row["db µs/req"]),
  };
}

/**
 * The rate the machine's cores could reach if the server, the generator and (where there is one)
 * PostgreSQL spent all of them at the CPU per request measured: what no tuning of waits, batching
 * or concurrency can exceed while a push costs what it costs.
 */
function cpuCeiling(runs: readonly RunFigures[]): number {
  const perRequest = median(runs.map((r) => r.serverMicrosPerReq + r.generatorMicrosPerReq + (r.databaseMicrosPerReq ?? 0)));
  return (availableParallelism() * 1e6) / perRequest;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function tableRow(target: string, runs: readonly RunFigures[], bare: number | undefined, note: string, poolRate = POOL_RATE): BenchRow {
  const rate = median(runs.map((r) => r.reqPerSec));
  const verdicts = runs.map((r) => JSON.stringify(r.forgery));
  expect(
    verdicts.every((v) => v === verdicts[0]),
    `${target}: the forgery checks differ between runs: ${verdicts.join(" / ")}`,
  );
  const repeated = runs.reduce((n, r) => n + r.repeated, 0);
  return {
    target,
    "req/s": Math.round(rate),
    "p99 ms": median(runs.map((r) => r.p99Ms)),
    "× bare": bare === undefined ? 1 : Math.round((rate / bare) * 1000) / 1000,
    ...runs[0]!.forgery,
    "timeouts > 5 s": runs.reduce((n, r) => n + r.timeouts, 0),
    "srv µs/req": Math.round(median(runs.map((r) => r.serverMicrosPerReq))),
    "gen µs/req": Math.round(median(runs.map((r) => r.generatorMicrosPerReq))),
    "db µs/req": runs[0]!.databaseMicrosPerReq === null ? null : Math.round(median(runs.map((r) => r.databaseMicrosPerReq ?? 0))),
    "CPU ceiling × bare": Math.round((cpuCeiling(runs) / (bare ?? rate)) * 1000) / 1000,
    "runs req/s": runs.map((r) => Math.round(r.reqPerSec).toLocaleString("en-US")).join(" / "),
    note: repeated > 0 ? `${note}; ${repeated.toLocaleString("en-US")} pushes sent twice (faster than the pool's ${poolRate.toLocaleString("en-US")}/s)` : note,
  };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const peersDir = join(ctx.root, "bench", ".peers");
  ensurePeers(ctx, peersDir);
  const impl = chooseImpl(ctx.root);
  const load = async <T>(dist: string, src: string): Promise<T> => (await import(pathToFileURL(join(ctx.root, impl === "dist" ? dist : src)).href)) as T;
  const api = await load<PushApi>("dist/push/index.js", "src/push/index.ts");
  const store = await load<StoreApi>("dist/store/index.js", "src/store/index.ts");
  const postgresUrl = process.env.WXQR_BENCH_POSTGRES_URL ?? process.env.WXQR_TEST_POSTGRES_URL;
  ctx.log(`peers: measuring wxqr's ${impl}; ${RUNS} runs × (${WARMUP_SEC} s warm-up + ${DURATION_SEC} s) per target, ${CONNECTIONS} connections`);

  const repeat = async (label: string, once: () => Promise<RunFigures>): Promise<RunFigures[]> => {
    const runs: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      ctx.log(`peers: ${label}, run ${i + 1} of ${RUNS}`);
      runs.push(await once());
    }
    return runs;
  };
  const stateless = (target: StatelessTarget, label: string): Promise<RunFigures[]> =>
    repeat(label, () => statelessRun(ctx, impl, api, target, label, peersDir));

  const rows: BenchRow[] = [];
  try {
    const bareRuns = await stateless({ kind: "push-server", mode: "bare-success", pool: poolShape(BARE_POOL_RATE) }, "bare node:http");
    const bare = median(bareRuns.map((r) => r.reqPerSec));
    rows.push(tableRow('node:http → "success"', bareRuns, undefined, "reads the body, no checks: the reference", BARE_POOL_RATE));
    const receiverRuns = await stateless({ kind: "push-server", mode: "bare-receiver", pool: poolShape(POOL_RATE) }, "node:http + receiver");
    rows.push(tableRow("node:http + wxqr receiver", receiverRuns, bare, "signature, timestamp, msg_signature, AES; no storage"));
    const wechatRuns = await stateless({ kind: "peer", peer: "wechat", pool: poolShape(POOL_RATE) }, "wechat on Express");
    rows.push(tableRow(`wechat ${PEER_PACKAGES.wechat} on Express ${PEER_PACKAGES.express}`, wechatRuns, bare, "no storage; handler answers the empty string"));
    const coRuns = await stateless({ kind: "peer", peer: "co-wechat", pool: poolShape(POOL_RATE) }, "co-wechat on Koa");
    rows.push(tableRow(`co-wechat ${PEER_PACKAGES["co-wechat"]} on Koa ${PEER_PACKAGES.koa}`, coRuns, bare, "no storage; handler answers the empty string"));

    const sqliteRuns = await repeat("wxqr serve, SQLite", () => serviceRun(ctx, impl, api, store, async () => sqliteEngine(), "wxqr serve, SQLite", bare));
    rows.push(
      tableRow("wxqr serve, SQLite", sqliteRuns, bare, "WAL, synchronous=NORMAL + fdatasync of the WAL before the reply; killed and audited after each run"),
    );
    if (postgresUrl) {
      const pgRuns = await repeat("wxqr serve, PostgreSQL", () =>
        serviceRun(ctx, impl, api, store, () => postgresEngine(postgresUrl), "wxqr serve, PostgreSQL", bare),
      );
      rows.push(tableRow("wxqr serve, PostgreSQL", pgRuns, bare, "fresh schema per run, commit before reply; killed and audited after each run"));
      const twoLabel = "2 × wxqr serve, one PostgreSQL";
      const twoRuns = await repeat(twoLabel, () => serviceRun(ctx, impl, api, store, () => postgresEngine(postgresUrl), twoLabel, bare, 2));
      const two = tableRow(
        twoLabel,
        twoRuns,
        bare,
        "two processes on one fresh schema behind a round-robin TCP splitter (connections alternate); both killed, then the one database audited",
      );
      const one = median(pgRuns.map((r) => r.reqPerSec));
      rows.push({ ...two, "× one instance": Math.round((median(twoRuns.map((r) => r.reqPerSec)) / one) * 100) / 100 });
    } else {
      ctx.log("peers: wxqr serve on PostgreSQL skipped: set WXQR_BENCH_POSTGRES_URL or WXQR_TEST_POSTGRES_URL");
      rows.push({
        target: "wxqr serve, PostgreSQL",
        "req/s": null,
        "p99 ms": null,
        "× bare": null,
        note: "skipped: set WXQR_BENCH_POSTGRES_URL (or WXQR_TEST_POSTGRES_URL)",
      });
      rows.push({ target: "2 × wxqr serve, one PostgreSQL", "req/s": null, "p99 ms": null, "× bare": null, note: "skipped, as the row above" });
    }
  } finally {
    await stopAll();
  }
  return rows;
}
