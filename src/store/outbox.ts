/**
 * The business-webhook outbox: events written in their push's transaction, claimed for delivery
 * with a lease (so several instances never send the same event at once), and released with the
 * attempt's outcome. Only the oldest undelivered event of each follower is ever due, which keeps
 * deliveries in order per follower.
 * @module
 */
import { inStatements, placeholderRows, type Sql, type Statement } from "./database.ts";

export interface OutboxInsert {
  accountId: string;
  eventId: string;
  kind: string;
  openId: string;
  /** The exact JSON body every attempt sends. */
  payload: string;
  occurredAt: number;
  createdAt: number;
}

export interface OutboxRow extends Omit<OutboxInsert, "accountId"> {
  seq: number;
  attempts: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  lastError: string | null;
}

interface DbOutboxRow {
  seq: number;
  event_id: string;
  kind: string;
  open_id: string;
  payload: string;
  occurred_at: number;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

const COLUMNS = "seq, event_id, kind, open_id, payload, occurred_at, created_at, attempts, next_attempt_at, delivered_at, last_error";

const fromDb = (r: DbOutboxRow): OutboxRow => ({
  seq: Number(r.seq),
  eventId: r.event_id,
  kind: r.kind,
  openId: r.open_id,
  payload: r.payload,
  occurredAt: Number(r.occurred_at),
  createdAt: Number(r.created_at),
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  lastError: r.last_error,
});

/** Adds an event, due at once; false when an event with this id is already there. */
export async function insertOutbox(sql: Sql, e: OutboxInsert): Promise<boolean> {
  const changed = await sql.run(
    `INSERT INTO outbox (account_id, event_id, kind, open_id, payload, occurred_at, created_at, attempts, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (event_id) DO NOTHING`,
    [e.accountId, e.eventId, e.kind, e.openId, e.payload, e.occurredAt, e.createdAt, e.createdAt],
  );
  return changed > 0;
}

/** Adds events, due at once, their `seq` in the given order; an id already there is left out. */
export async function insertOutboxRows(sql: Sql, rows: readonly OutboxInsert[]): Promise<void> {
  for (const s of outboxInserts(rows)) await sql.run(s.text, s.params);
}

/** `insertOutboxRows` as statements, for `runTogether`. */
export function outboxInserts(rows: readonly OutboxInsert[]): Statement[] {
  return inStatements(rows, 9).map((run) => ({
    text: `INSERT INTO outbox (account_id, event_id, kind, open_id, payload, occurred_at, created_at, attempts, next_attempt_at)
       VALUES ${placeholderRows(run.length, 9)} ON CONFLICT (event_id) DO NOTHING`,
    params: run.flatMap((e) => [e.accountId, e.eventId, e.kind, e.openId, e.payload, e.occurredAt, e.createdAt, 0, e.createdAt]),
  }));
}

// The oldest undelivered event of its follower (events of one follower leave in order).
const IS_HEAD = `NOT EXISTS (SELECT 1 FROM outbox e WHERE e.account_id = outbox.account_id AND e.open_id = outbox.open_id
  AND e.delivered_at IS NULL AND e.seq < outbox.seq)`;
const LEASE_FREE = "(outbox.lease_until IS NULL OR outbox.lease_until <= ?)";

/** Undelivered events that may be attempted at `now`: each the first of its follower, due, not leased. */
export async function dueOutbox(sql: Sql, accountId: string, now: number, limit: number): Promise<OutboxRow[]> {
  const rows = await sql.all<DbOutboxRow>(
    `SELECT ${COLUMNS} FROM outbox WHERE account_id = ? AND delivered_at IS NULL AND next_attempt_at <= ? AND ${LEASE_FREE} AND ${IS_HEAD}
     ORDER BY seq LIMIT ?`,
    [accountId, now, now, limit],
  );
  return rows.map(fromDb);
}

/**
 * Takes the lease on one event for `holder` until `until`, re-checking every condition in the
 * same statement: true only for the one caller that got it.
 */
export async function claimOutbox(sql: Sql, seq: number, holder: string, now: number, until: number): Promise<boolean> {
  const changed = await sql.run(
    `UPDATE outbox SET lease_holder = ?, lease_until = ? WHERE seq = ? AND delivered_at IS NULL AND next_attempt_at <= ? AND ${LEASE_FREE} AND ${IS_HEAD}`,
    [holder, until, seq, now, now],
  );
  return changed > 0;
}

/** Records a delivered attempt; false when the lease was no longer `holder`'s. */
export async function markDelivered(sql: Sql, seq: number, holder: string, at: number): Promise<boolean> {
  const changed = await sql.run(
    `UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL, lease_holder = NULL, lease_until = NULL
     WHERE seq = ? AND lease_holder = ? AND delivered_at IS NULL`,
    [at, seq, holder],
  );
  return changed > 0;
}

/** Records a failed attempt and when to try again. */
export async function markFailed(sql: Sql, seq: number, holder: string, error: string, nextAttemptAt: number): Promise<boolean> {
  const changed = await sql.run(
    `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_holder = NULL, lease_until = NULL
     WHERE seq = ? AND lease_holder = ? AND delivered_at IS NULL`,
    [error, nextAttemptAt, seq, holder],
  );
  return changed > 0;
}

export interface OutboxSummary {
  /** Undelivered events. */
  backlog: number;
  /** Undelivered events whose last attempt failed. */
  failing: number;
  /** When the next attempt is due: the earliest `next_attempt_at` of the events that lead their follower. */
  nextAttemptAt: number | null;
}

export async function outboxSummary(sql: Sql, accountId: string): Promise<OutboxSummary> {
  const r = await sql.get<{ backlog: number; failing: number | null; next_at: number | null }>(
    `SELECT COUNT(*) AS backlog, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failing,
       MIN(CASE WHEN ${IS_HEAD} THEN next_attempt_at END) AS next_at
     FROM outbox WHERE account_id = ? AND delivered_at IS NULL`,
    [accountId],
  );
  return { backlog: Number(r?.backlog ?? 0), failing: Number(r?.failing ?? 0), nextAttemptAt: r?.next_at == null ? null : Number(r.next_at) };
}

/** The most recent events, newest first: undelivered ones and the last delivered. */
export async function recentOutbox(sql: Sql, accountId: string, limit: number): Promise<OutboxRow[]> {
  const rows = await sql.all<DbOutboxRow>(`SELECT ${COLUMNS} FROM outbox WHERE account_id = ? ORDER BY seq DESC LIMIT ?`, [accountId, limit]);
  return rows.map(fromDb);
}

/** Every event of a follower, oldest first (for tests and support). */
export async function followerOutbox(sql: Sql, accountId: string, openId: string): Promise<OutboxRow[]> {
  const rows = await sql.all<DbOutboxRow>(`SELECT ${COLUMNS} FROM outbox WHERE account_id = ? AND open_id = ? ORDER BY seq`, [accountId, openId]);
  return rows.map(fromDb);
}
