/**
 * Scan sessions, and the warm stock of pre-created codes they may take. Each session has a code
 * of its own (the unique `scan_sessions.qrcode_id`). Taking a warm code deletes its stock row in
 * the taking transaction, so each is handed out once: two concurrent takers never get the same
 * one (on PostgreSQL the candidate row is locked with SKIP LOCKED, so a concurrent taker takes
 * the next one instead of waiting for this one and finding it gone).
 * @module
 */
import type { Sql } from "./database.ts";

export type StoredSessionStatus = "pending" | "scanned" | "confirmed";
export type SessionPurpose = "login" | "bind";

/** A pre-created code no session has taken yet; `id` is the code's owner id meanwhile. */
export interface WarmCodeRow {
  id: string;
  accountId: string;
  qrcodeId: string;
  codeExpiresAt: number;
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
  /** The session's own code: no other session ever has it. */
  qrcodeId: string;
  openId: string | null;
  isNewFollower: boolean | null;
  createdAt: number;
  expiresAt: number;
  scannedAt: number | null;
  confirmedAt: number | null;
  updatedAt: number;
}

interface DbWarmCodeRow {
  id: string;
  account_id: string;
  qrcode_id: string;
  code_expires_at: number;
  created_at: number;
}

interface DbSessionRow {
  id: string;
  account_id: string;
  purpose: SessionPurpose;
  subject: string | null;
  confirm: number;
  secret_hash: string;
  status: StoredSessionStatus;
  qrcode_id: string;
  open_id: string | null;
  is_new_follower: number | null;
  created_at: number;
  expires_at: number;
  scanned_at: number | null;
  confirmed_at: number | null;
  updated_at: number;
}

const WARM_COLUMNS = "id, account_id, qrcode_id, code_expires_at, created_at";
const SESSION_COLUMNS =
  "id, account_id, purpose, subject, confirm, secret_hash, status, qrcode_id, open_id, is_new_follower, created_at, expires_at, scanned_at, confirmed_at, updated_at";

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function toWarmCode(r: DbWarmCodeRow): WarmCodeRow {
  return { id: r.id, accountId: r.account_id, qrcodeId: r.qrcode_id, codeExpiresAt: Number(r.code_expires_at), createdAt: Number(r.created_at) };
}

function toSession(r: DbSessionRow): ScanSessionRow {
  return {
    id: r.id,
    accountId: r.account_id,
    purpose: r.purpose,
    subject: r.subject,
    confirm: Number(r.confirm) === 1,
    secretHash: r.secret_hash,
    status: r.status,
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

export async function insertWarmCode(sql: Sql, c: WarmCodeRow): Promise<void> {
  await sql.run(`INSERT INTO scan_session_warm_codes (${WARM_COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [c.id, c.accountId, c.qrcodeId, c.codeExpiresAt, c.createdAt]);
}

/**
 * Takes one warm code that lives until at least `minCodeExpiry` out of the stock (the one
 * expiring first, so fewer go to waste). Undefined when none is left.
 */
export async function takeWarmCode(sql: Sql, accountId: string, minCodeExpiry: number): Promise<WarmCodeRow | undefined> {
  const lock = sql.dialect === "postgres" ? " FOR UPDATE SKIP LOCKED" : "";
  const r = await sql.get<DbWarmCodeRow>(
    `DELETE FROM scan_session_warm_codes
     WHERE id = (SELECT id FROM scan_session_warm_codes WHERE account_id = ? AND code_expires_at >= ? ORDER BY code_expires_at, id LIMIT 1${lock})
     RETURNING ${WARM_COLUMNS}`,
    [accountId, minCodeExpiry],
  );
  return r && toWarmCode(r);
}

/** Discards warm codes that expire before `minCodeExpiry`: too late to outlive a session. */
export async function discardWarmCodesExpiringBefore(sql: Sql, accountId: string, minCodeExpiry: number): Promise<number> {
  return sql.run("DELETE FROM scan_session_warm_codes WHERE account_id = ? AND code_expires_at < ?", [accountId, minCodeExpiry]);
}

/** Warm codes that live until at least `minCodeExpiry`. */
export async function countWarmCodes(sql: Sql, accountId: string, minCodeExpiry: number): Promise<number> {
  const r = await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM scan_session_warm_codes WHERE account_id = ? AND code_expires_at >= ?", [
    accountId,
    minCodeExpiry,
  ]);
  return Number(r?.n ?? 0);
}

export async function insertSession(sql: Sql, s: ScanSessionRow): Promise<void> {
  await sql.run(`INSERT INTO scan_sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    s.id,
    s.accountId,
    s.purpose,
    s.subject,
    s.confirm ? 1 : 0,
    s.secretHash,
    s.status,
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
  const r = await sql.get<DbSessionRow>(`SELECT ${SESSION_COLUMNS} FROM scan_sessions WHERE account_id = ? AND id = ?`, [accountId, id]);
  return r && toSession(r);
}

/** pending → scanned, only if still pending: a second scanner changes nothing. `at` is the scan, `now` the writer's clock. */
export async function markScanned(
  sql: Sql,
  accountId: string,
  id: string,
  s: { openId: string; isNewFollower: boolean; at: number; now: number },
): Promise<boolean> {
  const changed = await sql.run(
    "UPDATE scan_sessions SET status = 'scanned', open_id = ?, is_new_follower = ?, scanned_at = ?, updated_at = ? WHERE account_id = ? AND id = ? AND status = 'pending'",
    [s.openId, s.isNewFollower ? 1 : 0, s.at, s.now, accountId, id],
  );
  return changed === 1;
}

/** The newest session `openId` scanned that waits for their confirmation and is still alive at `at`. */
export async function findAwaitingConfirmation(sql: Sql, accountId: string, openId: string, at: number): Promise<ScanSessionRow | undefined> {
  const r = await sql.get<DbSessionRow>(
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
