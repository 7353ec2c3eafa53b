/**
 * The load generator, in a process of its own (started by bench/sections/push.ts): autocannon
 * against one URL, a warm-up run then the measured run, both bounded in time. Sends one
 * `{ type: "warmed" }` between the two and one `{ type: "result" }` with the numbers and the
 * failure counts of both runs, then exits.
 * @module
 */
import autocannon from "autocannon";
import { childConfig, fail, serveParent, toParent } from "./child.ts";

export interface CannonJob {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  warmupSec: number;
  durationSec: number;
  /** Every response must be exactly this; others count as mismatches. */
  expectBody: string;
}

export interface CannonFailures {
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  statusCodes: Record<string, number>;
}

export interface CannonResult extends CannonFailures {
  type: "result";
  /** autocannon's Req/Sec: the mean of the per-second samples. */
  reqPerSec: number;
  /** Completed requests in the measured run. */
  requests: number;
  ok2xx: number;
  latencyMeanMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  durationSec: number;
  /** This process's CPU time over the measured run, as a share of its wall time (100 = one core busy). */
  cpuPercent: number;
  warmup: CannonFailures & { requests: number; ok2xx: number };
}

function failures(r: autocannon.Result): CannonFailures {
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
  return { errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, mismatches: r.mismatches, statusCodes };
}

const job = childConfig<CannonJob>();

async function fire(durationSec: number): Promise<autocannon.Result> {
  return autocannon({
    url: job.url,
    method: "POST",
    headers: job.headers,
    body: job.body,
    connections: job.connections,
    duration: durationSec,
    timeout: 5, // WeChat's own limit: a push unanswered in 5 s is retried
    expectBody: job.expectBody,
  });
}

try {
  serveParent(() => {}); // nothing to ask: just exit if the parent goes
  const warm = await fire(job.warmupSec);
  await toParent({ type: "warmed" }); // the parent samples the server's counters here and at "result"
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fire(job.durationSec);
  const cpu = process.cpuUsage(cpu0);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
  const result: CannonResult = {
    type: "result",
    reqPerSec: r.requests.average,
    requests: r.requests.total,
    ok2xx: r["2xx"],
    latencyMeanMs: r.latency.mean,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    durationSec: r.duration,
    cpuPercent,
    ...failures(r),
    warmup: { requests: warm.requests.total, ok2xx: warm["2xx"], ...failures(warm) },
  };
  await toParent(result);
  process.disconnect();
} catch (error) {
  fail(error);
}
