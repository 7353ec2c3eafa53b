/**
 * Helpers for bench sections: a bounded timing loop, a table printer and a description of
 * the machine, so numbers in bench/results/ can be compared between runs.
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** One row of a section's result table; keys become columns. */
export type BenchRow = Record<string, string | number | boolean | null>;

export interface BenchContext {
  /** The repository root. */
  root: string;
  /** Progress output for long sections (stderr, so stdout stays the tables). */
  log(message: string): void;
}

/** What a module in bench/sections/ exports; `name` is also its file name. */
export interface BenchSection {
  name: string;
  description?: string;
  /** Runs only when named (`npm run bench -- ingest`), not in the full run: a diagnostic tool whose rows another section has. */
  onlyWhenNamed?: boolean;
  run(ctx: BenchContext): Promise<BenchRow[]> | BenchRow[];
}

export interface MeasureOptions {
  /** Keep measuring at least this long (unless maxIterations is reached first). Default 1,000 ms. */
  minMs?: number;
  /** Never measure longer than this, whatever minIterations says. Default 3,000 ms. */
  maxMs?: number;
  /** Never call fn more often than this. Default 100,000. */
  maxIterations?: number;
  /** Calls wanted before stopping at minMs; bounded by maxMs. Default 5. */
  minIterations?: number;
  /** Untimed calls first, for the JIT; bounded by count and by warmupMaxMs. Default 10. */
  warmupIterations?: number;
  /** Time bound on the warm-up. Default a quarter of maxMs. */
  warmupMaxMs?: number;
  /** Operations one call performs (e.g. a batch of 2,000 renders); scales ops/s. Default 1. */
  opsPerCall?: number;
}

export interface Measurement {
  /** Operations per second (calls × opsPerCall / elapsed). */
  opsPerSec: number;
  /** Mean milliseconds per operation. */
  msPerOp: number;
  /** Timed calls of fn. */
  iterations: number;
  elapsedMs: number;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Calls `fn` repeatedly (awaiting it when it returns a promise) and reports its rate. Every
 * loop is bounded by both time and count, so a slow or a very fast function both end in
 * about `minMs`, and none runs past `warmupMaxMs + maxMs` plus two calls.
 * @example
 * const { opsPerSec } = await measure(() => renderPng(url), { minMs: 1_000, maxMs: 3_000, maxIterations: 20_000 });
 */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<Measurement> {
  const minMs = options.minMs ?? 1_000;
  const maxMs = options.maxMs ?? 3_000;
  const maxIterations = options.maxIterations ?? 100_000;
  const minIterations = Math.min(options.minIterations ?? 5, maxIterations);
  const warmupIterations = options.warmupIterations ?? 10;
  const warmupMaxMs = options.warmupMaxMs ?? maxMs / 4;
  const opsPerCall = options.opsPerCall ?? 1;

  const warmupStart = performance.now();
  for (let i = 0; i < warmupIterations && performance.now() - warmupStart < warmupMaxMs; i++) {
    const r = fn();
    if (isThenable(r)) await r;
  }

  let iterations = 0;
  const start = performance.now();
  let elapsedMs = 0;
  while (iterations < maxIterations) {
    const r = fn();
    if (isThenable(r)) await r;
    iterations++;
    elapsedMs = performance.now() - start;
    if (elapsedMs >= maxMs) break;
    if (elapsedMs >= minMs && iterations >= minIterations) break;
  }
  const ops = iterations * opsPerCall;
  return { opsPerSec: ops / (elapsedMs / 1000), msPerOp: elapsedMs / ops, iterations, elapsedMs };
}

function formatCell(value: BenchRow[string]): string {
  if (value === null) return "";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString("en-US");
    const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
    return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  return String(value);
}

/**
 * Renders rows as an aligned text table; numbers are right-aligned with thousands separators.
 * @example
 * console.log(formatTable([{ case: "renderPng", "ops/s": 2450.3 }]));
 */
export function formatTable(rows: readonly BenchRow[]): string {
  if (rows.length === 0) return "(no rows)";
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c] ?? null)));
  const numeric = columns.map((c) => rows.every((row) => row[c] === undefined || row[c] === null || typeof row[c] === "number"));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

export interface SystemInfo {
  node: string;
  v8: string;
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  availableParallelism: number;
  totalMemGiB: number;
  /** 1, 5 and 15 minute load averages when the run started: a busy machine explains slow numbers. */
  loadAvg: number[];
}

/**
 * What the numbers were measured on.
 * @example
 * const info = systemInfo(); // { node: "v20.20.2", cpus: 2, … }
 */
export function systemInfo(): SystemInfo {
  const cpuList = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    release: release(),
    arch: arch(),
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    cpus: cpuList.length,
    availableParallelism: availableParallelism(),
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAvg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Newest modification time of a file, or of every non-test `.ts` file under a directory (recursively). */
function newestMtimeMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() || (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")))
      newest = Math.max(newest, newestMtimeMs(join(path, entry.name)));
  }
  return newest;
}

/**
 * Whether every built file in `distFiles` exists and is at least as new as the sources it
 * comes from (`sources`: files or directories, all relative to `root`). Sections measure the
 * built `dist/` when it is fresh (what `npm run bench` measures after its build), else the
 * sources through tsx.
 * @example
 * distIsFresh(root, ["dist/push/index.js"], ["src/push", "src/errors.ts", "src/deps.ts"]); // true after `npm run build`
 */
export function distIsFresh(root: string, distFiles: readonly string[], sources: readonly string[]): boolean {
  try {
    const oldestBuilt = Math.min(...distFiles.map((f) => statSync(join(root, f)).mtimeMs));
    const newestSource = Math.max(...sources.map((s) => newestMtimeMs(join(root, s))));
    return oldestBuilt >= newestSource;
  } catch {
    return false; // a dist file (or a source) is missing: use the sources
  }
}

let collect: (() => void) | undefined;

/**
 * A full garbage collection of this process now, without starting it with `--expose-gc` (the
 * flag set at run time, the function taken from a fresh context). For sections that time a
 * service running in the bench's own process after building large data: the builder's garbage is
 * collected before the timing, not during it.
 */
export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  collect();
}
