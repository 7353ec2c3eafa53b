/**
 * A PostgreSQL cluster of one test's own (`scripts/test-postgres.sh` on a temporary data
 * directory and a free port), for tests that stop and start the server. The shared server of
 * WXQR_TEST_POSTGRES_URL is never touched: other test files use it at the same time.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

const SCRIPT = join(ROOT, "scripts", "test-postgres.sh");
const PG_LIB = "/usr/lib/postgresql";
const SCRIPT_TIMEOUT_MS = 60_000;

export interface PrivatePostgres {
  url: string;
  dir: string;
  /** `pg_ctl stop -m fast`: every connection is cut. */
  stop(): Promise<void>;
  /** Starts the stopped cluster again on the same port (waits until it accepts connections). */
  start(): Promise<void>;
  /** Stops the cluster and removes its data directory; safe to call more than once. */
  destroy(): Promise<void>;
}

/** Whether initdb and pg_ctl are installed (the script would otherwise install them, which tests never do). */
export function postgresBinariesInstalled(): boolean {
  if (!existsSync(PG_LIB)) return false;
  return readdirSync(PG_LIB).some((v) => existsSync(join(PG_LIB, v, "bin", "initdb")) && existsSync(join(PG_LIB, v, "bin", "pg_ctl")));
}

/** Like `announcePostgres`: true when the binaries are there; loud locally, fatal in CI when they are not. */
export function announcePrivatePostgres(suite: string): boolean {
  if (postgresBinariesInstalled()) return true;
  if (process.env.CI) throw new Error(`${suite}: PostgreSQL binaries are missing in CI (scripts/test-postgres.sh installs them)`);
  process.stderr.write(`\n!!! ${suite}: SKIPPED — no PostgreSQL binaries under ${PG_LIB} to start a private cluster !!!\n\n`);
  return false;
}

function script(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("bash", [SCRIPT, ...args], { timeout: SCRIPT_TIMEOUT_MS }, (error, stdout, stderr) =>
      error ? reject(new Error(`test-postgres.sh ${args.join(" ")}: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), "wxqr-pg-private-"));
  const port = String(await freePort());
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await script("stop", dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = (await script("start", dir, port)).trim().split("\n").at(-1)!;
    return {
      url,
      dir,
      stop: async () => void (await script("stop", dir)),
      start: async () => void (await script("start", dir, port)),
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
