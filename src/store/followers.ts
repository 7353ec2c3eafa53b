/** Followers (per account and openId) and the append-only push log. */
import { inStatements, placeholderList, placeholderRows, readOne, runCounted, type Read, type Sql, type SqlParam, type Statement } from "./database.ts";

export interface FollowerRow {
  accountId: string;
  openId: string;
  subscribed: boolean;
  /** The code that first brought this follower, when wxqr saw it. */
  sourceQrcodeId: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  subscribedAt: number | null;
  unsubscribedAt: number | null;
}

interface DbFollowerRow {
  account_id: string;
  open_id: string;
  subscribed: number;
  source_qrcode_id: string | null;
  first_seen_at: number;
  last_seen_at: number;
  subscribed_at: number | null;
  unsubscribed_at: number | null;
}

const nullableNumber = (v: number | null): number | null => (v === null ? null : Number(v));

/**
 * Holds these followers' pushes back until this transaction ends, so two transactions never both
 * decide from the same "before" (e.g. both count the same person as new). One statement takes
 * every lock, in ascending order of lock key: two transactions with followers in common (two
 * instances given the same pushes) wait for one another, never in a cycle. Take them before
 * touching any row. PostgreSQL only: SQLite runs one write transaction at a time anyway.
 */
export async function lockFollowers(sql: Sql, accountId: string, openIds: readonly string[]): Promise<void> {
  if (sql.dialect !== "postgres" || openIds.length === 0) return;
  // The subquery is sorted before the outer SELECT calls the lock function on its rows.
  await sql.run(
    `SELECT pg_advisory_xact_lock(lock_key) FROM (
       SELECT DISTINCT hashtextextended(?::text || '|' || open_id, 0) AS lock_key FROM json_array_elements_text(?::json) AS ids(open_id) ORDER BY lock_key
     ) AS keys`,
    [accountId, JSON.stringify(openIds)],
  );
}

const FOLLOWER_COLUMNS = "account_id, open_id, subscribed, source_qrcode_id, first_seen_at, last_seen_at, subscribed_at, unsubscribed_at";

const toFollower = (r: DbFollowerRow): FollowerRow => ({
  accountId: r.account_id,
  openId: r.open_id,
  subscribed: Number(r.subscribed) === 1,
  sourceQrcodeId: r.source_qrcode_id,
  firstSeenAt: Number(r.first_seen_at),
  lastSeenAt: Number(r.last_seen_at),
  subscribedAt: nullableNumber(r.subscribed_at),
  unsubscribedAt: nullableNumber(r.unsubscribed_at),
});

export async function getFollower(sql: Sql, accountId: string, openId: string): Promise<FollowerRow | undefined> {
  const r = await sql.get<DbFollowerRow>(`SELECT ${FOLLOWER_COLUMNS} FROM followers WHERE account_id = ? AND open_id = ?`, [accountId, openId]);
  return r && toFollower(r);
}

/** The followers among `openIds` that wxqr has a row for, by openId. */
export function getFollowers(sql: Sql, accountId: string, openIds: readonly string[]): Promise<Map<string, FollowerRow>> {
  return readOne(sql, followersRead(accountId, openIds));
}

/** `getFollowers` as a `Read`. */
export function followersRead(accountId: string, openIds: readonly string[]): Read<Map<string, FollowerRow>> {
  return {
    statements: inStatements([...new Set(openIds)], 1).map((ids) => ({
      text: `SELECT ${FOLLOWER_COLUMNS} FROM followers WHERE account_id = ? AND open_id IN (${placeholderList(ids.length)})`,
      params: [accountId, ...ids],
    })),
    result: (rows) => new Map((rows as DbFollowerRow[]).map((r) => [r.open_id, toFollower(r)])),
  };
}

export async function saveFollower(sql: Sql, f: FollowerRow): Promise<void> {
  await saveFollowers(sql, [f]);
}

/**
 * Inserts or updates followers, one row per openId. An existing row keeps its `first_seen_at`
 * (and `imported`): only the state a push changes is updated.
 */
export async function saveFollowers(sql: Sql, rows: readonly FollowerRow[]): Promise<void> {
  for (const s of followerUpserts(rows)) await sql.run(s.text, s.params);
}

/** `saveFollowers` as statements, for `runTogether`. */
export function followerUpserts(rows: readonly FollowerRow[]): Statement[] {
  return inStatements(rows, 8).map((run) => ({
    text: `INSERT INTO followers (${FOLLOWER_COLUMNS}) VALUES ${placeholderRows(run.length, 8)}
       ON CONFLICT (account_id, open_id) DO UPDATE SET subscribed = excluded.subscribed, source_qrcode_id = excluded.source_qrcode_id,
         last_seen_at = excluded.last_seen_at, subscribed_at = excluded.subscribed_at, unsubscribed_at = excluded.unsubscribed_at`,
    params: run.flatMap((f) => [f.accountId, f.openId, f.subscribed ? 1 : 0, f.sourceQrcodeId, f.firstSeenAt, f.lastSeenAt, f.subscribedAt, f.unsubscribedAt]),
  }));
}

