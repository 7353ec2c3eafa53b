/**
 * `wxqr qr batch`: many codes at once. It streams: a fixed number of runners each take the next
 * index, create that code, render it in the worker pool, write its image and append its line to
 * `codes.ndjson`, so memory holds only the codes in flight, however large `--count` is.
 * @module
 */
import { once } from "node:events";
import { mkdir, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Command } from "commander";
import { loadConfig, requireConfig } from "../../config.ts";
import { AccessTokenInvalidError, CredentialsError, PermissionError, QrError, RateLimitError, ValidationError, WeChatApiError } from "../../errors.ts";
import { resolveRenderOptions } from "../../qr/png.ts";
import { createRenderPool, type RenderPool } from "../../qr/render-pool.ts";
import { createWeChatClient } from "../../wechat/client.ts";
import { validateExpireSeconds, type QrCodesApi, type QrTicket } from "../../wechat/qr-ticket.ts";
import { createBatchProgress, type BatchProgress } from "../batch-progress.ts";
import { planScenes, type CodeType, type ScenePlan } from "../batch-scenes.ts";
import type { CliContext } from "../context.ts";
import { parseDuration, parseWholeNumber } from "../parse.ts";
import { CommandFailure } from "../report-error.ts";

interface BatchFlags {
  temporary?: boolean;
  permanent?: boolean;
  expire?: string;
  count: string;
  sceneStart?: string;
  scenePrefix?: string;
  outDir: string;
  format: string;
  size: string;
  concurrency: string;
  json?: boolean;
}

type ImageFormat = "png" | "svg" | "none";
const FORMATS: readonly ImageFormat[] = ["png", "svg", "none"];

const DEFAULT_EXPIRE = "30d";
// 8 in flight hide the API's round trip; the cap catches a typo such as 800, which would open
// hundreds of sockets at once and only meet WeChat's per-minute limit (45011) sooner.
const DEFAULT_CONCURRENCY = "8";
const MAX_CONCURRENCY = 64;

const CODES_FILE = "codes.ndjson";
const ERRORS_FILE = "errors.ndjson";

interface BatchJob {
  type: CodeType;
  /** Temporary codes only. */
  expireSeconds: number | undefined;
  plan: ScenePlan;
  format: ImageFormat;
  sizePx: number;
  concurrency: number;
  outDir: string;
}

interface BatchSummary {
  count: number;
  created: number;
  failed: number;
  /** Codes never attempted, because the batch was stopped. */
  notStarted: number;
  elapsedMs: number;
  /** Failures by error code, e.g. `{ WECHAT_QR_QUOTA_EXCEEDED: 5 }`. */
  errorCodes: Record<string, number>;
  /** The signal that stopped the batch (Ctrl-C), if one did. */
  stoppedBy: string | undefined;
  /** An error that made every further code pointless (wrong credentials, …); it ended the batch. */
  fatal: unknown;
}

export function registerQrBatchCommand(qr: Command, ctx: CliContext): void {
  qr.command("batch")
    .description(`create many codes at once: each one's image in --out-dir, its ticket and url appended to ${CODES_FILE}, failures to ${ERRORS_FILE}`)
    .option("--temporary", "codes that expire (up to 30 days)")
    .option("--permanent", "codes that never expire (100,000 per account)")
    .option("--expire <duration>", `lifetime of temporary codes: seconds, or 90s, 45m, 1h, 30d (default: ${DEFAULT_EXPIRE})`)
    .requiredOption("--count <n>", "how many codes")
    .option("--scene-start <n>", "numeric scenes n, n+1, … (the whole range must fit: 1..100000 permanent, 1..4294967295 temporary)")
    .option("--scene-prefix <p>", "string scenes <p>1 … <p><count>, the number zero-padded to the width of --count (64 characters at most)")
    .requiredOption("--out-dir <dir>", "where the images and the .ndjson files go (created if missing; the .ndjson files are appended to)")
    .option("--format <format>", "image format: png, svg, or none (no images)", "png")
    .option("--size <px>", "image width and height in pixels", "430")
    .option("--concurrency <n>", `codes in flight at once, 1..${MAX_CONCURRENCY}`, DEFAULT_CONCURRENCY)
    .option("--json", "print only the summary, as JSON")
    .action(async (flags: BatchFlags) => {
      // Everything is checked before the first call: a bad range must not cost any quota.
      const job = parseJob(flags);
      const config = loadConfig(ctx.env);
      requireConfig(config, ["appId", "appSecret"], "to call the WeChat API");
      const client = createWeChatClient({ appId: config.appId, appSecret: config.appSecret, apiBase: config.apiBase, mpBase: config.mpBase }, ctx.deps);
      const summary = await runBatch(job, client.qrcodes, ctx, Boolean(flags.json));
      ctx.stdout.write(flags.json ? `${JSON.stringify(summaryJson(summary, job))}\n` : `${summaryLine(summary)}\n`);
      if (summary.fatal !== undefined) throw summary.fatal;
      if (summary.stoppedBy !== undefined) {
        // 128 + the signal's number, as a shell reports a command ended by that signal.
        throw new CommandFailure(
          `stopped by ${summary.stoppedBy}: ${summary.notStarted} of ${summary.count} codes not started`,
          summary.stoppedBy === "SIGTERM" ? 143 : 130,
        );
      }
      if (summary.failed > 0) {
        const codes = Object.entries(summary.errorCodes)
          .map(([code, n]) => `${code} ×${n}`)
          .join(", ");
        throw new CommandFailure(`${summary.failed} of ${summary.count} codes failed (${codes}): see ${join(job.outDir, ERRORS_FILE)}`);
      }
    });
}

