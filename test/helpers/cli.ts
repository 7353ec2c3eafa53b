/** Runs the built `wxqr` binary as a user would: a child process with its own environment. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` (npm test does it first)`);
}

/** Only what a shell would pass on: no stray WXQR_* or WECHAT_* from the test runner's environment. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<RunResult> {
  assertBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: cleanEnv(env), cwd, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface LongRunning {
  child: ChildProcess;
  /** Resolves with the first capture of `pattern` in stdout. */
  output: string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running command and waits until its stdout matches `ready`. */
export function startCli(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<LongRunning & { match: RegExpMatchArray }> {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = out.match(ready);
      if (match) {
        child.stdout?.off("data", onData);
        child.stdout?.on("data", (more: Buffer) => (handle.output += more.toString()));
        const handle = {
          child,
          match,
          output: out,
          stop: async (signal: NodeJS.Signals = "SIGINT") => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        };
        resolve(handle);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    void exited.then((code) => reject(new Error(`wxqr ${args.join(" ")} exited (${code}) before it was ready:\n${out}\n${err}`)));
  });
}

/** The one line a failing command prints on stderr (no stack trace), checked as such. */
export function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}
