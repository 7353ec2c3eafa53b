/**
 * The channels' ZIP export (issue #13): `GET /api/channels/export.zip` of 1,000 and of 10,000
 * channels, each a real channel row with its own code row (written straight into the store, as
 * thousands of API calls would only measure the emulator), from the built service (`wxqr serve`,
 * a process of its own, SQLite): the wall time of streaming the whole ZIP (PNG at 430 px, the
 * default) and the service's peak resident memory during it over its resident memory just before
 * (its VmHWM reset through /proc/PID/clear_refs after a warm-up export of one channel, and
 * VmRSS polled every 50 ms where that reset is not allowed). Then the ratio 10,000 / 1,000 of
 * both: time linear in the count means ≈ 10, memory flat means ≈ 1.
 *
 * Then the largest count once more with V8's old generation capped at 64 MB: garbage collected
 * late makes the peak grow with the count too, and the capped run completing shows that what the
 * export keeps per channel is small.
 *
 * Each ZIP is checked as it arrives: its end record must list every channel's image and the CSV.
 *
 *   WXQR_BENCH_ZIP_COUNTS=1000,10000  the channel counts (default; the ratio compares the last to the first).
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteDatabase } from "../../src/store/index.ts";
import { insertBulkChannels } from "../../test/helpers/bulk-channels.ts";
import { distIsFresh, type BenchContext, type BenchRow } from "../lib.ts";

export const name = "zip";
export const description = "GET /api/channels/export.zip of 1,000 and 10,000 channels: wall time and the service's peak RSS growth, and their ratios";

const APP_ID = "wx5e7c1ce0000000e7";
const APP_SECRET = "benchzipsecret0123456789abcdef01";
const ADMIN_TOKEN = "bench-zip-admin-token-0123456789";
const POLL_MS = 50;
const START_TIMEOUT_MS = 30_000;
const EXPORT_TIMEOUT_MS = 300_000;
/**
 * The old generation's limit for the capped run: the service's live heap is ~24 MB after start,
 * so an export that kept a few kilobytes per channel would not fit 10,000 channels in it.
 */
const CAPPED_OLD_SPACE_MB = 64;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;

function counts(): number[] {
  const raw = process.env.WXQR_BENCH_ZIP_COUNTS;
  if (raw === undefined || raw === "") return [1_000, 10_000];
  const list = raw.split(",").map(Number);
  if (list.length < 1 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000)) {
    throw new Error(`zip bench: WXQR_BENCH_ZIP_COUNTS must be whole numbers from 1 to 100000, comma-separated, not ${JSON.stringify(raw)}`);
  }
  return list;
}

function vmKiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  if (!match) throw new Error(`zip bench: no ${field} in /proc/${pid}/status (Linux only)`);
  return Number(match[1]);
}

/** Resets the process's VmHWM to its current RSS (Linux ≥ 4.0, same user or root); false where refused. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** The number of entries the ZIP's end record gives (ZIP64's past 65,535). */
function zipEntryCount(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD_SIGNATURE) continue;
    const count = tail.readUInt16LE(i + 10);
    if (count !== 0xffff) return count;
    for (let j = i - 56; j >= 0; j--) if (tail.readUInt32LE(j) === ZIP64_EOCD_SIGNATURE) return Number(tail.readBigUInt64LE(j + 32));
  }
  throw new Error("zip bench: the export has no end-of-central-directory record");
}

async function startServe(root: string, file: string, nodeFlags: readonly string[]): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [...nodeFlags, join(root, "dist/cli/main.js"), "serve", "--port", "0"], {
    env: {
      PATH: process.env.PATH ?? "",
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_TOKEN: "benchZipToken2026",
      // Nothing in an export calls WeChat: a port where nothing listens makes sure of it.
      WECHAT_API_BASE: "http://127.0.0.1:9",
      WXQR_ADMIN_TOKEN: ADMIN_TOKEN,
      WXQR_DATABASE: `sqlite:${file}`,
      WXQR_HOST: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr!.on("data", (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zip bench: wxqr serve did not start within ${START_TIMEOUT_MS} ms; stderr: ${err}`)), START_TIMEOUT_MS);
    proc.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /serving on (http:\/\/[^\s]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`zip bench: wxqr serve exited ${code}; stderr: ${err}`));
    });
  });
  return { proc, url };
}

async function stopServe(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, "exit");
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Streams the ZIP to nowhere, keeping only its last 64 kB (for the end record). */
async function download(url: string, query: string): Promise<{ bytes: number; entries: number }> {
  const res = await fetch(`${url}/api/channels/export.zip${query}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
  });
  if (res.status !== 200 || !res.body) throw new Error(`zip bench: export.zip answered ${res.status}: ${await res.text()}`);
  let bytes = 0;
  let tail = Buffer.alloc(0);
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > 131_072) tail = tail.subarray(tail.length - 65_536);
  }
  return { bytes, entries: zipEntryCount(tail) };
}

interface ExportFigures {
  count: number;
  wallMs: number;
  bytes: number;
  rssBeforeKiB: number;
  peakGrowthKiB: number;
  peakFrom: "VmHWM" | "VmRSS polled";
}

