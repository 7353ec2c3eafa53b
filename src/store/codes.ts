/**
 * Accounts, codes and scene allocation. A scene value is held by at most one live code:
 * `scene_allocations` has one row per (account, scene), and an insert either takes a free
 * value, reclaims one whose temporary code has expired, or changes nothing.
 * @module
 */
import { inStatements, placeholderList, readOne, type Read, type Sql } from "./database.ts";

export type CodeType = "temporary" | "permanent";
export type OwnerKind = "channel" | "follower" | "session";

export interface QrCodeRow {
  id: string;
  accountId: string;
  type: CodeType;
  sceneId: number | null;
  sceneStr: string | null;
  ticket: string | null;
  url: string | null;
  expiresAt: number | null;
  ownerKind: OwnerKind | null;
  ownerId: string | null;
  label: string | null;
  createdAt: number;
}

interface DbQrCodeRow {
  id: string;
  account_id: string;
  type: CodeType;
  scene_id: number | null;
  scene_str: string | null;
  ticket: string | null;
  url: string | null;
  expires_at: number | null;
  owner_kind: OwnerKind | null;
  owner_id: string | null;
  label: string | null;
  created_at: number;
}

const QR_COLUMNS = "id, account_id, type, scene_id, scene_str, ticket, url, expires_at, owner_kind, owner_id, label, created_at";

function toQrCode(r: DbQrCodeRow): QrCodeRow {
  return {
    id: r.id,
    accountId: r.account_id,
    type: r.type,
    sceneId: r.scene_id === null ? null : Number(r.scene_id),
    sceneStr: r.scene_str,
    ticket: r.ticket,
    url: r.url,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    ownerKind: r.owner_kind,
    ownerId: r.owner_id,
    label: r.label,
    createdAt: Number(r.created_at),
  };
}

export function sceneKey(scene: { sceneId?: number | null; sceneStr?: string | null }): string {
  return scene.sceneId !== undefined && scene.sceneId !== null ? `id:${scene.sceneId}` : `str:${scene.sceneStr}`;
}

export interface AccountRow {
  id: string;
  timeZone: string;
  permanentUsed: number;
}

export async function ensureAccount(sql: Sql, account: { id: string; timeZone: string }, now: number): Promise<void> {
  await sql.run("INSERT INTO accounts (id, time_zone, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone", [
    account.id,
    account.timeZone,
    now,
  ]);
}

export async function getAccount(sql: Sql, id: string): Promise<AccountRow | undefined> {
  const r = await sql.get<{ id: string; time_zone: string; permanent_used: number }>("SELECT id, time_zone, permanent_used FROM accounts WHERE id = ?", [id]);
  return r && { id: r.id, timeZone: r.time_zone, permanentUsed: Number(r.permanent_used) };
}

export async function listAccountIds(sql: Sql): Promise<string[]> {
  return (await sql.all<{ id: string }>("SELECT id FROM accounts ORDER BY id")).map((r) => r.id);
}

/** Counts one more permanent code if that stays within `limit`; false when the quota is used up. */
export async function takePermanentQuota(sql: Sql, accountId: string, limit: number): Promise<boolean> {
  return (await sql.run("UPDATE accounts SET permanent_used = permanent_used + 1 WHERE id = ? AND permanent_used < ?", [accountId, limit])) === 1;
}

export async function returnPermanentQuota(sql: Sql, accountId: string): Promise<void> {
  await sql.run("UPDATE accounts SET permanent_used = permanent_used - 1 WHERE id = ? AND permanent_used > 0", [accountId]);
}

/** The next candidate permanent scene id, from a per-account sequence (never from a count of rows). */
export async function nextPermanentSceneId(sql: Sql, accountId: string): Promise<number> {
  const r = await sql.get<{ n: number }>(
    "UPDATE accounts SET next_permanent_scene = next_permanent_scene + 1 WHERE id = ? RETURNING next_permanent_scene - 1 AS n",
    [accountId],
  );
  if (!r) throw new Error(`account ${accountId} does not exist`);
  return Number(r.n);
}

/**
 * Takes `key` for `qrcodeId`: true when it was free or held by an expired temporary code.
 * Concurrent callers for one key: exactly one gets true (the primary key decides).
 */
