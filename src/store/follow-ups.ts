/**
 * The follow-up outbox (issue #12): customer-service messages and taggings written in their
 * push's transaction, claimed with a lease (instances never send one row at once) and closed
 * with the platform's answer. A message row is due only when it is the oldest pending message of
 * its follower, so one follower's messages leave in order; tagging rows are claimed in bulk, to
 * be grouped per tag into `batchtagging` calls.
 * @module
 */
import { inStatements, placeholderList, placeholderRows, runCounted, type Sql, type Statement } from "./database.ts";

export type FollowUpKind = "poster" | "text" | "image" | "tag";
export type FollowUpStatus = "pending" | "sent" | "failed";

export interface FollowUpInsert {
  accountId: string;
  /** Unique: derived from what the row is for, so the same cause never writes a second row. */
  rowKey: string;
  kind: FollowUpKind;
  openId: string;
  channelId: string | null;
  tagId: number | null;
  text: string | null;
  /** A channel's follow-up image (`channel_follow_up_images.id`). */
  imageId: string | null;
  /** Epoch ms: the interaction (the push's CreateTime) the row follows. */
  at: number;
  /** Epoch ms: the end of the send window; no retry is scheduled past it. Null for taggings. */
  deadlineAt: number | null;
  createdAt: number;
}

export interface FollowUpRow extends Omit<FollowUpInsert, "accountId"> {
  seq: number;
  status: FollowUpStatus;
  attempts: number;
  nextAttemptAt: number;
  doneAt: number | null;
  /** The platform's errcode of the last failed attempt (45015, 45047 …); null for other failures. */
  errcode: number | null;
  lastError: string | null;
}

interface DbRow {
  seq: number;
  row_key: string;
  kind: FollowUpKind;
  open_id: string;
  channel_id: string | null;
  tag_id: number | string | null;
  text: string | null;
  image_id: string | null;
  at: number;
  deadline_at: number | null;
  created_at: number;
  status: FollowUpStatus;
  attempts: number;
  next_attempt_at: number;
  done_at: number | null;
  errcode: number | null;
  last_error: string | null;
}

const COLUMNS =
  "seq, row_key, kind, open_id, channel_id, tag_id, text, image_id, at, deadline_at, created_at, status, attempts, next_attempt_at, done_at, errcode, last_error";

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const fromDb = (r: DbRow): FollowUpRow => ({
  seq: Number(r.seq),
  rowKey: r.row_key,
  kind: r.kind,
  openId: r.open_id,
  channelId: r.channel_id,
  tagId: num(r.tag_id),
  text: r.text,
  imageId: r.image_id,
  at: Number(r.at),
  deadlineAt: num(r.deadline_at),
  createdAt: Number(r.created_at),
  status: r.status,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  doneAt: num(r.done_at),
  errcode: num(r.errcode),
  lastError: r.last_error,
});

const INSERT_COLUMNS = 13;

/** Rows to add, due at once, their `seq` in the given order, as statements (for `runTogether`); a key already there is left out. */
export function followUpInserts(rows: readonly FollowUpInsert[]): Statement[] {
  return inStatements(rows, INSERT_COLUMNS).map((run) => ({
    text: `INSERT INTO follow_ups (account_id, row_key, kind, open_id, channel_id, tag_id, text, image_id, at, deadline_at, created_at, attempts, next_attempt_at)
       VALUES ${placeholderRows(run.length, INSERT_COLUMNS)} ON CONFLICT (row_key) DO NOTHING`,
    params: run.flatMap((r) => [
      r.accountId,
      r.rowKey,
      r.kind,
      r.openId,
      r.channelId,
      r.tagId,
      r.text,
      r.imageId,
      r.at,
      r.deadlineAt,
      r.createdAt,
      0,
      r.createdAt,
    ]),
  }));
}

/** Adds rows, due at once; a key already there is left out. Returns how many were added. */
export async function insertFollowUps(sql: Sql, rows: readonly FollowUpInsert[]): Promise<number> {
  return runCounted(sql, followUpInserts(rows));
}

const LEASE_FREE = "(lease_until IS NULL OR lease_until <= ?)";
// The oldest pending message of its follower (a follower's messages leave in order).
const IS_HEAD = `NOT EXISTS (SELECT 1 FROM follow_ups e WHERE e.account_id = follow_ups.account_id AND e.open_id = follow_ups.open_id
  AND e.status = 'pending' AND e.kind <> 'tag' AND e.seq < follow_ups.seq)`;
const DUE = `status = 'pending' AND next_attempt_at <= ? AND ${LEASE_FREE}`;

/**
 * Leases what is due at `now` to `holder` until `until` and returns it: messages that lead their
 * follower (`kind: "messages"`) or taggings (`"tags"`), at most `limit`, oldest first. The lease
 * is taken by one statement that re-checks every condition, so two instances never share a row.
 */
