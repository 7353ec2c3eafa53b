/**
 * Progress of a `wxqr qr batch`: a redrawn bar (cli-progress) when stderr is a terminal,
 * otherwise a plain line every 10 %, which reads well in CI logs and in files.
 * @module
 */
import type { Clock } from "../deps.ts";

export interface BatchCounts {
  /** Codes finished, whatever the outcome. */
  done: number;
  created: number;
  failed: number;
}

export interface BatchProgress {
  update(counts: BatchCounts): void;
  /** Ends the bar (restoring the line); safe to call twice. */
  stop(): void;
}

export interface BatchProgressOptions {
  total: number;
  /** Where progress goes; `isTTY` chooses the bar. */
  stream: { write(text: string): unknown; isTTY?: boolean };
  /** No plain lines (`--json`: the output is for a program). A terminal still gets the bar. */
  quiet?: boolean;
  clock: Clock;
}

/**
 * @example
 * const progress = await createBatchProgress({ total: 300, stream: process.stderr, clock });
 * progress.update({ done: 30, created: 29, failed: 1 }); // "30/300 (10%): 29 created, 1 failed, 0.4 s"
 * progress.stop();
 */
export async function createBatchProgress(options: BatchProgressOptions): Promise<BatchProgress> {
  const { total, stream, clock } = options;
  if (stream.isTTY === true) {
    // Loaded on demand: only a terminal needs it, and every other command starts faster without it.
    const { SingleBar } = await import("cli-progress");
    const bar = new SingleBar({
      // isTTY says this is the process's tty.WriteStream, which cli-progress moves the cursor on.
      stream: stream as NodeJS.WriteStream,
      format: "{bar} {percentage}% | {value}/{total} | {created} created, {failed} failed | {duration_formatted}, ETA {eta_formatted}",
      barsize: 30,
      // The ETA averages over the last 100 codes, so a slow start does not skew it for long.
      etaBuffer: 100,
    });
    bar.start(total, 0, { created: 0, failed: 0 });
    let stopped = false;
    return {
      update: ({ done, created, failed }) => bar.update(done, { created, failed }),
      stop: () => {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  if (options.quiet) return { update: () => {}, stop: () => {} };

  const startedAt = clock.now();
  let lastTenth = 0;
  return {
    update: ({ done, created, failed }) => {
      const tenth = Math.floor((done * 10) / total);
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      const seconds = ((clock.now() - startedAt) / 1000).toFixed(1);
      stream.write(`${done}/${total} (${Math.floor((done * 100) / total)}%): ${created} created, ${failed} failed, ${seconds} s\n`);
    },
    stop: () => {},
  };
}