export async function reserveScene(
  sql: Sql,
  r: { accountId: string; key: string; qrcodeId: string; permanent: boolean; expiresAt: number | null },
  now: number,
): Promise<boolean> {
  const changed = await sql.run(
    `INSERT INTO scene_allocations (account_id, scene_key, qrcode_id, permanent, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account_id, scene_key) DO UPDATE SET qrcode_id = excluded.qrcode_id, permanent = excluded.permanent, expires_at = excluded.expires_at
     WHERE scene_allocations.expires_at IS NOT NULL AND scene_allocations.expires_at <= ?`,
    [r.accountId, r.key, r.qrcodeId, r.permanent ? 1 : 0, r.expiresAt, now],
  );
  return changed === 1;
}

export async function releaseScene(sql: Sql, accountId: string, key: string, qrcodeId: string): Promise<void> {
  await sql.run("DELETE FROM scene_allocations WHERE account_id = ? AND scene_key = ? AND qrcode_id = ?", [accountId, key, qrcodeId]);
}

/** Sets a held scene's expiry once the platform has said when the code expires. */
export async function setSceneExpiry(sql: Sql, accountId: string, key: string, qrcodeId: string, expiresAt: number | null): Promise<void> {
  await sql.run("UPDATE scene_allocations SET expires_at = ? WHERE account_id = ? AND scene_key = ? AND qrcode_id = ?", [expiresAt, accountId, key, qrcodeId]);
}

