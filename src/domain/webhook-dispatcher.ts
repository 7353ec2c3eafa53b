/**
 * The read side of the business webhook: POSTs outbox events to `WXQR_WEBHOOK_URL`, signed
 * (`webhook-signature.ts`), each with its own `Idempotency-Key`, until the receiver answers 2xx.
 *
 * - **Order per follower.** Only the oldest undelivered event of a follower is ever due, so an
 *   event for openId X never leaves while an earlier one for X is pending; followers do not wait
 *   for each other. (Events of one follower get increasing `seq` in commit order: each push
 *   writes its follower's row before emitting, and that row lock serialises the transactions.)
 * - **Retries.** A failed attempt (connection error, timeout, non-2xx, a redirect) is tried again after an
 *   exponential backoff with jitter, capped (default 1 s, 2 s, 4 s … at most 1 h).
 * - **Restarts and several instances.** All state is in the database. Each event is claimed with
 *   a lease before it is sent, so instances never send one event at the same time; a process that
 *   dies mid-attempt leaves a lease that runs out, and another process sends the event again.
 *   Delivery is at least once: receivers dedupe on the event id.
 *
 * `runOnce()` is one round (tests drive it with a manual clock); `start()` runs rounds in the
 * background until `stop()`.
 * @module
 */
import { backoffDelayMs } from "../backoff.ts";
import type { Clock, Fetch, Logger, Random, Timer } from "../deps.ts";
import { describeRequestFailure } from "../request-failure.ts";
import type { Database } from "../store/database.ts";
import * as outbox from "../store/outbox.ts";
import { createOutboxLoop } from "./outbox-loop.ts";
import { signWebhook, WEBHOOK_IDEMPOTENCY_HEADER, WEBHOOK_SIGNATURE_HEADER } from "./webhook-signature.ts";

export interface WebhookOptions {
  url: string;
  secret: string;
  /** First retry delay; doubles with each failed attempt. Default 1 s. */
  baseDelayMs?: number;
  /** Longest delay between attempts. Default 1 h. */
  maxDelayMs?: number;
  /** How long one attempt may take. Default 10 s. */
  timeoutMs?: number;
  /** Events sent at once per round (each of a different follower). Default 50. */
  batchSize?: number;
  /** The background loop's pause when nothing is due. Default 1 s. */
  pollMs?: number;
  /** How long a claim keeps other instances off an event. Default 60 s (well above `timeoutMs`). */
  leaseMs?: number;
}

export interface WebhookDelivery {
  id: string;
  type: string;
  openId: string;
  attempts: number;
  /** Epoch ms; null while undelivered. */
  deliveredAt: number | null;
  lastError: string | null;
  /** Epoch ms; null once delivered. */
  nextAttemptAt: number | null;
}

export interface WebhookStatus {
  /** Events not yet delivered. */
  backlog: number;
  /** Undelivered events that have failed at least once. */
  failing: number;
  /** Epoch ms of the earliest next attempt; null when the backlog is empty. */
  nextAttemptAt: number | null;
  /** The latest events, newest first. */
  recent: WebhookDelivery[];
}

export interface RoundResult {
  attempted: number;
  delivered: number;
  failed: number;
}

export interface WebhookDispatcher {
  /** One round: claims what is due now and attempts each once. */
  runOnce(): Promise<RoundResult>;
  status(recentLimit?: number): Promise<WebhookStatus>;
  backlog(): Promise<number>;
  /** Runs rounds in the background (on the clock) until `stop()`. */
  start(): void;
  /** Ends the background loop after the attempts in flight, which are cut short. */
  stop(): Promise<void>;
}

export function createWebhookDispatcher(
  options: WebhookOptions & { db: Database; accountId: string },
  deps: { clock: Clock; random: Random; fetch: Fetch; logger: Logger; timer: Timer },
): WebhookDispatcher {
  const { db, accountId, url, secret } = options;
  const { clock, random, logger, timer } = deps;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 3_600_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const batchSize = options.batchSize ?? 50;
  const pollMs = options.pollMs ?? 1_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const holder = random.uuid();

  async function attempt(row: outbox.OutboxRow): Promise<boolean> {
    let error: string;
    try {
      const res = await deps.fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "wxqr-webhook",
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(row.payload, secret, Math.floor(clock.now() / 1000)),
          [WEBHOOK_IDEMPOTENCY_HEADER]: row.eventId,
        },
        body: row.payload,
        // A redirect is not followed: it would carry a signed event to a host nobody configured
        // (and fetch would turn the POST into a body-less GET on 301/302). It counts as a failure.
        redirect: "manual",
        // A network deadline, not a sleep.
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), loop.signal]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        await db.transaction((sql) => outbox.markDelivered(sql, row.seq, holder, clock.now()));
        return true;
      }
      error =
        res.status >= 300 && res.status < 400
          ? `HTTP ${res.status}: redirects are not followed; set WXQR_WEBHOOK_URL to the final address`
          : `HTTP ${res.status}`;
    } catch (err) {
      error = describeRequestFailure(err, timeoutMs);
    }
    const failures = row.attempts + 1;
    const next = clock.now() + backoffDelayMs({ baseDelayMs, maxDelayMs }, failures, random);
    await db.transaction((sql) => outbox.markFailed(sql, row.seq, holder, error, next));
    logger.warn({ eventId: row.eventId, attempts: failures, error }, "webhook delivery failed; will retry");
    return false;
  }

  async function runOnce(): Promise<RoundResult> {
    const now = clock.now();
    const due = await db.read((sql) => outbox.dueOutbox(sql, accountId, now, batchSize));
    if (due.length === 0) return { attempted: 0, delivered: 0, failed: 0 };
    const claimed = await db.transaction(async (sql) => {
      const mine: outbox.OutboxRow[] = [];
      for (const row of due) if (await outbox.claimOutbox(sql, row.seq, holder, now, now + leaseMs)) mine.push(row);
      return mine;
    });
    // One event per follower at most (only heads are due), so these may run side by side.
    const results = await Promise.all(claimed.map(attempt));
    const delivered = results.filter(Boolean).length;
    return { attempted: results.length, delivered, failed: results.length - delivered };
  }

  async function status(recentLimit = 50): Promise<WebhookStatus> {
    const [summary, recent] = await db.read(
      async (sql) => [await outbox.outboxSummary(sql, accountId), await outbox.recentOutbox(sql, accountId, recentLimit)] as const,
    );
    return {
      ...summary,
      recent: recent.map((r) => ({
        id: r.eventId,
        type: r.kind,
        openId: r.openId,
        attempts: r.attempts,
        deliveredAt: r.deliveredAt,
        lastError: r.lastError,
        nextAttemptAt: r.deliveredAt === null ? r.nextAttemptAt : null,
      })),
    };
  }

  const loop = createOutboxLoop({ name: "webhook", pollMs }, { timer, logger, round: runOnce });

  return {
    runOnce,
    status,
    backlog: async () => (await db.read((sql) => outbox.outboxSummary(sql, accountId))).backlog,
    start: loop.start,
    stop: loop.stop,
  };
}
