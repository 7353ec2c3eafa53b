/**
 * The group commit's batch of pushes as one transaction that another instance, given the same
 * pushes at the same time, waits for but never deadlocks with (issue #8), and whose round trips
 * do not grow with its size (issue #11). Every batch takes what it shares with others in the
 * same order —
 * 1. the locks of all its followers, in one statement, in ascending key order;
 * 2. the rows its pushes will read, a statement per table, two in all on PostgreSQL (`createBatchRows`);
 * 3. each push in arrival order (`recordPush`), deciding in memory on those rows, noting its
 *    additions to counters many pushes share instead of writing them;
 * 4. the rows the pushes added, a statement per table, and the counter additions, summed per
 *    row, in ascending row order (on PostgreSQL all of it one statement: `runTogether`).
 * When a push fails, the batch is run again with each push on its own (steps 2–4 for it alone,
 * in its savepoint: `Database.batch`), so that the others still commit, and the counter
 * additions of those that did are written at the end.
 * @module
 */
import type { Logger } from "../deps.ts";
import type { PushMessage } from "../push/events.ts";
import type { BatchWork, Sql } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import type { PushSettings } from "./push-hooks.ts";
import { createBatchRows, type BatchRows } from "./push-rows.ts";
import { recordPush, type PushOutcome } from "./record-push.ts";
import { createPendingCounters, pendingCounterUpserts, writePendingCounters, type PendingCounters } from "./shared-counters.ts";

export interface RecordedPush {
  outcome: PushOutcome;
  /** Written by the batch's last step, or with the batch's rows when every push succeeded. */
  counters: PendingCounters;
  countersWritten?: boolean;
  /** What the push's hooks asked to run once it has committed (`PushContext.afterCommit`). */
  afterCommit: Array<() => void>;
}

/** The work of one batch of pushes received at `receivedAt`, for `Database.batch`. */
export function pushBatch(settings: PushSettings, receivedAt: number): BatchWork<PushMessage, RecordedPush> {
  return {
    begin: (sql, messages) =>
      followers.lockFollowers(
        sql,
        settings.accountId,
        messages.map((m) => m.openId),
      ),
    async all(sql, messages) {
      const rows = createBatchRows(sql, settings);
      await rows.load(messages);
      const recorded: RecordedPush[] = [];
      for (const message of messages) recorded.push(await record(sql, rows, message));
      // Every push succeeded (else this throws and the batch is run item by item): the counters go with the rows.
      await rows.write(
        pendingCounterUpserts(
          settings.accountId,
          recorded.map((r) => r.counters),
        ),
      );
      for (const r of recorded) r.countersWritten = true;
      return recorded;
    },
    async item(sql, message) {
      const rows = createBatchRows(sql, settings);
      await rows.load([message]);
      const recorded = await record(sql, rows, message);
      await rows.write();
      return recorded;
    },
    end: (sql, recorded) =>
      writePendingCounters(
        sql,
        settings.accountId,
        recorded.filter((r) => !r.countersWritten).map((r) => r.counters),
      ),
  };

  async function record(sql: Sql, rows: BatchRows, message: PushMessage): Promise<RecordedPush> {
    const counters = createPendingCounters();
    // A push run again (the batch retried item by item) starts with none: only the run that commits counts.
    const afterCommit: Array<() => void> = [];
    const { outboxRow } = settings;
    const ctx = {
      ...settings,
      rows,
      now: receivedAt,
      counters,
      afterCommit: (fn: () => void) => void afterCommit.push(fn),
      emit: outboxRow
        ? (event: Parameters<typeof outboxRow>[0]) => {
            const row = outboxRow(event);
            if (row) rows.addOutbox(row);
          }
        : () => {},
    };
    return { outcome: await recordPush(sql, ctx, message, receivedAt), counters, afterCommit };
  }
}

/** Runs a committed push's after-commit work; one that throws is logged and stops none of the others. */
export function runAfterCommit(recorded: RecordedPush, logger: Logger): void {
  for (const fn of recorded.afterCommit) {
    try {
      fn();
    } catch (err) {
      logger.warn({ err }, "work after a push's commit failed");
    }
  }
}