export async function claimDueFollowUps(
  sql: Sql,
  accountId: string,
  which: "messages" | "tags",
  options: { now: number; until: number; holder: string; limit: number },
): Promise<FollowUpRow[]> {
  const { now, until, holder, limit } = options;
  const kindCheck = which === "tags" ? "kind = 'tag'" : `kind <> 'tag' AND ${IS_HEAD}`;
  const due = await sql.all<{ seq: number }>(
    `SELECT seq FROM follow_ups WHERE account_id = ? AND ${DUE} AND ${kindCheck} ORDER BY ${which === "tags" ? "tag_id, seq" : "seq"} LIMIT ?`,
    [accountId, now, now, limit],
  );
  if (due.length === 0) return [];
  const claimed: FollowUpRow[] = [];
  for (const run of inStatements(due, 1)) {
    const seqs = run.map((r) => Number(r.seq));
    await sql.run(`UPDATE follow_ups SET lease_holder = ?, lease_until = ? WHERE seq IN (${placeholderList(seqs.length)}) AND ${DUE} AND ${kindCheck}`, [
      holder,
      until,
      ...seqs,
      now,
      now,
    ]);
    const rows = await sql.all<DbRow>(
      `SELECT ${COLUMNS} FROM follow_ups WHERE seq IN (${placeholderList(seqs.length)}) AND lease_holder = ? AND lease_until = ?`,
      [...seqs, holder, until],
    );
    claimed.push(...rows.map(fromDb));
  }
  return claimed.sort((a, b) => a.seq - b.seq);
}

/** Closes leased rows as sent. */
export async function markFollowUpsSent(sql: Sql, seqs: readonly number[], holder: string, at: number): Promise<void> {
  for (const run of inStatements(seqs, 1)) {
    await sql.run(
      `UPDATE follow_ups SET status = 'sent', done_at = ?, attempts = attempts + 1, errcode = NULL, last_error = NULL, lease_holder = NULL, lease_until = NULL
       WHERE seq IN (${placeholderList(run.length)}) AND lease_holder = ? AND status = 'pending'`,
      [at, ...run, holder],
    );
  }
}

/**
 * Records a failed attempt on leased rows: tried again at `retryAt`, or, with `retryAt` null,
 * closed as failed for good (the window passed, or the platform's answer cannot change).
 */
export async function markFollowUpsFailed(
  sql: Sql,
  seqs: readonly number[],
  holder: string,
  failure: { errcode: number | null; error: string; retryAt: number | null; at: number },
): Promise<void> {
  const { errcode, error, retryAt, at } = failure;
  for (const run of inStatements(seqs, 1)) {
    await sql.run(
      `UPDATE follow_ups SET attempts = attempts + 1, errcode = ?, last_error = ?, status = ?, next_attempt_at = ?, done_at = ?,
         lease_holder = NULL, lease_until = NULL
       WHERE seq IN (${placeholderList(run.length)}) AND lease_holder = ? AND status = 'pending'`,
      [errcode, error, retryAt === null ? "failed" : "pending", retryAt ?? at, retryAt === null ? at : null, ...run, holder],
    );
  }
}

/** Makes a tag's failed taggings due again (an operator's re-run); returns how many. */
export async function retryFailedTaggings(sql: Sql, accountId: string, tagId: number, openIds: readonly string[], now: number): Promise<number> {
  let changed = 0;
  for (const run of inStatements(openIds, 1)) {
    changed += await sql.run(
      `UPDATE follow_ups SET status = 'pending', next_attempt_at = ?, done_at = NULL, attempts = 0
       WHERE account_id = ? AND kind = 'tag' AND tag_id = ? AND status = 'failed' AND open_id IN (${placeholderList(run.length)})`,
      [now, accountId, tagId, ...run],
    );
  }
  return changed;
}

export interface FollowUpQuery {
  status?: FollowUpStatus | undefined;
  kind?: FollowUpKind | undefined;
  openId?: string | undefined;
  /** Rows with a smaller `seq` (paging backwards, newest first). */
  before?: number | undefined;
  limit: number;
}

/** Rows, newest first. */
export async function listFollowUps(sql: Sql, accountId: string, q: FollowUpQuery): Promise<FollowUpRow[]> {
  const filters: Array<[string, string | number | undefined]> = [
    ["status = ?", q.status],
    ["kind = ?", q.kind],
    ["open_id = ?", q.openId],
    ["seq < ?", q.before],
  ];
  const given = filters.filter((f): f is [string, string | number] => f[1] !== undefined && f[1] !== "");
  const where = ["account_id = ?", ...given.map(([clause]) => clause)];
  const params = [accountId, ...given.map(([, value]) => value)];
  const rows = await sql.all<DbRow>(`SELECT ${COLUMNS} FROM follow_ups WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`, [...params, q.limit]);
  return rows.map(fromDb);
}

/** Rows per status (for /metrics and the API). */
export async function countFollowUps(sql: Sql, accountId: string): Promise<Record<FollowUpStatus, number>> {
  const rows = await sql.all<{ status: FollowUpStatus; n: number }>("SELECT status, COUNT(*) AS n FROM follow_ups WHERE account_id = ? GROUP BY status", [
    accountId,
  ]);
  const counts: Record<FollowUpStatus, number> = { pending: 0, sent: 0, failed: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

/** A media id uploaded for `key` that answers until at least `validAt`. */
export async function getMediaId(sql: Sql, accountId: string, key: string, validAt: number): Promise<string | undefined> {
  const r = await sql.get<{ media_id: string }>("SELECT media_id FROM media WHERE account_id = ? AND media_key = ? AND expires_at > ?", [
    accountId,
    key,
    validAt,
  ]);
  return r?.media_id;
}

export async function saveMediaId(sql: Sql, accountId: string, key: string, mediaId: string, expiresAt: number): Promise<void> {
  await sql.run(
    `INSERT INTO media (account_id, media_key, media_id, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id, media_key) DO UPDATE SET media_id = excluded.media_id, expires_at = excluded.expires_at`,
    [accountId, key, mediaId, expiresAt],
  );
}

export async function forgetMediaId(sql: Sql, accountId: string, key: string, mediaId: string): Promise<void> {
  await sql.run("DELETE FROM media WHERE account_id = ? AND media_key = ? AND media_id = ?", [accountId, key, mediaId]);
}
