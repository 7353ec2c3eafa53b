/**
 * The load generator of the ingest section, in a process of its own: every request a distinct
 * safe-mode push (bench/load/ingest-pushes.ts), all signed and encrypted here before the first
 * request goes out, then autocannon for a warm-up run and a measured run.
 *
 * Each run uses its own region of the pool, and connection `c` of a run sends the pushes
 * `start + c`, `start + c + connections`, … of its region (prebuilt request buffers, so sending
 * costs what the push section's fixed body costs). A connection that has sent its whole share
 * starts it again: that repeats pushes, which is allowed only where nothing deduplicates (the
 * bare reference), and reported otherwise. Every 2xx answer is recorded against the push it
 * answers, so the section can look for each acknowledged push in the database afterwards.
 *
 * Messages: `{ type: "ready" }` once the pool is built, `{ type: "warmed" }` after the warm-up,
 * `{ type: "measuring" }` when the measured run's connections are set up and its clock starts,
 * `{ type: "result" }` (an `IngestCannonResult`) at the end.
 * @module
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import type * as PushModule from "../../src/push/index.ts";
import type { CannonFailures } from "./cannon.ts";
import { childConfig, fail, serveParent, toParent } from "./child.ts";
import { safeRequest, type PoolParams, type PushSecrets } from "./ingest-pushes.ts";

export interface PoolRegion {
  /** Pool index of the region's first push. */
  start: number;
  /** Pushes each connection has in this region. */
  perConnection: number;
}

export interface IngestCannonJob {
  /** The push URL without query (`http://127.0.0.1:port/wechat`). */
  url: string;
  impl: "dist" | "src";
  root: string;
  secrets: PushSecrets;
  pool: PoolParams;
  connections: number;
  warmupSec: number;
  durationSec: number;
  warmup: PoolRegion;
  measured: PoolRegion;
  /** Every answer must be exactly this; others count as mismatches. */
  expectBody: string;
}

export interface RunCounts extends CannonFailures {
  requests: number;
  ok2xx: number;
  /** Requests sent beyond a connection's share: pushes sent a second time. */
  repeated: number;
}

export interface IngestCannonResult extends RunCounts {
  type: "result";
  reqPerSec: number;
  latencyMeanMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  durationSec: number;
  cpuPercent: number;
  /** Pushes built before the warm-up, and how long that took. */
  pooled: number;
  generateMs: number;
  warmup: RunCounts;
  /** base64 of one byte per pool index (0 … end of the measured region): 2xx answers to that push, capped at 255. */
  acks: string;
}

const job = childConfig<IngestCannonJob>();

interface PooledRequest {
  method: "POST";
  path: string;
  headers: Record<string, string>;
  body: string;
  index: number;
  onResponse: (this: PooledRequest, status: number) => void;
}

const HEADERS = { "content-type": "text/xml" };
const poolEnd = job.measured.start + job.measured.perConnection * job.connections;
const acks = new Uint8Array(poolEnd);
const pool = new Map<number, { path: string; body: string }>();

/** Called by autocannon as `request.onResponse(…)`, so `this` is the request answered. */
function onResponse(this: PooledRequest, status: number): void {
  if (status >= 200 && status < 300 && acks[this.index]! < 255) acks[this.index]!++;
}

/** Ten decimal digits, as WeChat's nonces are. */
function nonce(random: Buffer, at: number): string {
  return String(1_000_000_000 + (random.readUInt32BE(at) % 3_000_000_000));
}

async function buildPool(): Promise<number> {
  const api = (await import(pathToFileURL(join(job.root, job.impl === "dist" ? "dist/push/index.js" : "src/push/index.ts")).href)) as typeof PushModule;
  const path = new URL(job.url).pathname;
  for (const region of [job.warmup, job.measured]) {
    const count = region.perConnection * job.connections;
    // One draw for the whole region: a randomBytes call per push costs more than its encryption.
    const random = randomBytes(count * 20);
    for (let n = 0; n < count; n++) {
      const i = region.start + n;
      const r = safeRequest(api, job.secrets, job.pool, i, nonce(random, n * 20 + 16), random.subarray(n * 20, n * 20 + 16));
      pool.set(i, { path: r.pathAndQuery(path), body: r.body });
    }
  }
  return pool.size;
}

