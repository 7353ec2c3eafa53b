/**
 * Scan sessions and their pool of reusable codes. Claiming a free pooled code is one
 * conditional UPDATE: two concurrent claims never get the same code (on PostgreSQL the
 * candidate row is locked with SKIP LOCKED, so a concurrent claim takes the next one instead
 * of waiting for this one and failing).
 * @module
 */
import type { Sql } from "./database.ts";

export type StoredSessionStatus = "pending" | "scanned" | "confirmed";
export type SessionPurpose = "login" | "bind";

export interface PoolCodeRow {
  id: string;
  accountId: string;
  qrcodeId: string;
  codeExpiresAt: number;
  sessionId: string | null;
  freeAt: number;
  createdAt: number;
}

export interface ScanSessionRow {
  id: string;
  accountId: string;
  purpose: SessionPurpose;
  subject: string | null;
  confirm: boolean;
  /** SHA-256 of the secret, hex. */
  secretHash: string;
  status: StoredSessionStatus;
  poolCodeId: string;
  qrcodeId: string;
  openId: string | null;
  isNewFollower: boolean | null;
  createdAt: number;
  expiresAt: number;
  scannedAt: number | null;
  confirmedAt: number | null;
  updatedAt: number;
}

interface WirePoolCodeRow {
  id: string;
  account_id: string;
  qrcode_id: string;
  code_expires_at: number;
  session_id: string | null;
  free_at: number;
  created_at: number;
}

interface WireSessionRow {
  id: string;
  account_id: string;
  purpose: SessionPurpose;
  subject: string | null;
  confirm: number;
  secret_hash: string;
  status: StoredSessionStatus;
  pool_code_id: string;
  qrcode_id: string;
  open_id: string | null;
  is_new_follower: number | null;
  created_at: number;
  expires_at: number;
  scanned_at: number | null;
  confirmed_at: number | null;
  updated_at: number;
}

const POOL_COLUMNS = "id, account_id, qrcode_id, code_expires_at, session_id, free_at, created_at";
const SESSION_COLUMNS =
  "id, account_id, purpose, subject, confirm, secret_hash, status, pool_code_id, qrcode_id, open_id, is_new_follower, created_at, expires_at, scanned_at, confirmed_at, updated_at";

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function toPoolCode(r: WirePoolCodeRow): PoolCodeRow {
  return {
    id: r.id,
    accountId: r.account_id,
    qrcodeId: r.qrcode_id,
    codeExpiresAt: Number(r.code_expires_at),
    sessionId: r.session_id,
    freeAt: Number(r.free_at),
    createdAt: Number(r.created_at),
  };
}

function toSession(r: WireSessionRow): ScanSessionRow {
  return {
    id: r.id,
    accountId: r.account_id,
    purpose: r.purpose,
    subject: r.subject,
    confirm: Number(r.confirm) === 1,
    secretHash: r.secret_hash,
    status: r.status,
    poolCodeId: r.pool_code_id,
    qrcodeId: r.qrcode_id,
    openId: r.open_id,
    isNewFollower: r.is_new_follower === null ? null : Number(r.is_new_follower) === 1,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    scannedAt: num(r.scanned_at),
    confirmedAt: num(r.confirmed_at),
    updatedAt: Number(r.updated_at),
  };
}

/**
 * Takes a free pooled code for `sessionId`: free since `now`, and living past `minCodeExpiry`
 * (codes about to expire are retired: never handed out again). Undefined when none is free.
 */
export async function claimPoolCode(
  sql: Sql,
  c: { accountId: string; sessionId: string; now: number; holdUntil: number; minCodeExpiry: number },
): Promise<PoolCodeRow | undefined> {
  const lock = sql.dialect === "postgres" ? " FOR UPDATE SKIP LOCKED" : "";
  const r = await sql.get<WirePoolCodeRow>(
    `UPDATE scan_session_codes SET session_id = ?, free_at = ?
     WHERE id = (SELECT id FROM scan_session_codes WHERE account_id = ? AND free_at <= ? AND code_expires_at > ? ORDER BY free_at, id LIMIT 1${lock})
       AND free_at <= ?
     RETURNING ${POOL_COLUMNS}`,
    [c.sessionId, c.holdUntil, c.accountId, c.now, c.minCodeExpiry, c.now],
  );
  return r && toPoolCode(r);
}

