/**
 * The background loop both outbox dispatchers (the webhook's and the follow-ups') run: a round;
 * when it attempted something, the next at once (the next row of the same follower may be due);
 * otherwise a wait for the poll interval or a wake-up. `stop` aborts `signal`, so a wait and
 * the attempts that pass it on end at once.
 * @module
 */
import type { Logger, Timer } from "../deps.ts";

export interface OutboxLoop {
  /** Aborted by `stop`: for the attempts in flight, which are then cut short. */
  readonly signal: AbortSignal;
  start(): void;
  /** Runs a round now, after `wakeDelayMs`. */
  wake(): void;
  /** Ends the loop after its round in flight. */
  stop(): Promise<void>;
}

export interface OutboxLoopOptions {
  /** For the log line of a failed round and the error of a start after stop. */
  name: string;
  pollMs: number;
  /** The pause between a wake-up and its round (0: none). */
  wakeDelayMs?: number;
}

export function createOutboxLoop(options: OutboxLoopOptions, deps: { timer: Timer; logger: Logger; round: () => Promise<{ attempted: number }> }): OutboxLoop {
  const { name, pollMs } = options;
  const wakeDelayMs = options.wakeDelayMs ?? 0;
  const { timer, logger, round } = deps;
  const aborter = new AbortController();
  let loop: Promise<void> | undefined;
  let stopped = false;
  let woken = false;
  let wakeUp: () => void = () => {};

  async function background(): Promise<void> {
    while (!stopped) {
      woken = false;
      try {
        if ((await round()).attempted > 0) continue;
      } catch (err) {
        logger.error({ err }, `${name} round failed`);
      }
      if (stopped) break;
      if (!woken) await Promise.race([timer.delay(pollMs, aborter.signal), new Promise<void>((resolve) => (wakeUp = resolve))]);
      if (woken && !stopped && wakeDelayMs > 0) await timer.delay(wakeDelayMs, aborter.signal);
    }
  }

  return {
    signal: aborter.signal,
    start() {
      if (stopped) throw new Error(`${name} dispatcher was stopped`);
      loop ??= background();
    },
    wake() {
      woken = true;
      wakeUp();
    },
    async stop() {
      stopped = true;
      aborter.abort();
      wakeUp();
      await loop;
    },
  };
}
