/**
 * The channels' ZIP export (issue #13): `GET /api/channels/export.zip` of 1,000, 10,000 and 30,000
 * channels, each a real channel row with its own code row (written straight into the store, as
 * thousands of API calls would only measure the emulator), from the built service (`wxqr serve`,
 * a process of its own, SQLite): the wall time of streaming the whole ZIP (PNG at 430 px, the
 * default) and the service's peak resident memory during it over its resident memory just before
 * (its VmHWM reset through /proc/PID/clear_refs after a warm-up export of one channel, and
 * VmRSS polled every 50 ms where that reset is not allowed). Then the ratios of each count to the
 * one before, of both: time linear in the count means that factor, memory flat means ≈ 1.
 *
 * Each export runs twice in the same process. The first, fresh from the service's start, also
 * measures V8 growing its heap to what such a run needs; the second starts with that heap, so its
 * peak is the saw-tooth of garbage between full collections, which a longer run covers more of up
 * to its height and no further. What the export itself holds is measured apart, last: the live
 * heap after full collections, in bytes a channel.
 *
 * Each ZIP is checked as it arrives: its end record must list every channel's image and the CSV.
 *
 *   WXQR_BENCH_ZIP_COUNTS=1000,10000,30000  the channel counts (the default), ascending.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as DepsModule from "../../src/deps.ts";
import type * as DomainModule from "../../src/domain/index.ts";
import type * as ExportModule from "../../src/server/channel-export.ts";
import { migrate, SqliteDatabase } from "../../src/store/index.ts";
import { insertBulkChannels } from "../../test/helpers/bulk-channels.ts";
import { collectGarbage, distIsFresh, type BenchContext, type BenchRow } from "../lib.ts";

export const name = "zip";
export const description =
  "GET /api/channels/export.zip of 1,000, 10,000 and 30,000 channels, twice per process: wall time, the service's peak RSS growth, their ratios; the live heap held per channel";

const APP_ID = "wx5e7c1ce0000000e7";
const APP_SECRET = "benchzipsecret0123456789abcdef01";
const ADMIN_TOKEN = "bench-zip-admin-token-0123456789";
const POLL_MS = 50;
const START_TIMEOUT_MS = 30_000;
const EXPORT_TIMEOUT_MS = 300_000;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;

function counts(): number[] {
  const raw = process.env.WXQR_BENCH_ZIP_COUNTS;
  if (raw === undefined || raw === "") return [1_000, 10_000, 30_000];
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

async function startServe(root: string, file: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [join(root, "dist/cli/main.js"), "serve", "--port", "0"], {
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

async function measureOnce(url: string, pid: number, count: number): Promise<ExportFigures> {
  const reset = resetPeak(pid);
  const rssBeforeKiB = vmKiB(pid, "VmRSS");
  let polledPeak = rssBeforeKiB;
  const poll = setInterval(() => (polledPeak = Math.max(polledPeak, vmKiB(pid, "VmRSS"))), POLL_MS);
  const t0 = performance.now();
  let got: { bytes: number; entries: number };
  try {
    got = await download(url, "");
  } finally {
    clearInterval(poll);
  }
  const wallMs = performance.now() - t0;
  if (got.entries !== count + 1) throw new Error(`zip bench: the ZIP of ${count} channels has ${got.entries} entries, not ${count + 1}`);
  const peakKiB = reset ? Math.max(vmKiB(pid, "VmHWM"), polledPeak) : polledPeak;
  return { count, wallMs, bytes: got.bytes, rssBeforeKiB, peakGrowthKiB: peakKiB - rssBeforeKiB, peakFrom: reset ? "VmHWM" : "VmRSS polled" };
}

async function measureExport(ctx: BenchContext, count: number): Promise<{ first: ExportFigures; again: ExportFigures }> {
  const dir = mkdtempSync(join(tmpdir(), "wxqr-bench-zip-"));
  const file = join(dir, "wxqr.db");
  let serve: ChildProcess | undefined;
  try {
    const started = await startServe(ctx.root, file);
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
    const first = await measureOnce(started.url, pid, count);
    // The same export once more: the service's heap has grown to what such an export needs, so
    // what the peak still gains is what the export itself holds, not V8 sizing its heap.
    const again = await measureOnce(started.url, pid, count);
    return { first, again };
  } finally {
    if (serve) await stopServe(serve);
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/**
 * What the export holds per channel, measured rather than inferred from RSS: the built export
 * run in this process on its own database, the ZIP read to its end, and V8's heap collected in
 * full (gc, exposed at run time) at each tenth of the channels. The slope of the live heap over
 * the middle 80 % of the run, in bytes a channel.
 */
