/**
 * The live feed (`GET /api/events/stream`, issue #10): every new row of the scan log, in order,
 * as it commits. A stream wakes when a push that added a row has committed in this process
 * (`wake`, from the push's after-commit work), and learns of rows committed by other instances on
 * the same database by polling the newest seq while any stream is open.
 *
 * Rows go out in seq order, and a stream's position is the seq it has reached, so a client that
 * reconnects with it (`Last-Event-ID`) misses nothing and gets nothing twice. Numbers go missing
 * on both engines (a duplicate push spends one, so does a rolled-back batch). On SQLite, which
 * writes one transaction at a time, a hole below a committed row can never fill. On PostgreSQL a
 * seq is taken when a row is written, not when it commits, so another instance's row can commit
 * after a later one: there a missing number holds the stream back until it commits, or until it
 * is clearly not coming — the row after it is older than `gapWaitMs`, or the stream has waited
 * that long.
 * @module
 */
import type { Clock, Logger, Timer } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/followers.ts";
import { pollWhileWatched } from "./poll-while-watched.ts";
import { createHeartbeat } from "./heartbeat.ts";

export type LiveFeedItem = { type: "event"; event: store.PushLogRow } | { type: "heartbeat" };

export interface LiveFeedOptions {
  /** How often open streams look for rows committed by other instances. Default 1 s. */
  pollMs?: number;
  /** Idle time between SSE heartbeats. Default 15 s. */
  heartbeatMs?: number;
  /** How long a missing seq may hold a stream back (see the module comment). Default 2 s. */
  gapWaitMs?: number;
}

export const LIVE_FEED_DEFAULTS = { pollMs: 1_000, heartbeatMs: 15_000, gapWaitMs: 2_000 } as const satisfies Required<LiveFeedOptions>;

/** Rows read at once; a stream far behind reads on at once until it has caught up. */
const PAGE_ROWS = 500;

export interface LiveFeed {
  /** The newest seq now: where a stream with no `Last-Event-ID` starts. */
  latest(): Promise<number>;
  /**
   * This account's log rows with a seq above `afterSeq`, in order, as they commit; heartbeats while
   * idle. Ends when `signal` aborts.
   */
  follow(afterSeq: number, signal: AbortSignal): AsyncGenerator<LiveFeedItem>;
  /** Wakes every stream: call once a push that added a row to the log has committed. */
  wake(): void;
}

export function createLiveFeed(options: LiveFeedOptions, deps: { db: Database; accountId: string; clock: Clock; logger: Logger; timer: Timer }): LiveFeed {
  const o = resolveLiveFeedOptions(options);
  const { db, accountId, clock, timer } = deps;
  const holesCanFill = db.dialect === "postgres";
  const streams = new Set<() => void>();

  function wake(): void {
    for (const poke of streams) poke();
  }

  async function poll(signal: AbortSignal): Promise<void> {
    // The first look wakes the streams too: a row may have committed between a stream's start and now.
    let seen: number | undefined;
    while (!signal.aborted) {
      await timer.delay(o.pollMs, signal);
      if (signal.aborted) return;
      try {
        const latest = await db.read((sql) => store.latestPushLogSeq(sql));
        if (latest !== seen) wake();
        seen = latest;
      } catch (err) {
        deps.logger.warn({ err }, "live feed: polling for new rows failed");
      }
    }
  }

  const hold = pollWhileWatched(poll);

  function subscribe(poke: () => void): () => void {
    streams.add(poke);
    const letGo = hold();
    return () => {
      streams.delete(poke);
      letGo();
    };
  }

  async function* follow(afterSeq: number, signal: AbortSignal): AsyncGenerator<LiveFeedItem> {
    let cursor = afterSeq;
    let dirty = true;
    let beatDue = false;
    let resume: (() => void) | undefined;
    const poke = (): void => {
      dirty = true;
      resume?.();
    };
    const unsubscribe = subscribe(poke);
    // The heartbeat is due after `heartbeatMs` without output, in real time.
    const beat = createHeartbeat(timer, o.heartbeatMs, () => {
      beatDue = true;
      resume?.();
    });
    // The missing seq right after `at` has held the stream back since the wait was armed.
    let gap: { at: number; over: boolean; wait: AbortController } | undefined;
    const passable = (row: store.PushLogRow): boolean => {
      if (row.seq === cursor + 1 || !holesCanFill) return true;
      if (gap?.at === cursor) return gap.over;
      // Written this long ago with the hole still there: whatever left it has ended.
      if (clock.now() - row.receivedAt >= o.gapWaitMs) return true;
      gap?.wait.abort();
      const mine = { at: cursor, over: false, wait: new AbortController() };
      gap = mine;
      void timer.delay(o.gapWaitMs, mine.wait.signal).then(() => {
        if (mine.wait.signal.aborted) return;
        mine.over = true;
        poke();
      });
      return false;
    };
    const onAbort = (): void => resume?.();
    signal.addEventListener("abort", onAbort, { once: true });
    beat.arm();
    try {
      while (!signal.aborted) {
        if (dirty) {
          dirty = false;
          const rows = await db.read((sql) => store.listPushLogOfAll(sql, cursor, PAGE_ROWS));
          let held = false;
          for (const row of rows) {
            if (!passable(row)) {
              held = true;
              break;
            }
            cursor = row.seq!;
            if (row.accountId !== accountId) continue;
            beat.arm();
            yield { type: "event", event: row };
          }
          if (!held && rows.length === PAGE_ROWS) dirty = true;
          continue;
        }
        if (beatDue) {
          beatDue = false;
          beat.arm();
          yield { type: "heartbeat" };
          continue;
        }
        // Until woken: by a commit here, the poller, the heartbeat, a gap's end, or the end of the stream.
        await new Promise<void>((resolve) => {
          resume = resolve;
          if (signal.aborted) resolve();
        });
        resume = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      beat.stop();
      gap?.wait.abort();
      unsubscribe();
    }
  }

  return { latest: () => db.read((sql) => store.latestPushLogSeq(sql)), follow, wake };
}

function resolveLiveFeedOptions(options: LiveFeedOptions): Required<LiveFeedOptions> {
  const o = { ...LIVE_FEED_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<LiveFeedOptions>;
  const problems = (["pollMs", "heartbeatMs", "gapWaitMs"] as const)
    .filter((key) => !(typeof o[key] === "number" && Number.isFinite(o[key]) && o[key] > 0))
    .map((key) => ({ key: `liveFeed.${key}`, message: `must be a positive number, got ${String(o[key])}` }));
  if (problems.length > 0) throw new ConfigError(problems);
  return o;
}
