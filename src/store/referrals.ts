/**
 * Referrals: each follower's personal code (`referral_codes`, claimed before WeChat is asked),
 * who invited whom (`referrals`, one row per invitee), and the followers imported from the
 * platform's list (`followers.imported`, `accounts.followers_imported_at`).
 * @module
 */
import { inStatements, placeholderList, placeholderRows, readOne, type Read, type Sql, type Statement } from "./database.ts";

export interface ReferralCodeRow {
  accountId: string;
  openId: string;
  /** The follower's current code; null until the first one exists. */
  qrcodeId: string | null;
  /** Set while one caller creates or renews the code. */
  claim: string | null;
  claimedAt: number | null;
}

export async function getReferralCode(sql: Sql, accountId: string, openId: string): Promise<ReferralCodeRow | undefined> {
  const r = await sql.get<{ qrcode_id: string | null; claim: string | null; claimed_at: number | null }>(
    "SELECT qrcode_id, claim, claimed_at FROM referral_codes WHERE account_id = ? AND open_id = ?",
    [accountId, openId],
  );
  return r && { accountId, openId, qrcodeId: r.qrcode_id, claim: r.claim, claimedAt: r.claimed_at === null ? null : Number(r.claimed_at) };
}

/** The first claim for a follower: true when this caller inserted the row (and so creates the code). */
export async function claimNewReferralCode(sql: Sql, accountId: string, openId: string, claim: string, now: number): Promise<boolean> {
  const changed = await sql.run(
    "INSERT INTO referral_codes (account_id, open_id, qrcode_id, claim, claimed_at) VALUES (?, ?, NULL, ?, ?) ON CONFLICT (account_id, open_id) DO NOTHING",
    [accountId, openId, claim, now],
  );
  return changed === 1;
}

/**
 * Claims an existing row to replace its code: true only when the row still holds `seenQrcodeId`
 * and nobody holds a claim newer than `staleBefore` (a claim that old is from a caller that died).
 */
export async function claimReferralCodeRenewal(
  sql: Sql,
  r: { accountId: string; openId: string; seenQrcodeId: string | null; claim: string; now: number; staleBefore: number },
): Promise<boolean> {
  const changed = await sql.run(
    `UPDATE referral_codes SET claim = ?, claimed_at = ?
     WHERE account_id = ? AND open_id = ? AND COALESCE(qrcode_id, '') = ? AND (claim IS NULL OR claimed_at < ?)`,
    [r.claim, r.now, r.accountId, r.openId, r.seenQrcodeId ?? "", r.staleBefore],
  );
  return changed === 1;
}

/** Gives a follower whose code creation was interrupted the code reconciled for it (only if they still have none). */
export async function attachUnfinishedReferralCode(sql: Sql, accountId: string, openId: string, qrcodeId: string): Promise<void> {
  await sql.run("UPDATE referral_codes SET qrcode_id = ?, claim = NULL, claimed_at = NULL WHERE account_id = ? AND open_id = ? AND qrcode_id IS NULL", [
    qrcodeId,
    accountId,
    openId,
  ]);
}

/** Stores the code made under `claim` and lets go of the claim; false when the claim was taken over meanwhile. */
export async function fulfilReferralCode(sql: Sql, accountId: string, openId: string, claim: string, qrcodeId: string): Promise<boolean> {
  const changed = await sql.run("UPDATE referral_codes SET qrcode_id = ?, claim = NULL, claimed_at = NULL WHERE account_id = ? AND open_id = ? AND claim = ?", [
    qrcodeId,
    accountId,
    openId,
    claim,
  ]);
  return changed === 1;
}

/** Gives a claim up after a failure, so the next request tries again at once. */
export async function releaseReferralCode(sql: Sql, accountId: string, openId: string, claim: string): Promise<void> {
  await sql.run("UPDATE referral_codes SET claim = NULL, claimed_at = NULL WHERE account_id = ? AND open_id = ? AND claim = ?", [accountId, openId, claim]);
}

export interface ReferralRow {
  accountId: string;
  invitee: string;
  inviter: string;
  qrcodeId: string;
  createdAt: number;
}

/** Records a referral; false when the invitee already has an inviter (never re-attributed). */
export async function insertReferral(sql: Sql, r: ReferralRow): Promise<boolean> {
  const changed = await sql.run(
    "INSERT INTO referrals (account_id, invitee, inviter, qrcode_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, invitee) DO NOTHING",
    [r.accountId, r.invitee, r.inviter, r.qrcodeId, r.createdAt],
  );
  return changed === 1;
}