async function heapHeldPerChannel(ctx: BenchContext, count: number): Promise<{ bytesPerChannel: number; startMB: number; endMB: number }> {
  const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(ctx.root, path)).href)) as T;
  const domain = await load<typeof DomainModule>("dist/domain/index.js");
  const { exportChannels } = await load<typeof ExportModule>("dist/server/channel-export.js");
  const deps = await load<typeof DepsModule>("dist/deps.js");
  const dir = mkdtempSync(join(tmpdir(), "wxqr-bench-zip-heap-"));
  const db = new SqliteDatabase({ file: join(dir, "wxqr.db") });
  try {
    await migrate(db);
    const service = await domain.createWxqrService(
      { db, accountId: APP_ID },
      { clock: deps.systemClock, random: deps.systemRandom, logger: deps.silentLogger, timer: deps.systemTimer },
    );
    await insertBulkChannels(db, { accountId: APP_ID, count, createdAt: Date.UTC(2026, 10, 1) });
    const heapNow = (): number => {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    // Every channel's PNG is about the same size, so the bytes read say how far the export is.
    const zip = await exportChannels(service, { filters: {}, format: "png", size: 430, margin: 4, mtime: new Date() });
    const samples: Array<[number, number]> = [];
    let bytes = 0;
    const perChannel = 1_100; // PNG 430 px of a bulk channel's url plus its local header: about 1.1 kB
    let nextTenth = 1;
    for await (const chunk of zip) {
      bytes += (chunk as Buffer).length;
      const channels = bytes / perChannel;
      if (nextTenth <= 9 && channels >= (count * nextTenth) / 10) {
        samples.push([channels, heapNow()]);
        nextTenth++;
      }
    }
    if (samples.length < 2) throw new Error(`zip bench: only ${samples.length} heap samples over ${bytes} bytes`);
    const [c0, h0] = samples[0]!;
    const [c1, h1] = samples[samples.length - 1]!;
    ctx.log(`zip: live heap over the export: ${samples.map(([, h]) => (h / 1e6).toFixed(1)).join(" → ")} MB`);
    return { bytesPerChannel: Math.round((h1 - h0) / (c1 - c0)), startMB: mb(h0 / 1024), endMB: mb(h1 / 1024) };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  if (!distIsFresh(ctx.root, ["dist/cli/main.js", "dist/server/channel-export.js"], ["src"])) {
    throw new Error("zip bench: dist/ is missing or older than src/: the export is measured as users run it, the built service (npm run bench builds first)");
  }
  const figures: Array<{ first: ExportFigures; again: ExportFigures }> = [];
  for (const count of counts()) {
    ctx.log(`zip: export.zip of ${count.toLocaleString("en-US")} channels, twice`);
    figures.push(await measureExport(ctx, count));
  }
  const row = (f: ExportFigures, which: string, note: string): BenchRow => ({
    case: `export.zip, ${f.count.toLocaleString("en-US")} channels, ${which}`,
    "wall s": Math.round(f.wallMs / 100) / 10,
    "channels/s": Math.round(f.count / (f.wallMs / 1000)),
    "ZIP MB": mb(f.bytes / 1024),
    "RSS before MB": mb(f.rssBeforeKiB),
    "peak RSS growth MB": mb(f.peakGrowthKiB),
    note: `${note}; peak from ${f.peakFrom}`,
  });
  const rows: BenchRow[] = figures.flatMap(({ first, again }) => [
    row(first, "first", "wxqr serve (built, SQLite, its own process) fresh from its start; PNG 430 px, streamed over loopback and dropped"),
    row(again, "again", "the same export once more in the same process, its heap already sized for such a run"),
  ]);
  // Each count against the one before: time linear in the count gives that factor; memory flat, 1.
  for (let i = 1; i < figures.length; i++) {
    const [before, after] = [figures[i - 1]!, figures[i]!];
    for (const which of ["first", "again"] as const) {
      rows.push({
        case: `ratio ${after.first.count.toLocaleString("en-US")} / ${before.first.count.toLocaleString("en-US")}, ${which}`,
        "wall s": Math.round((after[which].wallMs / before[which].wallMs) * 100) / 100,
        "peak RSS growth MB": Math.round((Math.max(after[which].peakGrowthKiB, 1) / Math.max(before[which].peakGrowthKiB, 1)) * 100) / 100,
        note: `count × ${after.first.count / before.first.count}: linear time is a wall ratio near that; flat memory a growth ratio near 1`,
      });
    }
  }
  const largest = Math.max(...counts());
  ctx.log(`zip: the heap held per channel, ${largest.toLocaleString("en-US")} channels in this process`);
  const held = await heapHeldPerChannel(ctx, largest);
  rows.push({
    case: `export.zip, ${largest.toLocaleString("en-US")} channels, live heap after a full GC`,
    "heap held B/channel": held.bytesPerChannel,
    note: `the built export in the bench's own process, GC forced at each tenth of the run: ${held.startMB} MB at 10 %, ${held.endMB} MB at 90 %; the slope is what stays until the ZIP ends (its directory, the names given)`,
  });
  return rows;
}