export interface PushLogRow {
  seq?: number;
  accountId: string;
  dedupeKey: string;
  kind: string;
  openId: string;
  event: string | null;
  eventKey: string | null;
  ticket: string | null;
  scene: string | null;
  qrcodeId: string | null;
  isNewFollower: boolean | null;
  /** WeChat's CreateTime, in seconds. */
  createTimeSec: number;
  receivedAt: number;
}

/** Appends a push; false when its dedupe key is already there (a redelivery: do nothing else). */
export async function appendPushLog(sql: Sql, p: PushLogRow): Promise<boolean> {
  return (await appendPushLogRows(sql, [p])) === 1;
}

const pushLogParams = (p: PushLogRow): SqlParam[] => [
  p.accountId,
  p.dedupeKey,
  p.kind,
  p.openId,
  p.event,
  p.eventKey,
  p.ticket,
  p.scene,
  p.qrcodeId,
  p.isNewFollower === null ? null : p.isNewFollower ? 1 : 0,
  p.createTimeSec,
  p.receivedAt,
];

/** Appends pushes, their `seq` in the given order; those whose dedupe key is already there are left out. Returns how many were added. */
export async function appendPushLogRows(sql: Sql, rows: readonly PushLogRow[]): Promise<number> {
  return runCounted(sql, pushLogInserts(rows));
}

/** `appendPushLogRows` as statements, for `runTogether`. */
export function pushLogInserts(rows: readonly PushLogRow[]): Statement[] {
  return inStatements(rows, 12).map((run) => ({
    text: `INSERT INTO push_log (account_id, dedupe_key, kind, open_id, event, event_key, ticket, scene, qrcode_id, is_new_follower, create_time, received_at)
       VALUES ${placeholderRows(run.length, 12)} ON CONFLICT (account_id, dedupe_key) DO NOTHING`,
    params: run.flatMap(pushLogParams),
  }));
}

/** The dedupe keys among `keys` already in the log. */
export function loggedDedupeKeys(sql: Sql, accountId: string, keys: readonly string[]): Promise<Set<string>> {
  return readOne(sql, loggedDedupeKeysRead(accountId, keys));
}

/** `loggedDedupeKeys` as a `Read`. */
export function loggedDedupeKeysRead(accountId: string, keys: readonly string[]): Read<Set<string>> {
  return {
    statements: inStatements([...new Set(keys)], 1).map((run) => ({
      text: `SELECT dedupe_key FROM push_log WHERE account_id = ? AND dedupe_key IN (${placeholderList(run.length)})`,
      params: [accountId, ...run],
    })),
    result: (rows) => new Set((rows as Array<{ dedupe_key: string }>).map((r) => r.dedupe_key)),
  };
}

interface DbPushLogRow {
  seq: number;
  account_id: string;
  dedupe_key: string;
  kind: string;
  open_id: string;
  event: string | null;
  event_key: string | null;
  ticket: string | null;
  scene: string | null;
  qrcode_id: string | null;
  is_new_follower: number | null;
  create_time: number;
  received_at: number;
}

const PUSH_LOG_COLUMNS = "seq, account_id, dedupe_key, kind, open_id, event, event_key, ticket, scene, qrcode_id, is_new_follower, create_time, received_at";

const toPushLogRow = (r: DbPushLogRow): PushLogRow => ({
  seq: Number(r.seq),
  accountId: r.account_id,
  dedupeKey: r.dedupe_key,
  kind: r.kind,
  openId: r.open_id,
  event: r.event,
  eventKey: r.event_key,
  ticket: r.ticket,
  scene: r.scene,
  qrcodeId: r.qrcode_id,
  isNewFollower: r.is_new_follower === null ? null : Number(r.is_new_follower) === 1,
  createTimeSec: Number(r.create_time),
  receivedAt: Number(r.received_at),
});

/** The scan log, oldest first, after cursor `afterSeq`. */
export async function listPushLog(sql: Sql, accountId: string, afterSeq: number, limit: number): Promise<PushLogRow[]> {
  const rows = await sql.all<DbPushLogRow>(`SELECT ${PUSH_LOG_COLUMNS} FROM push_log WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?`, [
    accountId,
    afterSeq,
    limit,
  ]);
  return rows.map(toPushLogRow);
}

/**
 * The log of every account after `afterSeq`, oldest first: the live feed follows the one sequence
 * all accounts share, so that a missing number means a row not committed (yet), never another
 * account's row.
 */
export async function listPushLogOfAll(sql: Sql, afterSeq: number, limit: number): Promise<PushLogRow[]> {
  const rows = await sql.all<DbPushLogRow>(`SELECT ${PUSH_LOG_COLUMNS} FROM push_log WHERE seq > ? ORDER BY seq LIMIT ?`, [afterSeq, limit]);
  return rows.map(toPushLogRow);
}

/** The newest row's seq, of any account; 0 for an empty log. */
export async function latestPushLogSeq(sql: Sql): Promise<number> {
  const r = await sql.get<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM push_log");
  return Number(r?.seq ?? 0);
}

export async function countPushLog(sql: Sql, accountId: string): Promise<number> {
  const r = await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM push_log WHERE account_id = ?", [accountId]);
  return Number(r?.n ?? 0);
}
