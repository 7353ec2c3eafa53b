/**
 * `wxqr qr batch`: many codes at once. It streams: a fixed number of runners each take the next
 * index not yet in `codes.ndjson`, create that code, render it in the worker pool, write its image
 * and append its line, so memory holds only the codes in flight, however large `--count` is.
 * The manifest is the batch's journal (`batch-journal.ts`): a re-run with the same arguments
 * creates only the codes missing from it, and `--zip` packs a complete batch (`batch-zip.ts`).
 * @module
 */
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Command } from "commander";
import { writeFileAtomic } from "../../atomic-file.ts";
import { loadConfig, requireConfig } from "../../config.ts";
import { createKeepAliveFetch } from "../../keep-alive-fetch.ts";
import { AccessTokenInvalidError, CredentialsError, PermissionError, QrError, RateLimitError, ValidationError, WeChatApiError } from "../../errors.ts";
import { resolveRenderOptions } from "../../qr/png.ts";
import { createRenderPool, type RenderPool } from "../../qr/render-pool.ts";
import { createWeChatClient } from "../../wechat/client.ts";
import { validateExpireSeconds, type QrCodesApi, type QrTicket } from "../../wechat/qr-ticket.ts";
import { CODES_FILE, prepareJournal, readJournal, type BatchParameters, type ImageFormat, type Journal } from "../batch-journal.ts";
import { createBatchProgress, type BatchProgress } from "../batch-progress.ts";
import { planScenes, type CodeType, type ScenePlan } from "../batch-scenes.ts";
import { writeBatchZip } from "../batch-zip.ts";
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
  zip?: string;
  json?: boolean;
}

const FORMATS: readonly ImageFormat[] = ["png", "svg", "none"];

const DEFAULT_EXPIRE = "30d";
// 8 in flight hide the API's round trip; the cap catches a typo such as 800, which would open
// hundreds of sockets at once and only meet WeChat's per-minute limit (45011) sooner.
const DEFAULT_CONCURRENCY = "8";
const MAX_CONCURRENCY = 64;

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
  /** What `batch.json` records: a re-run must give the same. */
  parameters: BatchParameters;
  zipPath: string | undefined;
}