/** Inserts referrals (at most one row per invitee among them); an invitee who already has an inviter keeps it. */
export async function insertReferrals(sql: Sql, rows: readonly ReferralRow[]): Promise<void> {
  for (const s of referralInserts(rows)) await sql.run(s.text, s.params);
}

/** `insertReferrals` as statements, for `runTogether`. */
export function referralInserts(rows: readonly ReferralRow[]): Statement[] {
  return inStatements(rows, 5).map((run) => ({
    text: `INSERT INTO referrals (account_id, invitee, inviter, qrcode_id, created_at) VALUES ${placeholderRows(run.length, 5)} ON CONFLICT (account_id, invitee) DO NOTHING`,
    params: run.flatMap((r) => [r.accountId, r.invitee, r.inviter, r.qrcodeId, r.createdAt]),
  }));
}

/** The invitees among `openIds` who already have an inviter. */
export function invitedAmong(sql: Sql, accountId: string, openIds: readonly string[]): Promise<Set<string>> {
  return readOne(sql, invitedAmongRead(accountId, openIds));
}

/** `invitedAmong` as a `Read`. */
export function invitedAmongRead(accountId: string, openIds: readonly string[]): Read<Set<string>> {
  return {
    statements: inStatements([...new Set(openIds)], 1).map((run) => ({
      text: `SELECT invitee FROM referrals WHERE account_id = ? AND invitee IN (${placeholderList(run.length)})`,
      params: [accountId, ...run],
    })),
    result: (rows) => new Set((rows as Array<{ invitee: string }>).map((r) => r.invitee)),
  };
}

export async function getInviter(sql: Sql, accountId: string, invitee: string): Promise<string | undefined> {
  const r = await sql.get<{ inviter: string }>("SELECT inviter FROM referrals WHERE account_id = ? AND invitee = ?", [accountId, invitee]);
  return r?.inviter;
}

/** Whom `inviter` brought, in the order they came. */
export async function listInvitees(sql: Sql, accountId: string, inviter: string): Promise<string[]> {
  const rows = await sql.all<{ invitee: string }>("SELECT invitee FROM referrals WHERE account_id = ? AND inviter = ? ORDER BY created_at, invitee", [
    accountId,
    inviter,
  ]);
  return rows.map((r) => r.invitee);
}

/** Invitees per inviter with the referral time in `[from, to)`, most first, then by openId. */
export async function leaderboard(sql: Sql, accountId: string, from: number, to: number, limit: number): Promise<Array<{ openId: string; invitees: number }>> {
  const rows = await sql.all<{ inviter: string; n: number }>(
    `SELECT inviter, COUNT(*) AS n FROM referrals WHERE account_id = ? AND created_at >= ? AND created_at < ?
     GROUP BY inviter ORDER BY n DESC, inviter LIMIT ?`,
    [accountId, from, to, limit],
  );
  return rows.map((r) => ({ openId: r.inviter, invitees: Number(r.n) }));
}

/**
 * Records listed followers wxqr does not know (subscribed, no source, imported); a known one is
 * left as it is. Returns how many were new to wxqr.
 */
export async function importFollowers(sql: Sql, accountId: string, openIds: readonly string[], now: number): Promise<number> {
  let added = 0;
  // 7 parameters a row; 500 rows stay far below either engine's parameter limit.
  for (let i = 0; i < openIds.length; i += 500) {
    const chunk = openIds.slice(i, i + 500);
    const params = chunk.flatMap((openId) => [accountId, openId, 1, null, now, now, 1]);
    added += await sql.run(
      `INSERT INTO followers (account_id, open_id, subscribed, source_qrcode_id, first_seen_at, last_seen_at, imported)
       VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?)").join(", ")} ON CONFLICT (account_id, open_id) DO NOTHING`,
      params,
    );
  }
  return added;
}

export async function isImportedFollower(sql: Sql, accountId: string, openId: string): Promise<boolean> {
  const r = await sql.get<{ imported: number }>("SELECT imported FROM followers WHERE account_id = ? AND open_id = ?", [accountId, openId]);
  return Number(r?.imported ?? 0) === 1;
}

export async function setFollowersImportedAt(sql: Sql, accountId: string, at: number): Promise<void> {
  await sql.run("UPDATE accounts SET followers_imported_at = ? WHERE id = ?", [at, accountId]);
}

export async function getFollowersImportedAt(sql: Sql, accountId: string): Promise<number | null> {
  const r = await sql.get<{ followers_imported_at: number | null }>("SELECT followers_imported_at FROM accounts WHERE id = ?", [accountId]);
  return r?.followers_imported_at === null || r?.followers_imported_at === undefined ? null : Number(r.followers_imported_at);
}
