/**
 * Following a scan session live (the SSE stream): a stream wakes when a push that changed its
 * session has committed in this process (`wake`), and learns of changes committed by other
 * instances on the same database by polling it while any stream is open.
 * @module
 */
import type { Clock, Logger, Timer } from "../deps.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/scan-sessions.ts";
import { isFinal, viewOf, type ScanSessionView } from "./scan-session-reading.ts";
import { pollWhileWatched } from "./poll-while-watched.ts";
import { createHeartbeat } from "./heartbeat.ts";

export type ScanSessionWatchItem = { type: "status"; view: ScanSessionView } | { type: "heartbeat" };

export interface ScanSessionWatcher {
  /**
   * The session's views, one per change (the first at once), ending after a final one
   * (completed, confirmed or expired) or when `signal` aborts; heartbeats while idle.
   * Authorise with `read` first.
   */
  watch(id: string, signal: AbortSignal): AsyncGenerator<ScanSessionWatchItem>;
  /** Wakes the streams of this session: call once a change to it has committed. */
  wake(id: string): void;
}

// Rows updated this long before the previous poll are read again: a writer's clock may lag
// ours a little, and its transaction may commit a little after it stamped the row.
const POLL_OVERLAP_MS = 5_000;

export function createScanSessionWatcher(
  options: { pollMs: number; heartbeatMs: number },
  deps: { db: Database; accountId: string; clock: Clock; logger: Logger; timer: Timer },
): ScanSessionWatcher {
  const { db, accountId, clock, timer } = deps;
  const watchers = new Map<string, Set<() => void>>();

  function wake(id: string): void {
    for (const wakeOne of watchers.get(id) ?? []) wakeOne();
  }

  async function poll(signal: AbortSignal): Promise<void> {
    let since = clock.now();
    // Versions already announced: the overlap reads a row again, which is no news.
    const seen = new Map<string, number>();
    while (!signal.aborted) {
      await timer.delay(options.pollMs, signal);
      if (signal.aborted) return;
      const now = clock.now();
      try {
        const rows = await db.read((sql) => store.sessionsUpdatedSince(sql, accountId, since - POLL_OVERLAP_MS));
        for (const [id, at] of seen) if (at < since - POLL_OVERLAP_MS) seen.delete(id);
        since = now;
        for (const r of rows) {
          if (seen.get(r.id) === r.updatedAt) continue;
          seen.set(r.id, r.updatedAt);
          wake(r.id);
        }
      } catch (err) {
        deps.logger.warn({ err }, "scan sessions: polling for changes failed");
      }
    }
  }

  const hold = pollWhileWatched(poll);

  function subscribe(id: string, onChange: () => void): () => void {
    const set = watchers.get(id) ?? new Set();
    set.add(onChange);
    watchers.set(id, set);
    const letGo = hold();
    return () => {
      set.delete(onChange);
      if (set.size === 0) watchers.delete(id);
      letGo();
    };
  }

  async function* watch(id: string, signal: AbortSignal): AsyncGenerator<ScanSessionWatchItem> {
    let dirty = true;
    let beatDue = false;
    let resume: (() => void) | undefined;
    const unsubscribe = subscribe(id, () => {
      dirty = true;
      resume?.();
    });
    // The heartbeat is due after `heartbeatMs` without output, in real time.
    const beat = createHeartbeat(timer, options.heartbeatMs, () => {
      beatDue = true;
      resume?.();
    });
    beat.arm();
    try {
      let last: string | undefined;
      let expiresAt = Infinity;
      while (!signal.aborted) {
        if (dirty) {
          dirty = false;
          const row = await db.read((sql) => store.getSession(sql, accountId, id));
          if (!row) return;
          expiresAt = row.expiresAt;
          const view = viewOf(row, clock.now());
          const key = JSON.stringify(view);
          if (key !== last) {
            last = key;
            beat.arm();
            yield { type: "status", view };
          }
          if (isFinal(view)) return;
          continue;
        }
        if (beatDue) {
          beatDue = false;
          beat.arm();
          yield { type: "heartbeat" };
          continue;
        }
        const stop = new AbortController();
        const onAbort = (): void => stop.abort();
        signal.addEventListener("abort", onAbort, { once: true });
        await Promise.race([new Promise<void>((resolve) => (resume = resolve)), timer.delay(options.pollMs, stop.signal)]);
        resume = undefined;
        stop.abort();
        signal.removeEventListener("abort", onAbort);
        // The clock may have passed the expiry with no change to the row.
        if (!dirty && clock.now() >= expiresAt) dirty = true;
      }
    } finally {
      beat.stop();
      unsubscribe();
    }
  }

  return { watch, wake };
}
