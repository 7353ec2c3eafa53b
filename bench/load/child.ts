/**
 * Child processes for load tests: a server under test and a load generator each get a process
 * of their own, started through tsx and driven over the IPC channel with small `{ type, … }`
 * messages. Every child started here is tracked, so a section can stop them all (by handle,
 * then by PID with SIGKILL) whatever went wrong; and every child exits on its own when the
 * IPC channel closes, so even a killed bench leaves nothing running.
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const LOAD_DIR = dirname(fileURLToPath(import.meta.url));

/** A message over the IPC channel, in either direction. A child reports a fatal problem as `{ type: "error", message }`. */
export interface IpcMessage {
  type: string;
  [key: string]: unknown;
}

export interface Child {
  readonly label: string;
  readonly pid: number;
  /** Resolves with the next message of this type; rejects on an `error` message, the child's exit, or the timeout. */
  waitFor<T extends { type: string }>(type: string, timeoutMs: number): Promise<T>;
  /** Sends a message and waits for the answer of type `replyType`. */
  ask<T extends { type: string }>(message: IpcMessage, replyType: string, timeoutMs: number): Promise<T>;
  /** Asks the child to close (`{ type: "close" }`), then SIGKILLs it if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILLs the child at once, as a crash would end it, and waits for it to be gone. */
  kill(): Promise<void>;
}

export interface StartChildOptions {
  /** Extra Node flags for the child, after `--import tsx` (e.g. `--cpu-prof`). */
  execArgv?: readonly string[];
}

const live = new Set<Child>();
/** PIDs of the children not yet seen to exit: the "exit" hook kills them, as it cannot wait for stop(). */
const livePids = new Map<Child, ChildProcess>();
let exitHookInstalled = false;

/** However the bench ends (a section's uncaught error, Ctrl-C through bench/run.ts, process.exit), no child outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const proc of livePids.values()) if (!exited(proc)) proc.kill("SIGKILL");
  });
}

function isMessage(value: unknown): value is IpcMessage {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/** A "close" that cannot be sent is harmless: the child is gone or going, and stop() waits or kills. */
const ignoreSendError = (): void => {};

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

/**
 * Starts `bench/load/<script>` with `node --import tsx`, passing `config` as JSON in argv[2].
 * The child's stdout and stderr go to this process's stderr, so the tables on stdout stay clean.
 * @example
 * const server = startChild("push-server.ts", { mode: "bare-success" }, "server");
 * const { port } = await server.waitFor<{ type: "listening"; port: number }>("listening", 20_000);
 */
export function startChild(script: string, config: unknown, label: string, cwd: string, options: StartChildOptions = {}): Child {
  const proc = fork(join(LOAD_DIR, script), [JSON.stringify(config)], {
    cwd, // `--import tsx` resolves from here: the repository root
    execArgv: ["--import", "tsx", ...(options.execArgv ?? [])],
    stdio: ["ignore", 2, 2, "ipc"],
    serialization: "json",
  });
  if (proc.pid === undefined) throw new Error(`${label}: could not start bench/load/${script}`);
  const pid = proc.pid;
  // Spawn and IPC errors arrive as events; without a listener they would crash the bench.
  proc.on("error", (error) => process.stderr.write(`  … ${label} (pid ${pid}): ${error.message}\n`));
  const inbox: IpcMessage[] = [];
  const waiters = new Set<(m: IpcMessage) => boolean>();
  proc.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    for (const w of waiters) if (w(m)) return;
    inbox.push(m);
  });

  const waitFor = <T extends { type: string }>(type: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const queued = inbox.findIndex((m) => m.type === type || m.type === "error");
      if (queued >= 0) {
        const [m] = inbox.splice(queued, 1);
        if (m!.type === "error") reject(new Error(`${label} (pid ${pid}): ${String(m!.message)}`));
        else resolve(m as unknown as T);
        return;
      }
      if (exited(proc)) {
        reject(new Error(`${label} (pid ${pid}) exited (code ${proc.exitCode}, signal ${proc.signalCode}) before sending "${type}"`));
        return;
      }
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(waiter);
        proc.off("exit", onExit);
      };
      const waiter = (m: IpcMessage): boolean => {
        if (m.type !== type && m.type !== "error") return false;
        cleanup();
        if (m.type === "error") reject(new Error(`${label} (pid ${pid}): ${String(m.message)}`));
        else resolve(m as unknown as T);
        return true;
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(new Error(`${label} (pid ${pid}) exited (code ${code}, signal ${signal}) before sending "${type}"`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${label} (pid ${pid}) sent no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(waiter);
      proc.once("exit", onExit);
    });

  const child: Child = {
    label,
    pid,
    waitFor,
    ask<T extends { type: string }>(message: IpcMessage, replyType: string, timeoutMs: number): Promise<T> {
      const reply = waitFor<T>(replyType, timeoutMs);
      proc.send(message, (error: Error | null) => {
        if (error) process.stderr.write(`  … ${label} (pid ${pid}): could not send "${message.type}": ${error.message}\n`);
      });
      return reply;
    },
    async stop(graceMs = 3_000) {
      try {
        if (!exited(proc)) {
          // A child that has already disconnected is on its way out: give it the same grace.
          if (proc.connected) proc.send({ type: "close" }, ignoreSendError);
          if (await waitForExit(proc, graceMs)) return;
          process.stderr.write(`  … ${label} (pid ${pid}) did not exit; killing it\n`);
          proc.kill("SIGKILL");
          if (!(await waitForExit(proc, 2_000))) throw new Error(`${label} (pid ${pid}) survived SIGKILL`);
        }
      } finally {
        if (proc.connected) proc.disconnect();
        live.delete(child);
      }
    },
    async kill() {
      try {
        if (!exited(proc)) {
          proc.kill("SIGKILL");
          if (!(await waitForExit(proc, 2_000))) throw new Error(`${label} (pid ${pid}) survived SIGKILL`);
        }
      } finally {
        if (proc.connected) proc.disconnect();
        live.delete(child);
      }
    },
  };
  live.add(child);
  livePids.set(child, proc);
  proc.once("exit", () => livePids.delete(child));
  installExitHook();
  return child;
}

/** Stops every child still running (the section's `finally`); reports but does not throw. */
export async function stopAll(): Promise<void> {
  const results = await Promise.allSettled([...live].map((c) => c.stop(1_000)));
  for (const r of results) if (r.status === "rejected") process.stderr.write(`  … cleanup: ${String(r.reason)}\n`);
}

// ── child side ──────────────────────────────────────────────────────────────────────────

/** The JSON config a child was started with (argv[2]). */
export function childConfig<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("bench/load child started without its JSON config in argv[2]");
  return JSON.parse(raw) as T;
}

/** Sends a message to the parent and resolves once it is handed to the channel. */
export function toParent<T extends { type: string }>(message: T): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error("bench/load child has no IPC channel: start it with startChild()"));
      return;
    }
    process.send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

/**
 * Wires a child to its parent: `onMessage` handles requests; the child exits when the parent
 * goes away (IPC channel closed), and reports a crash as `{ type: "error" }` before exiting 1.
 */
export function serveParent(onMessage: (message: IpcMessage) => Promise<void> | void): void {
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    Promise.resolve(onMessage(m)).catch(fail);
  });
}

/** Reports a fatal error to the parent (when still connected) and exits 1. */
export function fail(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${message}\n`);
  if (process.connected) toParent({ type: "error", message }).finally(() => process.exit(1));
  else process.exit(1);
}