/** A new pooled code, already held by its first session. */
export async function insertPoolCode(sql: Sql, c: PoolCodeRow): Promise<void> {
  await sql.run(`INSERT INTO scan_session_codes (${POOL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
    c.id,
    c.accountId,
    c.qrcodeId,
    c.codeExpiresAt,
    c.sessionId,
    c.freeAt,
    c.createdAt,
  ]);
}

export async function getPoolCode(sql: Sql, accountId: string, id: string): Promise<PoolCodeRow | undefined> {
  const r = await sql.get<WirePoolCodeRow>(`SELECT ${POOL_COLUMNS} FROM scan_session_codes WHERE account_id = ? AND id = ?`, [accountId, id]);
  return r && toPoolCode(r);
}

/** Lets the code go (after its cool-down) if `sessionId` still holds it; never extends a hold. */
export async function releasePoolCode(sql: Sql, accountId: string, id: string, sessionId: string, freeAt: number): Promise<void> {
  await sql.run("UPDATE scan_session_codes SET free_at = ? WHERE account_id = ? AND id = ? AND session_id = ? AND free_at > ?", [
    freeAt,
    accountId,
    id,
    sessionId,
    freeAt,
  ]);
}

/** Forgets pooled codes that have expired and are held by nobody. */
export async function deleteExpiredPoolCodes(sql: Sql, accountId: string, now: number): Promise<number> {
  return sql.run("DELETE FROM scan_session_codes WHERE account_id = ? AND code_expires_at <= ? AND free_at <= ?", [accountId, now, now]);
}

export async function countPoolCodes(sql: Sql, accountId: string): Promise<number> {
  const r = await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM scan_session_codes WHERE account_id = ?", [accountId]);
  return Number(r?.n ?? 0);
}

export async function insertSession(sql: Sql, s: ScanSessionRow): Promise<void> {
  await sql.run(`INSERT INTO scan_sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    s.id,
    s.accountId,
    s.purpose,
    s.subject,
    s.confirm ? 1 : 0,
    s.secretHash,
    s.status,
    s.poolCodeId,
    s.qrcodeId,
    s.openId,
    s.isNewFollower === null ? null : s.isNewFollower ? 1 : 0,
    s.createdAt,
    s.expiresAt,
    s.scannedAt,
    s.confirmedAt,
    s.updatedAt,
  ]);
}

export async function getSession(sql: Sql, accountId: string, id: string): Promise<ScanSessionRow | undefined> {
  const r = await sql.get<WireSessionRow>(`SELECT ${SESSION_COLUMNS} FROM scan_sessions WHERE account_id = ? AND id = ?`, [accountId, id]);
  return r && toSession(r);
}

/** pending → scanned, only if still pending: a second scanner changes nothing. `at` is the scan, `now` the writer's clock. */
export async function markScanned(sql: Sql, accountId: string, id: string, s: { openId: string; isNewFollower: boolean; at: number; now: number }): Promise<boolean> {
  const changed = await sql.run(
    "UPDATE scan_sessions SET status = 'scanned', open_id = ?, is_new_follower = ?, scanned_at = ?, updated_at = ? WHERE account_id = ? AND id = ? AND status = 'pending'",
    [s.openId, s.isNewFollower ? 1 : 0, s.at, s.now, accountId, id],
  );
  return changed === 1;
}

/** The newest session `openId` scanned that waits for their confirmation and is still alive at `at`. */
export async function findAwaitingConfirmation(sql: Sql, accountId: string, openId: string, at: number): Promise<ScanSessionRow | undefined> {
  const r = await sql.get<WireSessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM scan_sessions WHERE account_id = ? AND open_id = ? AND status = 'scanned' AND confirm = 1 AND expires_at > ?
     ORDER BY scanned_at DESC, id LIMIT 1`,
    [accountId, openId, at],
  );
  return r && toSession(r);
}

/** scanned → confirmed, only if still scanned (awaiting confirmation). */
export async function markConfirmed(sql: Sql, accountId: string, id: string, at: number, now: number): Promise<boolean> {
  const changed = await sql.run(
    "UPDATE scan_sessions SET status = 'confirmed', confirmed_at = ?, updated_at = ? WHERE account_id = ? AND id = ? AND status = 'scanned' AND confirm = 1",
    [at, now, accountId, id],
  );
  return changed === 1;
}

/** Sessions changed (by any instance) at or after `since`, by the writer's clock. */
export async function sessionsUpdatedSince(sql: Sql, accountId: string, since: number): Promise<Array<{ id: string; updatedAt: number }>> {
  const rows = await sql.all<{ id: string; updated_at: number }>("SELECT id, updated_at FROM scan_sessions WHERE account_id = ? AND updated_at >= ?", [
    accountId,
    since,
  ]);
  return rows.map((r) => ({ id: r.id, updatedAt: Number(r.updated_at) }));
}

/** Forgets sessions that expired before `before`. */
export async function deleteSessionsExpiredBefore(sql: Sql, accountId: string, before: number): Promise<number> {
  return sql.run("DELETE FROM scan_sessions WHERE account_id = ? AND expires_at < ?", [accountId, before]);
}
