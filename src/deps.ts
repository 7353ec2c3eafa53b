/**
 * The seams through which every layer reaches the outside world: time, randomness,
 * HTTP and logging. Only this file touches `Date.now`, `Math.random`, `crypto.random*`,
 * global `fetch` and `setTimeout`; everything else takes them as arguments so tests
 * can run deterministically (style.md §5).
 *
 * One rule for waiting:
 * - `clock.sleep` for the waits of a retry or backoff schedule (a failed call tried again, a
 *   lease polled until another process lets go). A test's manual clock returns at once, moves
 *   its time and records the schedule, so the schedule is asserted, not waited out.
 * - `timer.delay` for background loops and idle periods that go on for as long as the process
 *   runs (polling, heartbeats, periodic passes). Such a loop on a manual clock would spin, each
 *   sleep moving the test's time; a test drives it with `createManualTimer()` instead, one
 *   `advance` at a time, and stops it through the `AbortSignal`.
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
  timer: Timer;
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
 * Waiting for background loops, which must not move a (manual) clock: SSE heartbeats, database
 * polling, periodic passes (the module comment has the rule). Resolves early, without error,
 * when `signal` aborts.
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
    timer: systemTimer,
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

export interface ManualTimer extends Timer {
  /**
   * Moves the timer's time `ms` forward and resolves every delay that falls due, earliest first.
   * Delays started afterwards (by the code a resolved delay wakes) count from the new time.
   */
  advance(ms: number): void;
  /** Delays waiting now. */
  readonly pending: number;
  /** Resolves once at least `n` delays are waiting: e.g. a background loop has come round to its next wait. */
  waitingFor(n: number): Promise<void>;
}

/**
 * A timer that only moves when told to, for driving background loops in tests: nothing waits
 * in real time, and a loop's next pass starts exactly when the test advances past its delay. An
 * aborted delay resolves at once, as the system timer's does.
 * @example
 * const timer = createManualTimer();
 * const loop = runCodeReconciler({ ...deps, timer }, signal, 60_000);
 * await timer.waitingFor(1); // the first pass is over
 * timer.advance(60_000);     // the second starts
 */
export function createManualTimer(): ManualTimer {
  let now = 0;
  let order = 0;
  const delays: Array<{ dueAt: number; order: number; resolve: () => void }> = [];
  const watchers: Array<{ n: number; resolve: () => void }> = [];
  const remove = (d: (typeof delays)[number]): void => {
    const i = delays.indexOf(d);
    if (i >= 0) delays.splice(i, 1);
  };
  const notifyWatchers = (): void => {
    for (const w of watchers.filter((x) => delays.length >= x.n)) {
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve();
    }
  };
  return {
    delay: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const d = {
          dueAt: now + Math.max(0, ms),
          order: order++,
          resolve: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          remove(d);
          d.resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        delays.push(d);
        notifyWatchers();
      }),
    advance(ms) {
      now += ms;
      const due = delays.filter((d) => d.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt || a.order - b.order);
      for (const d of due) {
        remove(d);
        d.resolve();
      }
    },
    get pending() {
      return delays.length;
    },
    waitingFor: (n) =>
      new Promise<void>((resolve) => {
        watchers.push({ n, resolve });
        notifyWatchers();
      }),
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