async function measureExport(ctx: BenchContext, count: number, nodeFlags: readonly string[] = []): Promise<ExportFigures> {
  const dir = mkdtempSync(join(tmpdir(), "wxqr-bench-zip-"));
  const file = join(dir, "wxqr.db");
  let serve: ChildProcess | undefined;
  try {
    const started = await startServe(ctx.root, file, nodeFlags);
    serve = started.proc;
    const pid = serve.pid!;
    const db = new SqliteDatabase({ file });
    try {
      const t0 = performance.now();
      const made = await insertBulkChannels(db, { accountId: APP_ID, count, createdAt: Date.UTC(2026, 10, 1) });
      ctx.log(`zip: ${count.toLocaleString("en-US")} channels written in ${Math.round(performance.now() - t0)} ms`);
      // Warm-up: the routes, the renderer and the ZIP writer loaded and run once.
      await download(started.url, `?ids=${made[0]!.id}`);
    } finally {
      await db.close();
    }
    const reset = resetPeak(pid);
    const rssBeforeKiB = vmKiB(pid, "VmRSS");
    let polledPeak = rssBeforeKiB;
    const poll = setInterval(() => (polledPeak = Math.max(polledPeak, vmKiB(pid, "VmRSS"))), POLL_MS);
    const t0 = performance.now();
    let got: { bytes: number; entries: number };
    try {
      got = await download(started.url, "");
    } finally {
      clearInterval(poll);
    }
    const wallMs = performance.now() - t0;
    if (got.entries !== count + 1) throw new Error(`zip bench: the ZIP of ${count} channels has ${got.entries} entries, not ${count + 1}`);
    const peakKiB = reset ? Math.max(vmKiB(pid, "VmHWM"), polledPeak) : polledPeak;
    return { count, wallMs, bytes: got.bytes, rssBeforeKiB, peakGrowthKiB: peakKiB - rssBeforeKiB, peakFrom: reset ? "VmHWM" : "VmRSS polled" };
  } finally {
    if (serve) await stopServe(serve);
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  if (!distIsFresh(ctx.root, ["dist/cli/main.js", "dist/server/channel-export.js"], ["src"])) {
    throw new Error("zip bench: dist/ is missing or older than src/: the export is measured as users run it, the built service (npm run bench builds first)");
  }
  const figures: ExportFigures[] = [];
  for (const count of counts()) {
    ctx.log(`zip: export.zip of ${count.toLocaleString("en-US")} channels`);
    figures.push(await measureExport(ctx, count));
  }
  const rows: BenchRow[] = figures.map((f) => ({
    case: `export.zip, ${f.count.toLocaleString("en-US")} channels, PNG 430 px`,
    "wall s": Math.round(f.wallMs / 100) / 10,
    "channels/s": Math.round(f.count / (f.wallMs / 1000)),
    "ZIP MB": mb(f.bytes / 1024),
    "RSS before MB": mb(f.rssBeforeKiB),
    "peak RSS growth MB": mb(f.peakGrowthKiB),
    note: `wxqr serve (built, SQLite, its own process); the ZIP streamed over loopback and dropped; peak from ${f.peakFrom}`,
  }));
  // Garbage that V8 collects late makes the peak grow too; with the old generation capped, the
  // largest export still completes, so what it keeps per channel is small.
  const largest = Math.max(...counts());
  ctx.log(`zip: export.zip of ${largest.toLocaleString("en-US")} channels, old space capped at ${CAPPED_OLD_SPACE_MB} MB`);
  const capped = await measureExport(ctx, largest, [`--max-old-space-size=${CAPPED_OLD_SPACE_MB}`]);
  rows.push({
    case: `export.zip, ${largest.toLocaleString("en-US")} channels, --max-old-space-size=${CAPPED_OLD_SPACE_MB}`,
    "wall s": Math.round(capped.wallMs / 100) / 10,
    "channels/s": Math.round(capped.count / (capped.wallMs / 1000)),
    "ZIP MB": mb(capped.bytes / 1024),
    "RSS before MB": mb(capped.rssBeforeKiB),
    "peak RSS growth MB": mb(capped.peakGrowthKiB),
    note: `the same with V8's old generation limited to ${CAPPED_OLD_SPACE_MB} MB: it completes, so the export keeps little per channel; the rest of the growth above is garbage collected late`,
  });
  const first = figures[0]!;
  const last = figures[figures.length - 1]!;
  if (last !== first) {
    rows.push({
      case: `ratio ${last.count.toLocaleString("en-US")} / ${first.count.toLocaleString("en-US")}`,
      "wall s": Math.round((last.wallMs / first.wallMs) * 100) / 100,
      "peak RSS growth MB": Math.round((Math.max(last.peakGrowthKiB, 1) / Math.max(first.peakGrowthKiB, 1)) * 100) / 100,
      note: `count × ${last.count / first.count}: linear time is a wall ratio near that; flat memory a growth ratio near 1`,
    });
  }
  return rows;
}
