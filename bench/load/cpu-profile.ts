/**
 * Where a server's CPU time went, from a V8 `.cpuprofile` (`node --cpu-prof`): self time per
 * function, grouped into the stages of push ingestion (crypto, XML, Fastify, SQLite statements,
 * the commit's fsync, GC, …). Native frames (better-sqlite3's `run`, OpenSSL behind `update`,
 * `Buffer` base64) have no script of their own, so they are counted with the nearest caller
 * that has one: the same `exec` is a COMMIT when sqlite-database calls it.
 *
 *   npx tsx bench/load/cpu-profile.ts FILE.cpuprofile   # prints the grouped table and the top functions
 * @module
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { formatTable, type BenchRow } from "../lib.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Profiled wall time, ms. */
  totalMs: number;
  /** Time not idle, ms. */
  busyMs: number;
  categories: Array<{ category: string; ms: number; busyPct: number }>;
  top: Array<{ fn: string; where: string; category: string; ms: number; busyPct: number }>;
}

const IDLE = "(idle)";

/** Node internals that do work on behalf of their caller: their time goes to the nearest caller outside Node. */
const UTILITY = /^node:(buffer|string_decoder|util|internal\/(buffer|util|encoding|validators|errors|url)\b)/;

/** Ordered rules: the first that matches names the category. `fn` is the frame's name, `url` its script (or, for native and utility frames, its caller's). */
const RULES: Array<{ category: string; test: (fn: string, url: string) => boolean }> = [
  { category: "GC", test: (fn) => fn === "(garbage collector)" },
  { category: IDLE, test: (fn) => fn === "(idle)" },
  { category: "V8 / native (program)", test: (fn) => fn === "(program)" || fn === "(root)" },
  // better-sqlite3's `exec` is only BEGIN IMMEDIATE / COMMIT / ROLLBACK here; COMMIT waits for the fsync.
  { category: "SQLite BEGIN/COMMIT (fsync)", test: (fn, url) => fn === "exec" && /better-sqlite3\//.test(url) },
  // Statement.run/get/all are native: V8 counts their time in the wrapper that calls them.
  { category: "SQLite statements", test: (_fn, url) => /better-sqlite3\/|\/store\/sqlite-database\./.test(url) },
  {
    category: "pg driver",
    test: (_fn, url) => /node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|postgres-[a-z]+)\//.test(url) || /\/store\/postgres-database\./.test(url),
  },
  { category: "JSON", test: (fn, url) => (fn === "parse" || fn === "stringify") && url === "" },
  { category: "AES / SHA1 / base64", test: (_fn, url) => /\/push\/(msg-crypto|signature)\./.test(url) || /^node:(internal\/)?crypto/.test(url) },
  { category: "XML parse/build, events", test: (_fn, url) => /\/push\/(parse-xml|events|reply)\./.test(url) },
  { category: "push receiver (checks, UTF-8)", test: (_fn, url) => /\/push\/receiver\./.test(url) },
  {
    category: "Fastify (routing, hooks, reply)",
    test: (_fn, url) =>
      /node_modules\/(fastify|@fastify|find-my-way|avvio|fastq|fast-querystring|fast-json-stringify|light-my-request|abstract-logging|pino|toad-cache|content-type|secure-json-parse|process-warning|fast-decode-uri-component|rfdc|ajv|fast-uri)\//.test(
        url,
      ) || /\/push\/(handler|adapters\/fastify)\./.test(url),
  },
  { category: "metrics (prom-client)", test: (_fn, url) => /node_modules\/prom-client\//.test(url) },
  { category: "domain + store (JS)", test: (_fn, url) => /\/(domain|store)\/[a-z-]+\.(ts|js)$/.test(url) },
  { category: "service app (server/)", test: (_fn, url) => /\/server\/[a-z-]+\.(ts|js)$/.test(url) },
  {
    category: "module loading (start-up)",
    test: (_fn, url) => /^node:internal\/(modules|deps\/cjs-module-lexer|bootstrap)|node_modules\/(tsx|esbuild)\/|^wasm:/.test(url),
  },
  { category: "Node core (http, net, streams, timers)", test: (_fn, url) => /^node:/.test(url) },
];

