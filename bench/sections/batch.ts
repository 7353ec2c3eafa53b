/**
 * `wxqr qr batch` of 100,000 codes against the emulator (issue #11): wall time and peak resident
 * memory of the CLI process, as a user runs it (the built `dist/cli/main.js`, temporary codes,
 * PNG at 430 px, the default concurrency), in a process of its own next to an emulator in
 * another (bench/load/batch-run.ts). The peak when the 10,000th code was written is taken in the
 * same run: if memory grew with the count, the two would differ by far more than the noise.
 * Goals: ≤ 90 s and ≤ 300 MB.
 *
 * After the run, every code must be in `codes.ndjson` once, with its image, and one image must
 * decode to its code's URL; the output folder is then removed.
 *
 *   WXQR_BENCH_BATCH_COUNT=N  codes in the batch (default 100,000; e.g. 10000 for a quick look).
 * @module
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import type { BatchRunConfig, BatchRunResult } from "../load/batch-run.ts";
import { startChild, stopAll } from "../load/child.ts";
import { distIsFresh, type BenchContext, type BenchRow } from "../lib.ts";

export const name = "batch";
export const description = "wxqr qr batch against the emulator: wall time and peak RSS of the CLI (goals ≤ 90 s, ≤ 300 MB at 100,000 codes)";

const COUNT = wholeNumber(process.env.WXQR_BENCH_BATCH_COUNT, 100_000);
const EARLY_AT = Math.min(10_000, COUNT);
/** The CLI's default: what a user gets. */
const CONCURRENCY = 8;
const GOAL_SECONDS = 90;
const GOAL_RSS_MB = 300;
const SHM = "/dev/shm";

const jsQR = jsQRModule.default;

function wholeNumber(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`batch bench: WXQR_BENCH_BATCH_COUNT must be a whole number from 1 to 100000, not ${JSON.stringify(raw)}`);
  return n;
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`batch bench: ${what}`);
}

/** Every code once, with its image; one image decodes to its code's URL. */
function verifyOutput(outDir: string, count: number): string {
  const lines = readFileSync(join(outDir, "codes.ndjson"), "utf8").trimEnd().split("\n");
  expect(lines.length === count, `codes.ndjson has ${lines.length} lines for ${count} codes`);
  const codes = lines.map((l) => JSON.parse(l) as { scene: number; ticket: string; url: string; file: string | null });
  expect(new Set(codes.map((c) => c.ticket)).size === count, "codes.ndjson repeats a ticket");
  expect(new Set(codes.map((c) => c.scene)).size === count, "codes.ndjson repeats a scene");
  const images = new Set(readdirSync(outDir).filter((f) => f.endsWith(".png")));
  const missing = codes.filter((c) => c.file === null || !images.has(c.file));
  expect(missing.length === 0, `${missing.length} codes have no image, e.g. scene ${missing[0]?.scene}`);
  const sample = codes[Math.floor(count / 2)]!;
  const png = PNG.sync.read(readFileSync(join(outDir, sample.file!)));
  const decoded = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height)?.data;
  expect(decoded === sample.url, `${sample.file} decodes to ${JSON.stringify(decoded)}, not its url ${sample.url}`);
  return `${count.toLocaleString("en-US")} lines, tickets and images, one each; ${sample.file} (${png.width} px) decodes to its url`;
}

const mb = (kib: number): number => Math.round(kib / 1024);

/**
 * Memory-backed when the machine has it: deleting 100,000 files from a disk that other work keeps
 * busy took minutes here, longer than the batch. The CLI's writes land in the page cache either
 * way (≈ 420 MB); only file creation and deletion get cheaper.
 */
function scratchDir(): string {
  return existsSync(SHM) && statSync(SHM).isDirectory() ? SHM : tmpdir();
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  expect(
    distIsFresh(ctx.root, ["dist/cli/main.js", "dist/emulator/index.js"], ["src"]),
    "dist/ is missing or older than src/: the batch is measured as users run it, the built CLI (npm run bench builds first)",
  );
  const outDir = mkdtempSync(join(scratchDir(), "wxqr-bench-batch-"));
  // Ctrl-C ends the bench through process.exit (bench/run.ts), past the `finally` below.
  const removeOutput = (): void => rmSync(outDir, { recursive: true, force: true });
  process.once("exit", removeOutput);
  try {
    ctx.log(`batch: wxqr qr batch --temporary --count ${COUNT.toLocaleString("en-US")} --format png --size 430 --concurrency ${CONCURRENCY}`);
    const config: BatchRunConfig = { root: ctx.root, count: COUNT, outDir, earlyAt: EARLY_AT, concurrency: CONCURRENCY };
    const runner = startChild("batch-run.ts", config, "qr batch", ctx.root);
    const result = await runner.waitFor<BatchRunResult>("result", 600_000);
    await runner.stop();
    expect(
      result.exitCode === 0 && result.summary?.created === COUNT,
      `the CLI exited ${result.exitCode} with ${JSON.stringify(result.summary)}; stderr: ${result.stderrTail}`,
    );
    expect(result.createCalls === COUNT, `the emulator counted ${result.createCalls} qrcode/create calls for ${COUNT} codes`);
    expect(result.peakRssKiB > 0, "no memory figure: /proc/<pid>/status was not readable (Linux only)");
    const verified = verifyOutput(outDir, COUNT);
    ctx.log(`batch: verified: ${verified}`);
    const seconds = result.wallMs / 1000;
    return [
      {
        case: `qr batch, ${COUNT.toLocaleString("en-US")} temporary codes, PNG 430 px`,
        "wall s": Math.round(seconds * 10) / 10,
        "codes/s": Math.round(COUNT / seconds),
        "peak RSS MB": mb(result.peakRssKiB),
        [`peak RSS MB at ${EARLY_AT.toLocaleString("en-US")}`]: mb(result.earlyPeakRssKiB),
        "goal ≤ 90 s": seconds <= GOAL_SECONDS ? "met" : "MISSED",
        "goal ≤ 300 MB": mb(result.peakRssKiB) <= GOAL_RSS_MB ? "met" : "MISSED",
        note: `the built CLI against the emulator (another process), concurrency ${CONCURRENCY}, writing to ${dirname(outDir)}; wall time from spawn to exit; peak = VmHWM of the CLI process (worker threads included), polled every 100 ms; ${verified}`,
      },
    ];
  } finally {
    await stopAll();
    process.off("exit", removeOutput);
    removeOutput();
  }
}
