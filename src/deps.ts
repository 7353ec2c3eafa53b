/**
 * The seams through which every layer reaches the outside world: time, randomness,
 * HTTP and logging. Only this file touches `Date.now`, `Math.random`, `crypto.random*`,
 * global `fetch` and `setTimeout`; everything else takes them as arguments so tests
 * can run deterministically (style.md §5).
 * @module
 */
import { randomBytes, randomUUID } from "node:crypto";

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface Random {
  bytes(n: number): Uint8Array;
  uuid(): string;
  /** Uniform in [0, 1). */
  float(): number;
}

export type Fetch = typeof fetch;

type LogFn = (objOrMsg: object | string, msg?: string) => void;
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface Deps {
  clock: Clock;
  random: Random;
  fetch: Fetch;
  logger: Logger;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const systemRandom: Random = {
  bytes: (n) => new Uint8Array(randomBytes(n)),
  uuid: () => randomUUID(),
  float: () => randomBytes(4).readUInt32BE(0) / 2 ** 32,
};

/**
 * Waiting in real time, for loops that must not move a (manual) clock: SSE heartbeats and
 * database polling. Resolves early, without error, when `signal` aborts.
 */
export interface Timer {
  delay(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemTimer: Timer = {
  delay: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(handle);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const handle = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};

const noop: LogFn = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** The real world, with any piece replaced. Only `main.ts` files should call this. */
export function systemDeps(overrides: Partial<Deps> = {}): Deps {
  return {
    clock: systemClock,
    random: systemRandom,
    fetch: globalThis.fetch.bind(globalThis),
    logger: silentLogger,
    ...overrides,
  };
}

/** Fills in whatever a public entry point was not given. */
export function withDefaults<K extends keyof Deps>(given: Partial<Pick<Deps, K>> | undefined, keys: readonly K[]): Pick<Deps, K> {
  const base = systemDeps();
  const out = {} as Pick<Deps, K>;
  for (const key of keys) out[key] = (given?.[key] ?? base[key]) as Deps[K];
  return out;
}

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
  /** Every duration passed to `sleep`, in order. */
  readonly sleeps: number[];
}

/**
 * A clock that only moves when told to. `sleep` resolves at once and moves the clock
 * forward by the requested time, so retry schedules are recorded instead of waited out.
 * @example
 * const clock = createManualClock(Date.UTC(2026, 0, 1));
 * await clock.sleep(500); // returns immediately; clock.now() advanced 500 ms
 */
export function createManualClock(startMs: number): ManualClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += Math.max(0, ms);
    },
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
    sleeps,
  };
}

/**
 * A deterministic pseudo-random source (xorshift128+), for reproducible tests and fixtures.
 * Not for secrets.
 */
export function createSeededRandom(seed: number): Random {
  let s0 = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  let s1 = BigInt.asUintN(64, s0 ^ 0x6a09e667f3bcc909n);
  const next = (): bigint => {
    let x = s0;
    const y = s1;
    s0 = y;
    x = BigInt.asUintN(64, x ^ (x << 23n));
    s1 = BigInt.asUintN(64, x ^ y ^ (x >> 17n) ^ (y >> 26n));
    return BigInt.asUintN(64, s1 + y);
  };
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 8) {
      let v = next();
      for (let j = i; j < Math.min(n, i + 8); j++) {
        out[j] = Number(v & 0xffn);
        v >>= 8n;
      }
    }
    return out;
  };
  return {
    bytes,
    float: () => Number(next() >> 11n) / 2 ** 53,
    uuid: () => {
      const b = bytes(16);
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = Buffer.from(b).toString("hex");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}

/**
 * Resolves after the I/O callbacks already due have run (a `setImmediate`): lets work that
 * arrived in this pass of the event loop gather before a batch starts. Not a clock: it never
 * waits for time to pass.
 */
export function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