function shortUrl(url: string): string {
  if (url === "") return "(native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  const src = url.search(/\/(src|dist|bench)\//);
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, "");
}

export interface SummaryOptions {
  /** Only samples taken in this window (µs on the profile's clock, which is `process.hrtime`'s). */
  fromUs?: number;
  toUs?: number;
  /** Functions listed. Default 15. */
  topN?: number;
}

/** Self time per category and the busiest functions of one profile (or of a window of it). */
export function summariseCpuProfile(profile: CpuProfile, options: SummaryOptions = {}): ProfileSummary {
  const { fromUs = -Infinity, toUs = Infinity, topN = 15 } = options;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the time after it (until the next) is spent in it.
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + Math.max(0, dt));
  }
  /** The script a frame's time belongs to: its own, or for native and utility frames the nearest suitable caller's. */
  const attributedUrl = (id: number): string => {
    const own = byId.get(id)!.callFrame.url;
    if (own !== "" && !UTILITY.test(own)) return own;
    const utility = own !== "";
    for (let cur = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      if (url === "" || UTILITY.test(url)) continue;
      if (utility && url.startsWith("node:") && !/^node:internal\/crypto/.test(url)) continue; // a Buffer call inside Node: find who asked
      return url;
    }
    return own;
  };
  const categoryUs = new Map<string, number>();
  const fnUs = new Map<string, { fn: string; where: string; category: string; us: number }>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const owner = attributedUrl(id);
    const category = RULES.find((r) => r.test(functionName, owner))?.category ?? `other: ${shortUrl(owner).split("/")[0]}`;
    totalUs += us;
    categoryUs.set(category, (categoryUs.get(category) ?? 0) + us);
    const where = url === "" ? `(native, from ${shortUrl(owner)})` : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    const entry = fnUs.get(key) ?? { fn: functionName || "(anonymous)", where, category, us: 0 };
    entry.us += us;
    fnUs.set(key, entry);
  }
  const busyUs = totalUs - (categoryUs.get(IDLE) ?? 0);
  const pct = (us: number): number => Math.round((us / Math.max(1, busyUs)) * 1000) / 10;
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    categories: [...categoryUs]
      .filter(([c]) => c !== IDLE)
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, ms: Math.round(us / 100) / 10, busyPct: pct(us) })),
    top: [...fnUs.values()]
      .filter((f) => f.category !== IDLE)
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ fn: f.fn, where: f.where, category: f.category, ms: Math.round(f.us / 100) / 10, busyPct: pct(f.us) })),
  };
}

export function readCpuProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

/** The summary as two text tables. */
export function formatProfileSummary(s: ProfileSummary): string {
  const head =
    `${(s.totalMs / 1000).toFixed(2)} s of samples, ${(s.busyMs / 1000).toFixed(2)} s not idle (${Math.round((s.busyMs / Math.max(1, s.totalMs)) * 100)} %; ` +
    "a thread blocked in a system call, such as fsync, counts as not idle)";
  const categories: BenchRow[] = s.categories.map((c) => ({ "self time by stage": c.category, ms: c.ms, "% of busy": c.busyPct }));
  const top: BenchRow[] = s.top.map((f) => ({ function: f.fn, where: f.where, stage: f.category, ms: f.ms, "% of busy": f.busyPct }));
  return `${head}\n${formatTable(categories)}\n\n${formatTable(top)}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error("usage: tsx bench/load/cpu-profile.ts FILE.cpuprofile");
    process.exitCode = 2;
  } else {
    console.log(formatProfileSummary(summariseCpuProfile(readCpuProfile(file), { topN: 25 })));
  }
}
