/**
 * Dashboard sign-in sessions (migration 6), keyed by a hash of the session id: the id itself,
 * the cookie's value, is never stored.
 * @module
 */
import type { Sql } from "./database.ts";

export interface AdminSessionRow {
  /** A keyed hash of the session id, hex. */
  idHash: string;
  accountId: string;
  createdAt: number;
  lastSeenAt: number;
  /** The latest end, however often the session is used. */
  expiresAt: number;
}

interface DbAdminSessionRow {
  id_hash: string;
  account_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

const COLUMNS = "id_hash, account_id, created_at, last_seen_at, expires_at";

function toRow(r: DbAdminSessionRow): AdminSessionRow {
  return {
    idHash: r.id_hash,
    accountId: r.account_id,
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at),
  };
}

export async function insertAdminSession(sql: Sql, s: AdminSessionRow): Promise<void> {
  await sql.run(`INSERT INTO admin_sessions (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [s.idHash, s.accountId, s.createdAt, s.lastSeenAt, s.expiresAt]);
}

export async function getAdminSession(sql: Sql, accountId: string, idHash: string): Promise<AdminSessionRow | undefined> {
  const r = await sql.get<DbAdminSessionRow>(`SELECT ${COLUMNS} FROM admin_sessions WHERE account_id = ? AND id_hash = ?`, [accountId, idHash]);
  return r && toRow(r);
}

/** Moves `last_seen_at` forward (never back: another instance may have seen it later). */
export async function touchAdminSession(sql: Sql, accountId: string, idHash: string, at: number): Promise<void> {
  await sql.run("UPDATE admin_sessions SET last_seen_at = ? WHERE account_id = ? AND id_hash = ? AND last_seen_at < ?", [at, accountId, idHash, at]);
}

export async function deleteAdminSession(sql: Sql, accountId: string, idHash: string): Promise<number> {
  return sql.run("DELETE FROM admin_sessions WHERE account_id = ? AND id_hash = ?", [accountId, idHash]);
}

/** Forgets sessions past their end at `now`, or unused since `idleSince`. */
export async function deleteEndedAdminSessions(sql: Sql, accountId: string, now: number, idleSince: number): Promise<number> {
  return sql.run("DELETE FROM admin_sessions WHERE account_id = ? AND (expires_at <= ? OR last_seen_at <= ?)", [accountId, now, idleSince]);
}