function countsOf(r: autocannon.Result, repeated: number): RunCounts {
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
  return {
    requests: r.requests.total,
    ok2xx: r["2xx"],
    repeated,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    mismatches: r.mismatches,
    statusCodes,
  };
}

/** One autocannon run over `region`; `onStart` runs once every connection is set up, as the run's clock starts. */
async function fire(region: PoolRegion, durationSec: number, onStart: () => void = () => {}): Promise<{ result: autocannon.Result; repeated: number }> {
  const clients: autocannon.Client[] = [];
  const setupClient = (client: autocannon.Client): void => {
    const c = clients.length;
    clients.push(client);
    const share: PooledRequest[] = [];
    for (let k = 0; k < region.perConnection; k++) {
      const index = region.start + k * job.connections + c;
      const push = pool.get(index);
      if (push === undefined) throw new Error(`ingest cannon: no push ${index} in the pool (connection ${c})`);
      share.push({ method: "POST", path: push.path, headers: HEADERS, body: push.body, index, onResponse });
    }
    client.setRequests(share); // builds every request buffer now, before the run's clock starts
    // The buffers are all autocannon sends from now on (it rebuilds a request only when it has a
    // setupRequest). Dropping the strings halves the heap the load runs on: with a pool of a few
    // hundred thousand pushes, its major GCs stalled the generator long enough to time requests out.
    for (const request of share) {
      pool.delete(request.index);
      request.path = "";
      request.body = "";
    }
  };
  const instance = autocannon({
    url: job.url,
    method: "POST",
    headers: HEADERS,
    connections: job.connections,
    duration: durationSec,
    timeout: 5, // WeChat's own limit: a push unanswered in 5 s is retried
    expectBody: job.expectBody,
    setupClient,
  });
  // autocannon starts a client's 5 s timeout as it constructs it, and constructs all of them in
  // one synchronous loop, each building its share's buffers (seconds, for a large pool): the
  // first clients would time out waiting for the last ones to be built. Their clocks restart now
  // that all are built (the run's own clock starts after that loop too).
  for (const client of clients) {
    const internal = client as unknown as { timeout: number; timeoutTicker?: { reschedule(ms: number): void } };
    internal.timeoutTicker?.reschedule(internal.timeout);
  }
  instance.on("start", onStart);
  const result = await instance;
  if (clients.length !== job.connections) throw new Error(`ingest cannon: ${clients.length} clients were set up for ${job.connections} connections`);
  const repeated = clients.reduce((n, client) => n + Math.max(0, client.reqsMade - region.perConnection), 0);
  return { result, repeated };
}

try {
  serveParent(() => {}); // nothing to ask: just exit if the parent goes
  const g0 = performance.now();
  const pooled = await buildPool();
  const generateMs = performance.now() - g0;
  await toParent({ type: "ready", pooled, generateMs });

  const warm = await fire(job.warmup, job.warmupSec);
  await toParent({ type: "warmed" });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const { result: r, repeated } = await fire(job.measured, job.durationSec, () => {
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    // The parent samples the server's counters here and at "result".
    toParent({ type: "measuring" }).catch(fail);
  });
  const cpu = process.cpuUsage(cpu0);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
  const result: IngestCannonResult = {
    type: "result",
    reqPerSec: r.requests.average,
    latencyMeanMs: r.latency.mean,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    durationSec: r.duration,
    cpuPercent,
    pooled,
    generateMs,
    ...countsOf(r, repeated),
    warmup: countsOf(warm.result, warm.repeated),
    acks: Buffer.from(acks.buffer, acks.byteOffset, acks.byteLength).toString("base64"),
  };
  await toParent(result);
  process.disconnect();
} catch (error) {
  fail(error);
}
