/**
 * Group commit: work submitted while a batch is committing waits and goes into the next one,
 * so under load many pushes share one transaction (and one fsync) while each caller still gets
 * its own result only after the commit that holds it.
 * @module
 */
import { afterPendingIo } from "../deps.ts";
import { StorageUnavailableError } from "../errors.ts";
import type { ItemResult } from "../store/database.ts";

export interface GroupCommitter<I, R> {
  submit(item: I): Promise<R>;
  /** Resolves when everything submitted so far has been committed or failed. */
  drain(): Promise<void>;
  /** Items waiting for the next batch (for metrics). */
  readonly pending: number;
}

export function createGroupCommitter<I, R>(options: {
  /** Runs one batch in one transaction; per-item results, or throws when the whole batch failed. */
  runBatch: (items: readonly I[]) => Promise<ItemResult<R>[]>;
  maxBatch?: number;
  /**
   * Items allowed to wait; past that, `submit` refuses at once with StorageUnavailableError (a
   * push gets 503 and WeChat delivers it again) instead of queueing without bound behind a slow
   * database: a push waiting longer than WeChat's 5 s is redelivered anyway.
   */
  maxPending?: number;
  /**
   * Batches running at once (default 1). SQLite takes 2: its transactions still run one after
   * the other on its one connection, but a batch waits for its WAL fdatasync outside that queue,
   * so the next batch commits while the disk syncs the previous one instead of waiting for it.
   */
  maxInFlight?: number;
}): GroupCommitter<I, R> {
  const maxBatch = options.maxBatch ?? 512;
  const maxPending = options.maxPending ?? 10_000;
  const maxInFlight = options.maxInFlight ?? 1;
  const queue: Array<{ item: I; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  const running = new Set<Promise<void>>();
  let gathering: Promise<void> | undefined;

  async function commit(batch: typeof queue): Promise<void> {
    try {
      const results = await options.runBatch(batch.map((b) => b.item));
      batch.forEach((b, i) => {
        const r = results[i];
        if (r?.ok) b.resolve(r.value);
        else b.reject(r ? r.error : new Error("batch returned fewer results than items"));
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }

  function startBatches(): void {
    while (queue.length > 0 && running.size < maxInFlight) {
      const done: Promise<void> = commit(queue.splice(0, maxBatch)).finally(() => {
        running.delete(done);
        kick();
      });
      running.add(done);
    }
  }

  function kick(): void {
    if (gathering || queue.length === 0 || running.size >= maxInFlight) return;
    // Start a macrotask later, so every push read in this pass of the event loop joins the batch:
    // with a synchronous driver (better-sqlite3) the batch would otherwise run to its COMMIT
    // before the next request is even read, and every push would pay for its own commit.
    gathering = afterPendingIo().then(() => {
      gathering = undefined;
      startBatches();
    });
  }

  return {
    submit(item) {
      if (queue.length >= maxPending) return Promise.reject(new StorageUnavailableError(`${queue.length} items already wait for a commit`));
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (gathering || running.size > 0) await Promise.allSettled([gathering, ...running]);
    },
    get pending() {
      return queue.length;
    },
  };
}