function parseJob(flags: BatchFlags): BatchJob {
  if (Boolean(flags.temporary) === Boolean(flags.permanent)) {
    throw new ValidationError("type", "give exactly one of --temporary or --permanent");
  }
  const type: CodeType = flags.temporary ? "temporary" : "permanent";
  const plan = planScenes({
    type,
    count: parseWholeNumber(flags.count, "count"),
    sceneStart: flags.sceneStart === undefined ? undefined : parseWholeNumber(flags.sceneStart, "sceneStart"),
    scenePrefix: flags.scenePrefix,
  });
  if (type === "permanent" && flags.expire !== undefined) throw new ValidationError("expireSeconds", "applies only to --temporary codes");
  const expireSeconds = type === "temporary" ? validateExpireSeconds(parseDuration(flags.expire ?? DEFAULT_EXPIRE, "expireSeconds")) : undefined;
  if (!(FORMATS as readonly string[]).includes(flags.format)) {
    throw new ValidationError("format", `must be png, svg or none, got ${JSON.stringify(flags.format)}`);
  }
  const { size: sizePx } = resolveRenderOptions({ size: parseWholeNumber(flags.size, "size") });
  const concurrency = parseWholeNumber(flags.concurrency, "concurrency");
  if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new ValidationError("concurrency", `must be from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`);
  }
  return { type, expireSeconds, plan, format: flags.format as ImageFormat, sizePx, concurrency, outDir: flags.outDir };
}

/** Errors that every following code would hit too: the batch stops rather than repeat them N times. */
function endsTheBatch(error: unknown): boolean {
  if (error instanceof CredentialsError || error instanceof PermissionError || error instanceof AccessTokenInvalidError) return true;
  // 45009: today's qrcode/create calls are used up; every further call today fails the same way.
  return error instanceof RateLimitError && error.errcode === 45009;
}

