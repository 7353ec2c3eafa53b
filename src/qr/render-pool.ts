/**
 * A worker_threads pool for rendering batches of codes on every core. Encoding a code is
 * CPU-bound (~0.3 ms, mostly the encoder's mask selection), so one thread caps out near
 * 2,500 PNG/s; the pool multiplies that by the cores available (`npm run bench -- qr`).
 * @module
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { ERROR_CODES, QrError, ValidationError, type ErrorCode } from "../errors.ts";
import type { RenderOptions } from "./png.ts";
import type { RenderFormat, RenderRequest, RenderResponse, SerializedError } from "./render-worker.ts";

export type { RenderFormat } from "./render-worker.ts";

export interface RenderPoolOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  workers?: number;
}

export interface RenderPool {
  /** Renders a PNG in a worker; rejects with the same typed errors as `renderPng`. */
  render(text: string, options?: RenderOptions, format?: "png"): Promise<Buffer>;
  /** Renders an SVG document in a worker; rejects with the same typed errors as `renderSvg`. */
  render(text: string, options: RenderOptions | undefined, format: "svg"): Promise<string>;
  render(text: string, options: RenderOptions | undefined, format: RenderFormat): Promise<Buffer | string>;
  /** Terminates the workers; renders still in flight reject. Safe to call twice. */
  close(): Promise<void>;
  /** The number of worker threads. */
  readonly size: number;
}

const MAX_WORKERS = 256;

// Under vitest or tsx this module runs as .ts, and so must its worker; the compiled dist has
// a plain .js worker that needs nothing.
const RUNNING_AS_TS = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(RUNNING_AS_TS ? "./render-worker.ts" : "./render-worker.js", import.meta.url);

function startWorker(): Worker {
  if (!RUNNING_AS_TS) return new Worker(WORKER_URL);
  // `execArgv: ["--import", "tsx"]` is not enough on Node 20: the hooks it registers do not
  // apply to the worker's entry module ("Unknown file extension .ts"). So a small bootstrap
  // registers tsx inside the worker first, then imports the .ts entry.
  const bootstrap = `import(${JSON.stringify(resolveTsxApi())})` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { eval: true });
}

/** An absolute URL for tsx's register API, so the worker finds it whatever the current directory. */
function resolveTsxApi(): string {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    // Some runners do not implement import.meta.resolve.
    return pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href;
  }
}

interface Pending {
  resolve: (value: Buffer | string) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker | undefined;
  pending: Map<number, Pending>;
  /** Requests made in this tick, posted together as one message. */
  outbox: RenderRequest[];
}

/**
 * Starts a pool of render workers. Requests go to the worker with the fewest in flight
 * (round-robin among ties) and queue in that worker's message port. Idle workers do not
 * keep the process alive, and `close()` ends them.
 * @example
 * const pool = createRenderPool({ workers: 2 });
 * const pngs = await Promise.all(urls.map((url) => pool.render(url, { size: 430 }, "png")));
 * await pool.close();
 */
export function createRenderPool(options: RenderPoolOptions = {}): RenderPool {
  const count = options.workers ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
    throw new ValidationError("workers", `must be a whole number from 1 to ${MAX_WORKERS}, got ${count}`);
  }
  const slots: Slot[] = Array.from({ length: count }, () => ({ worker: undefined, pending: new Map(), outbox: [] }));
  let nextId = 1;
  let nextSlot = 0;
  let closed = false;

  const failAll = (slot: Slot, error: Error): void => {
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.reject(error);
  };

  const spawn = (slot: Slot): Worker => {
    const worker = startWorker();
    worker.on("message", (responses: RenderResponse[]) => {
      for (const response of responses) {
        const p = slot.pending.get(response.id);
        if (!p) continue;
        slot.pending.delete(response.id);
        if (response.ok) {
          const { result } = response;
          p.resolve(typeof result === "string" ? result : Buffer.from(result.buffer, result.byteOffset, result.byteLength));
        } else {
          p.reject(toError(response.error));
        }
      }
      if (slot.pending.size === 0) worker.unref();
    });
    // A crash loses whatever the worker held; the next request starts a fresh one.
    const lost = (error: Error): void => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      failAll(slot, error);
    };
    worker.on("error", (error) => lost(new Error(`render worker crashed: ${error.message}`, { cause: error })));
    worker.on("exit", (exitCode) => lost(new Error(`render worker exited with code ${exitCode}`)));
    // After the listeners: adding a "message" listener refs the worker again.
    worker.unref();
    slot.worker = worker;
    return worker;
  };

  for (const slot of slots) spawn(slot);

  const pickSlot = (): Slot => {
    let best = slots[nextSlot]!;
    for (let i = 1; i < slots.length; i++) {
      const slot = slots[(nextSlot + i) % slots.length]!;
      if (slot.pending.size < best.pending.size) best = slot;
    }
    nextSlot = (slots.indexOf(best) + 1) % slots.length;
    return best;
  };

  const flush = (slot: Slot): void => {
    const requests = slot.outbox;
    slot.outbox = [];
    const worker = slot.worker;
    if (requests.length === 0 || !worker) return;
    try {
      worker.postMessage(requests);
    } catch (error) {
      // Options that cannot be cloned (functions, symbols) fail the whole message; retry one
      // by one so only the requests at fault are rejected.
      for (const request of requests) {
        try {
          worker.postMessage([request]);
        } catch {
          const p = slot.pending.get(request.id);
          slot.pending.delete(request.id);
          p?.reject(new ValidationError("options", `cannot be sent to a render worker: ${error instanceof Error ? error.message : String(error)}`));
        }
      }
      if (slot.pending.size === 0) worker.unref();
    }
  };

  function render(text: string, renderOptions?: RenderOptions, format: RenderFormat = "png"): Promise<Buffer | string> {
    if (closed) return Promise.reject(new Error("render pool is closed"));
    const slot = pickSlot();
    const worker = slot.worker ?? spawn(slot);
    const id = nextId++;
    return new Promise<Buffer | string>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      worker.ref();
      // Every render() of this tick goes out in one message per worker.
      if (slot.outbox.push({ id, text, options: renderOptions, format }) === 1) queueMicrotask(() => flush(slot));
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    const workers: Worker[] = [];
    for (const slot of slots) {
      if (slot.worker) workers.push(slot.worker);
      slot.worker = undefined;
      failAll(slot, new Error("render pool is closed"));
    }
    await Promise.all(workers.map((w) => w.terminate()));
  }

  return { render: render as RenderPool["render"], close, size: count };
}

const KNOWN_CODES: readonly string[] = ERROR_CODES;

/** Rebuilds a worker's error on this thread, keeping `code` and `field` so callers can branch on them. */
function toError(e: SerializedError): Error {
  if (e.code === "VALIDATION_FAILED" && e.field !== undefined) {
    // ValidationError prefixes the field itself; strip it so the message is not doubled.
    const prefix = `${e.field}: `;
    return new ValidationError(e.field, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
  }
  if (e.code !== undefined && KNOWN_CODES.includes(e.code)) {
    const error = new QrError(e.code as ErrorCode, e.message, { retryable: e.retryable ?? false });
    error.name = e.name;
    return error;
  }
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