export async function insertQrCode(sql: Sql, c: QrCodeRow): Promise<void> {
  await sql.run(`INSERT INTO qrcodes (${QR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    c.id,
    c.accountId,
    c.type,
    c.sceneId,
    c.sceneStr,
    c.ticket,
    c.url,
    c.expiresAt,
    c.ownerKind,
    c.ownerId,
    c.label,
    c.createdAt,
  ]);
}

/** Fills in what the platform answered for a code inserted before the call. */
export async function activateQrCode(sql: Sql, id: string, c: { ticket: string; url: string; expiresAt: number | null }): Promise<void> {
  await sql.run("UPDATE qrcodes SET ticket = ?, url = ?, expires_at = ? WHERE id = ?", [c.ticket, c.url, c.expiresAt, id]);
}

/**
 * Gives up a reservation whose code the platform never made: the row, its scene and (for a
 * permanent code) its quota go back. Only while the row still has no ticket: a reconciliation
 * that completed it meanwhile keeps it. True when it was given up.
 */
export async function abandonReservation(sql: Sql, accountId: string, code: { id: string; type: CodeType; sceneKey: string }): Promise<boolean> {
  if ((await sql.run("DELETE FROM qrcodes WHERE id = ? AND account_id = ? AND ticket IS NULL", [code.id, accountId])) !== 1) return false;
  await releaseScene(sql, accountId, code.sceneKey, code.id);
  if (code.type === "permanent") await returnPermanentQuota(sql, accountId);
  return true;
}

/**
 * Reservations that never got their ticket (their creator died or is still waiting for WeChat),
 * created before `createdBefore`, oldest first, after the cursor `after` (the last row of the previous page).
 */
export async function listUnticketedCodes(
  sql: Sql,
  accountId: string,
  page: { createdBefore: number; after?: { createdAt: number; id: string } | undefined; limit: number },
): Promise<QrCodeRow[]> {
  const after = page.after ?? { createdAt: -1, id: "" };
  const rows = await sql.all<DbQrCodeRow>(
    `SELECT ${QR_COLUMNS} FROM qrcodes WHERE account_id = ? AND ticket IS NULL AND created_at < ? AND (created_at > ? OR (created_at = ? AND id > ?))
     ORDER BY created_at, id LIMIT ?`,
    [accountId, page.createdBefore, after.createdAt, after.createdAt, after.id, page.limit],
  );
  return rows.map(toQrCode);
}

export async function getQrCode(sql: Sql, accountId: string, id: string): Promise<QrCodeRow | undefined> {
  const r = await sql.get<DbQrCodeRow>(`SELECT ${QR_COLUMNS} FROM qrcodes WHERE account_id = ? AND id = ?`, [accountId, id]);
  return r && toQrCode(r);
}

/** Several codes in one query (a page of channels' codes); ids not found are left out. */
export async function getQrCodes(sql: Sql, accountId: string, ids: readonly string[]): Promise<QrCodeRow[]> {
  if (ids.length === 0) return [];
  const rows = await sql.all<DbQrCodeRow>(`SELECT ${QR_COLUMNS} FROM qrcodes WHERE account_id = ? AND id IN (${ids.map(() => "?").join(", ")})`, [
    accountId,
    ...ids,
  ]);
  return rows.map(toQrCode);
}

export async function setQrCodeLabel(sql: Sql, accountId: string, id: string, label: string | null): Promise<void> {
  await sql.run("UPDATE qrcodes SET label = ? WHERE account_id = ? AND id = ?", [label, accountId, id]);
}

export async function findQrCodeByTicket(sql: Sql, accountId: string, ticket: string): Promise<QrCodeRow | undefined> {
  const r = await sql.get<DbQrCodeRow>(`SELECT ${QR_COLUMNS} FROM qrcodes WHERE ticket = ? AND account_id = ?`, [ticket, accountId]);
  return r && toQrCode(r);
}

/** The code currently holding a scene value (the newest, for codes learnt by scene only). */
export async function findQrCodeByScene(sql: Sql, accountId: string, key: string): Promise<QrCodeRow | undefined> {
  const r = await sql.get<DbQrCodeRow>(
    `SELECT ${QR_COLUMNS.split(", ")
      .map((c) => `q.${c}`)
      .join(", ")} FROM scene_allocations a JOIN qrcodes q ON q.id = a.qrcode_id
     WHERE a.account_id = ? AND a.scene_key = ?`,
    [accountId, key],
  );
  return r && toQrCode(r);
}

/** The codes holding these tickets, by ticket. */
export function findQrCodesByTickets(sql: Sql, accountId: string, tickets: readonly string[]): Promise<Map<string, QrCodeRow>> {
  return readOne(sql, qrCodesByTicketsRead(accountId, tickets));
}

/** `findQrCodesByTickets` as a `Read`. */
export function qrCodesByTicketsRead(accountId: string, tickets: readonly string[]): Read<Map<string, QrCodeRow>> {
  return {
    statements: inStatements([...new Set(tickets)], 1).map((run) => ({
      text: `SELECT ${QR_COLUMNS} FROM qrcodes WHERE ticket IN (${placeholderList(run.length)}) AND account_id = ?`,
      params: [...run, accountId],
    })),
    result: (rows) => new Map((rows as DbQrCodeRow[]).map((r) => [r.ticket!, toQrCode(r)])),
  };
}

/** The codes currently holding these scene keys (`sceneKey`), by scene key. */
export async function findQrCodesByScenes(sql: Sql, accountId: string, keys: readonly string[]): Promise<Map<string, QrCodeRow>> {
  const found = new Map<string, QrCodeRow>();
  for (const run of inStatements([...new Set(keys)], 1)) {
    const rows = await sql.all<DbQrCodeRow & { scene_key: string }>(
      `SELECT a.scene_key, ${QR_COLUMNS.split(", ")
        .map((c) => `q.${c}`)
        .join(", ")} FROM scene_allocations a JOIN qrcodes q ON q.id = a.qrcode_id
       WHERE a.account_id = ? AND a.scene_key IN (${placeholderList(run.length)})`,
      [accountId, ...run],
    );
    for (const r of rows) found.set(r.scene_key, toQrCode(r));
  }
  return found;
}

export async function findQrCodeByOwner(sql: Sql, accountId: string, ownerKind: OwnerKind, ownerId: string): Promise<QrCodeRow | undefined> {
  const r = await sql.get<DbQrCodeRow>(
    `SELECT ${QR_COLUMNS} FROM qrcodes WHERE account_id = ? AND owner_kind = ? AND owner_id = ? AND ticket IS NOT NULL ORDER BY created_at DESC LIMIT 1`,
    [accountId, ownerKind, ownerId],
  );
  return r && toQrCode(r);
}

export async function setQrCodeOwner(sql: Sql, id: string, ownerKind: OwnerKind, ownerId: string): Promise<void> {
  await sql.run("UPDATE qrcodes SET owner_kind = ?, owner_id = ? WHERE id = ?", [ownerKind, ownerId, id]);
}

/** Gives a code from one owner to another, only if `from` still owns it; true when it did. */
export async function handOverQrCode(sql: Sql, r: { accountId: string; id: string; ownerKind: OwnerKind; from: string; to: string }): Promise<boolean> {
  const changed = await sql.run("UPDATE qrcodes SET owner_id = ? WHERE account_id = ? AND id = ? AND owner_kind = ? AND owner_id = ?", [
    r.to,
    r.accountId,
    r.id,
    r.ownerKind,
    r.from,
  ]);
  return changed === 1;
}

export async function countPermanentCodes(sql: Sql, accountId: string): Promise<number> {
  const r = await sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM scene_allocations WHERE account_id = ? AND permanent = 1", [accountId]);
  return Number(r?.n ?? 0);
}
