/**
 * The group commit's batch of pushes as one transaction that another instance, given the same
 * pushes at the same time, waits for but never deadlocks with (issue #8): every batch takes what
 * it shares with others in the same order —
 * 1. the locks of all its followers, in one statement, in ascending key order;
 * 2. each push in arrival order (`recordPush`), on the rows of its follower (held since 1),
 *    noting its additions to counters many pushes share instead of writing them;
 * 3. those additions, for the pushes that succeeded, summed per row, in ascending row order.
 * @module
 */
import type { Logger } from "../deps.ts";
import type { PushMessage } from "../push/events.ts";
import type { BatchWork } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import type { PushSettings } from "./push-hooks.ts";
import { recordPush, type PushOutcome } from "./record-push.ts";
import { createPendingCounters, writePendingCounters, type PendingCounters } from "./shared-counters.ts";

export interface RecordedPush {
  outcome: PushOutcome;
  /** Written by the batch's last step. */
  counters: PendingCounters;
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
    async item(sql, message) {
      const counters = createPendingCounters();
      // A push run again (the batch retried item by item) starts with none: only the run that commits counts.
      const afterCommit: Array<() => void> = [];
      const ctx = { ...settings, counters, afterCommit: (fn: () => void) => void afterCommit.push(fn) };
      return { outcome: await recordPush(sql, ctx, message, receivedAt), counters, afterCommit };
    },
    end: (sql, recorded) =>
      writePendingCounters(
        sql,
        settings.accountId,
        recorded.map((r) => r.counters),
      ),
  };
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
