/**
 * One `wxqr qr batch` against the emulator, in a process of its own (started by
 * bench/sections/batch.ts): the emulator listens here, the built CLI runs as a user would run it
 * (`node dist/cli/main.js qr batch …`, a child of this process), and this process watches it —
 * its resident memory from /proc every 100 ms, and the lines of `codes.ndjson` — so the figures
 * are the CLI's alone: its wall time, its peak RSS (VmHWM, worker threads included) and that
 * peak when the 10,000th code was written.
 *
 * Sends `{ type: "result" }` (a `BatchRunResult`) when the CLI has exited; the CLI is killed by
 * PID if the parent goes away or asks to close first.
 * @module
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as DepsModule from "../../src/deps.ts";
import type * as EmulatorModule from "../../src/emulator/index.ts";
import { childConfig, fail, serveParent, toParent, type IpcMessage } from "./child.ts";

export interface BatchRunConfig {
  root: string;
  count: number;
  /** Where the CLI writes (`--out-dir`); the section removes it. */
  outDir: string;
  /** Codes written when the early memory figure is taken. */
  earlyAt: number;
  concurrency: number;
}

export interface BatchRunResult {
  type: "result";
  exitCode: number | null;
  wallMs: number;
  /** The CLI's `--json` summary. */
  summary: Record<string, unknown> | undefined;
  stderrTail: string;
  peakRssKiB: number;
  /** VmHWM when `earlyAt` codes had been written (0 if never reached). */
  earlyPeakRssKiB: number;
  /** qrcode/create calls the emulator counted. */
  createCalls: number;
}

const APP_ID = "wx5e7c1ce0000000b5";
const APP_SECRET = "benchbatchsecret0123456789abcdef";
const POLL_MS = 100;

const config = childConfig<BatchRunConfig>();

function vmKiB(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // gone, or no /proc (not Linux)
  }
}

/** Counts the newlines appended to a file since the last call: the codes written so far. */
function lineCounter(file: string): () => number {
  let offset = 0;
  let lines = 0;
  const buffer = Buffer.alloc(1 << 20);
  return () => {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return lines; // not created yet
    }
    try {
      for (let n = readSync(fd, buffer, 0, buffer.length, offset); n > 0; n = readSync(fd, buffer, 0, buffer.length, offset)) {
        for (let i = 0; i < n; i++) if (buffer[i] === 10) lines++;
        offset += n;
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  };
}

try {
  const { createEmulator } = (await import(pathToFileURL(join(config.root, "dist/emulator/index.js")).href)) as typeof EmulatorModule;
  const { silentLogger } = (await import(pathToFileURL(join(config.root, "dist/deps.js")).href)) as typeof DepsModule;
  // The platform's daily qrcode/create quota is exactly 100,000: room for the whole batch and the token's calls.
  const emulator = createEmulator({ appId: APP_ID, appSecret: APP_SECRET, dailyQuota: { "qrcode/create": config.count + 1_000 } }, { logger: silentLogger });
  const base = await emulator.listen({ port: 0, host: "127.0.0.1" });
  const args = [
    join(config.root, "dist/cli/main.js"),
    ...["qr", "batch", "--temporary", "--scene-start", "1", "--count", String(config.count)],
    ...["--out-dir", config.outDir, "--format", "png", "--size", "430", "--concurrency", String(config.concurrency), "--json"],
  ];
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: APP_SECRET,
    WECHAT_API_BASE: base,
    WECHAT_MP_BASE: base,
  };
  const startedAt = performance.now();
  const cli = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const pid = cli.pid;
  if (pid === undefined) throw new Error("could not start the CLI");
  const killCli = (): void => {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill("SIGKILL");
  };
  serveParent((message: IpcMessage) => {
    if (message.type === "close") {
      killCli();
      process.exit(0);
    }
  });
  // However this process ends (the parent gone, a close, a crash), the CLI must not outlive it.
  process.on("exit", killCli);
  // Ctrl-C reaches this process with the rest of the group: without a handler it would die
  // without its "exit" hook, leaving the CLI to retry against an emulator that is gone.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(1));
  let stdout = "";
  let stderr = "";
  cli.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  cli.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));

  const written = lineCounter(join(config.outDir, "codes.ndjson"));
  let peak = 0;
  let earlyPeak = 0;
  const poll = (): void => {
    peak = Math.max(peak, vmKiB(pid, "VmHWM") ?? 0);
    if (earlyPeak === 0 && written() >= config.earlyAt) earlyPeak = peak;
  };
  const poller = setInterval(poll, POLL_MS);
  const [exitCode] = (await once(cli, "exit")) as [number | null];
  const wallMs = performance.now() - startedAt;
  clearInterval(poller);
  if (earlyPeak === 0 && written() >= config.earlyAt) earlyPeak = peak; // reached within the last poll

  const counters = (await (await fetch(`${base}/emulator/counters`)).json()) as { today: Record<string, number> };
  await emulator.close();
  let summary: Record<string, unknown> | undefined;
  try {
    summary = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    summary = undefined;
  }
  await toParent<BatchRunResult>({
    type: "result",
    exitCode,
    wallMs,
    summary,
    stderrTail: stderr,
    peakRssKiB: peak,
    earlyPeakRssKiB: earlyPeak,
    createCalls: counters.today["qrcode/create"] ?? 0,
  });
} catch (error) {
  fail(error);
}