interface BatchSummary {
  count: number;
  created: number;
  failed: number;
  /** Codes never attempted, because the batch was stopped. */
  notStarted: number;
  /** Codes already in the manifest from earlier runs, not created again. */
  alreadyDone: number;
  /** Images in the ZIP written (`--zip`), or undefined when none was. */
  zipImages: number | undefined;
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
    .description(
      `create many codes at once: each one's image in --out-dir, its ticket and url appended to ${CODES_FILE}, failures to ${ERRORS_FILE}; ` +
        "a re-run with the same arguments creates only the codes missing",
    )
    .option("--temporary", "codes that expire (up to 30 days)")
    .option("--permanent", "codes that never expire (100,000 per account)")
    .option("--expire <duration>", `lifetime of temporary codes: seconds, or 90s, 45m, 1h, 30d (default: ${DEFAULT_EXPIRE})`)
    .requiredOption("--count <n>", "how many codes")
    .option("--scene-start <n>", "numeric scenes n, n+1, … (the whole range must fit: 1..100000 permanent, 1..4294967295 temporary)")
    .option("--scene-prefix <p>", "string scenes <p>1 … <p><count>, the number zero-padded to the width of --count (64 characters at most)")
    .requiredOption("--out-dir <dir>", `where the images, ${CODES_FILE} and batch.json go (created if missing; a batch there is resumed)`)
    .option("--format <format>", "image format: png, svg, or none (no images)", "png")
    .option("--size <px>", "image width and height in pixels", "430")
    .option("--concurrency <n>", `codes in flight at once, 1..${MAX_CONCURRENCY}`, DEFAULT_CONCURRENCY)
    .option("--zip <file>", "once every code is in the manifest, write one ZIP of the images and codes.csv (for Excel)")
    .option("--json", "print only the summary, as JSON")
    .action(async (flags: BatchFlags) => {
      // Everything is checked before the first call: a bad range must not cost any quota.
      const job = parseJob(flags);
      const config = loadConfig(ctx.env);
      const journal = await readJournal(job.outDir, job.parameters, job.plan);
      let api: QrCodesApi | undefined;
      // A complete batch needs no API call, so it can be zipped without the credentials.
      if (journal.recorded < job.plan.count) {
        requireConfig(config, ["appId", "appSecret"], "to call the WeChat API");
        // One qrcode/create per code: undici's fetch alone cost more CPU than rendering the code.
        const http = createKeepAliveFetch({ fallback: ctx.deps.fetch });
        const client = createWeChatClient(
          { appId: config.appId, appSecret: config.appSecret, apiBase: config.apiBase, mpBase: config.mpBase },
          { ...ctx.deps, fetch: http.fetch },
        );
        api = client.qrcodes;
      }
      await prepareJournal(job.outDir, job.parameters, journal);
      const summary = await runBatch(job, journal, api, ctx, Boolean(flags.json));
      // Only a whole batch is zipped: a partial one would pass for the print run.
      const complete = summary.alreadyDone + summary.created === summary.count && summary.failed === 0;
      if (job.zipPath !== undefined && complete && summary.fatal === undefined) {
        try {
          summary.zipImages = await writeBatchZip(job.outDir, job.zipPath, new Date(ctx.deps.clock.now()));
        } catch (error) {
          summary.fatal = new CommandFailure(`cannot write ${job.zipPath}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      ctx.stdout.write(flags.json ? `${JSON.stringify(summaryJson(summary, job))}\n` : `${summaryLine(summary, job)}\n`);
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
        const zip = job.zipPath === undefined ? "" : `; ${job.zipPath} not written until a re-run completes the batch`;
        throw new CommandFailure(`${summary.failed} of ${summary.count} codes failed (${codes}): see ${join(job.outDir, ERRORS_FILE)}${zip}`);
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
  const format = flags.format as ImageFormat;
  const parameters: BatchParameters = {
    type,
    count: plan.count,
    sceneStart: flags.sceneStart === undefined ? null : (plan.sceneValue(0) as number),
    scenePrefix: flags.scenePrefix ?? null,
    expireSeconds: expireSeconds ?? null,
    format,
    size: sizePx,
  };
  return { type, expireSeconds, plan, format, sizePx, concurrency, outDir: flags.outDir, parameters, zipPath: flags.zip };
}

/** Errors that every following code would hit too: the batch stops rather than repeat them N times. */
function endsTheBatch(error: unknown): boolean {
  if (error instanceof CredentialsError || error instanceof PermissionError || error instanceof AccessTokenInvalidError) return true;
  // 45009: today's qrcode/create calls are used up; every further call today fails the same way.
  return error instanceof RateLimitError && error.errcode === 45009;
}

async function runBatch(job: BatchJob, journal: Journal, api: QrCodesApi | undefined, ctx: CliContext, json: boolean): Promise<BatchSummary> {
  const { plan, outDir, format } = job;
  const { done: recorded } = journal;
  const missing = plan.count - journal.recorded;
  // errors.ndjson lists this run's failures: those of an earlier run are either created now or listed again.
  await rm(join(outDir, ERRORS_FILE), { force: true });
  const codes = await openAppendStream(outDir, CODES_FILE);
  // Opened at the first failure, once however many fail together: a clean batch leaves no errors file.
  let errors: Promise<Writable> | undefined;
  const summary: BatchSummary = {
    count: plan.count,
    created: 0,
    failed: 0,
    notStarted: 0,
    alreadyDone: journal.recorded,
    zipImages: undefined,
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
  /** The next index not in the manifest yet, or undefined when none is left. */
  const takeIndex = (): number | undefined => {
    while (next < plan.count && recorded[next] === 1) next += 1;
    return next < plan.count ? next++ : undefined;
  };
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
      code = job.expireSeconds !== undefined ? await api!.createTemporary({ ...scene, expireSeconds: job.expireSeconds }) : await api!.createPermanent(scene);
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
        // On disk and renamed into place before its line is appended: a line always has its image.
        await writeFileAtomic(join(outDir, name), await pool.render(code.url, { size: job.sizePx }, format), { mode: 0o644 });
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
    while (summary.stoppedBy === undefined && summary.fatal === undefined) {
      const index = takeIndex();
      if (index === undefined) return;
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
    if (missing > 0) {
      if (format !== "none") pool = createRenderPool();
      progress = await createBatchProgress({ total: missing, stream: ctx.stderr, quiet: json, clock: ctx.deps.clock });
      await Promise.all(Array.from({ length: Math.min(job.concurrency, missing) }, runner));
    }
  } finally {
    progress?.stop();
    await pool?.close();
    await Promise.all([closeStream(codes), errors?.then(closeStream)]).catch(endWith);
  }
  summary.notStarted = missing - done;
  summary.elapsedMs = ctx.deps.clock.now() - startedAt;
  return summary;
}

/** Opens `dir/name` for appending, so a missing or unwritable directory fails before any API call. */
async function openAppendStream(dir: string, name: string): Promise<Writable> {
  try {
    await mkdir(dir, { recursive: true });
    const file = await open(join(dir, name), "a");
    // Flushed to disk when closed; until then a killed process loses nothing (the lines are in
    // the kernel's cache), only a power cut can, and then a re-run creates those codes again.
    return file.createWriteStream({ flush: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ValidationError("outDir", `cannot write ${join(dir, name)} (${reason})`);
  }
}

/**
 * One JSON line, resolved once the file has it (in the kernel's cache), not just the stream's
 * buffer: a code counted as done is in the manifest even if the process is killed the next moment.
 */
async function writeLine(stream: Writable, value: unknown): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.write(`${JSON.stringify(value)}\n`, (error) => (error ? reject(error) : resolve())));
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

function summaryLine(summary: BatchSummary, job: BatchJob): string {
  let line = `${summary.created} created, ${summary.failed} failed, in ${seconds(summary.elapsedMs)} s (${perSecond(summary)} codes/s)`;
  if (summary.stoppedBy !== undefined || summary.notStarted > 0) line += `; ${summary.notStarted} not started`;
  if (summary.alreadyDone > 0) line += `; ${summary.alreadyDone} already in ${CODES_FILE}`;
  if (summary.zipImages !== undefined) line += `; ${job.zipPath!} written (${summary.zipImages} images and codes.csv)`;
  return line;
}

function summaryJson(summary: BatchSummary, job: BatchJob): Record<string, unknown> {
  return {
    type: job.type,
    scenes: job.plan.range,
    count: summary.count,
    created: summary.created,
    failed: summary.failed,
    notStarted: summary.notStarted,
    alreadyDone: summary.alreadyDone,
    seconds: Number(seconds(summary.elapsedMs)),
    codesPerSecond: perSecond(summary),
    errorCodes: summary.errorCodes,
    stoppedBy: summary.stoppedBy ?? null,
    outDir: job.outDir,
    codesFile: join(job.outDir, CODES_FILE),
    errorsFile: summary.failed > 0 ? join(job.outDir, ERRORS_FILE) : null,
    zipFile: summary.zipImages === undefined ? null : job.zipPath,
  };
}