async function runBatch(job: BatchJob, api: QrCodesApi, ctx: CliContext, json: boolean): Promise<BatchSummary> {
  const { plan, outDir, format } = job;
  const codes = await openAppendStream(outDir, CODES_FILE);
  // Opened at the first failure, once however many fail together: a clean batch leaves no errors file.
  let errors: Promise<Writable> | undefined;
  const summary: BatchSummary = {
    count: plan.count,
    created: 0,
    failed: 0,
    notStarted: 0,
    elapsedMs: 0,
    errorCodes: {},
    stoppedBy: undefined,
    fatal: undefined,
  };
  const endWith = (error: unknown): void => {
    summary.fatal ??= error;
  };
  codes.on("error", endWith);

  let pool: RenderPool | undefined;
  let progress: BatchProgress | undefined;
  let next = 0;
  let done = 0;
  const startedAt = ctx.deps.clock.now();
  void ctx.untilStopped().then((signal) => {
    summary.stoppedBy ??= signal;
  });

  const fail = async (index: number, stage: "create" | "image", error: unknown): Promise<void> => {
    const code = error instanceof QrError ? error.code : "UNEXPECTED";
    summary.errorCodes[code] = (summary.errorCodes[code] ?? 0) + 1;
    errors ??= openAppendStream(outDir, ERRORS_FILE).then((stream) => stream.on("error", endWith));
    const line = {
      scene: plan.sceneValue(index),
      type: job.type,
      stage,
      code,
      errcode: error instanceof WeChatApiError ? error.errcode : null,
      message: error instanceof Error ? error.message : String(error),
    };
    await writeLine(await errors, line);
  };

  /** Creates, renders and records one code; says whether it was created and whether anything failed. */
  const one = async (index: number): Promise<{ created: boolean; failed: boolean }> => {
    let code: QrTicket;
    try {
      const scene = plan.sceneAt(index);
      code = job.expireSeconds !== undefined ? await api.createTemporary({ ...scene, expireSeconds: job.expireSeconds }) : await api.createPermanent(scene);
    } catch (error) {
      await fail(index, "create", error);
      if (endsTheBatch(error)) endWith(error);
      return { created: false, failed: true };
    }
    let file: string | null = null;
    let imageFailed = false;
    if (pool && format !== "none") {
      try {
        const name = `${plan.sceneValue(index)}.${format}`;
        await writeFile(join(outDir, name), await pool.render(code.url, { size: job.sizePx }, format));
        file = name;
      } catch (error) {
        // The code exists on the platform whatever happened to its image: its line is still written.
        imageFailed = true;
        await fail(index, "image", error);
      }
    }
    await writeLine(codes, {
      scene: plan.sceneValue(index),
      type: code.type,
      ticket: code.ticket,
      url: code.url,
      expiresAt: code.expiresAt === undefined ? null : new Date(code.expiresAt).toISOString(),
      file,
    });
    return { created: true, failed: imageFailed };
  };

  // Each runner takes the next index until none is left or the batch is told to stop; those in
  // flight always finish, so every code created is written down.
  const runner = async (): Promise<void> => {
    while (next < plan.count && summary.stoppedBy === undefined && summary.fatal === undefined) {
      const index = next++;
      try {
        const outcome = await one(index);
        if (outcome.created) summary.created += 1;
        if (outcome.failed) summary.failed += 1;
      } catch (error) {
        // Only writing our own files gets here (disk full, …): nothing more can be recorded.
        summary.failed += 1;
        endWith(error);
      }
      done += 1;
      progress?.update({ done, created: summary.created, failed: summary.failed });
    }
  };

  try {
    if (format !== "none") pool = createRenderPool();
    progress = await createBatchProgress({ total: plan.count, stream: ctx.stderr, quiet: json, clock: ctx.deps.clock });
    await Promise.all(Array.from({ length: Math.min(job.concurrency, plan.count) }, runner));
  } finally {
    progress?.stop();
    await pool?.close();
    await Promise.all([closeStream(codes), errors?.then(closeStream)]).catch(endWith);
  }
  summary.notStarted = plan.count - next;
  summary.elapsedMs = ctx.deps.clock.now() - startedAt;
  return summary;
}

/** Opens `dir/name` for appending, so a missing or unwritable directory fails before any API call. */
async function openAppendStream(dir: string, name: string): Promise<Writable> {
  try {
    await mkdir(dir, { recursive: true });
    const file = await open(join(dir, name), "a");
    return file.createWriteStream();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ValidationError("outDir", `cannot write ${join(dir, name)} (${reason})`);
  }
}

/** One JSON line; waits for "drain" when the stream's buffer is full, which holds back this runner. */
async function writeLine(stream: Writable, value: unknown): Promise<void> {
  if (!stream.write(`${JSON.stringify(value)}\n`)) await once(stream, "drain");
}

async function closeStream(stream: Writable): Promise<void> {
  if (stream.destroyed) return;
  stream.end();
  await finished(stream);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
}

function perSecond(summary: BatchSummary): number {
  if (summary.elapsedMs <= 0) return 0;
  const rate = (summary.created * 1000) / summary.elapsedMs;
  return rate >= 100 ? Math.round(rate) : Math.round(rate * 10) / 10;
}

function summaryLine(summary: BatchSummary): string {
  const line = `${summary.created} created, ${summary.failed} failed, in ${seconds(summary.elapsedMs)} s (${perSecond(summary)} codes/s)`;
  return summary.stoppedBy === undefined && summary.notStarted === 0 ? line : `${line}; ${summary.notStarted} not started`;
}

function summaryJson(summary: BatchSummary, job: BatchJob): Record<string, unknown> {
  return {
    type: job.type,
    scenes: job.plan.range,
    count: summary.count,
    created: summary.created,
    failed: summary.failed,
    notStarted: summary.notStarted,
    seconds: Number(seconds(summary.elapsedMs)),
    codesPerSecond: perSecond(summary),
    errorCodes: summary.errorCodes,
    stoppedBy: summary.stoppedBy ?? null,
    outDir: job.outDir,
    codesFile: join(job.outDir, CODES_FILE),
    errorsFile: summary.failed > 0 ? join(job.outDir, ERRORS_FILE) : null,
  };
}
