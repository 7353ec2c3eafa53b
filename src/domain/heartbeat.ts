/**
 * The heartbeat of a long-lived stream: due `everyMs` after the last output, in real time (the
 * timer, never a possibly manual clock). `arm()` after each output starts the wait again; `stop()`
 * when the stream ends.
 * @module
 */
import type { Timer } from "../deps.ts";

export function createHeartbeat(timer: Timer, everyMs: number, onDue: () => void): { arm(): void; stop(): void } {
  let current = new AbortController();
  return {
    arm() {
      current.abort();
      const mine = new AbortController();
      current = mine;
      void timer.delay(everyMs, mine.signal).then(() => {
        if (!mine.signal.aborted) onDue();
      });
    },
    stop() {
      current.abort();
    },
  };
}
