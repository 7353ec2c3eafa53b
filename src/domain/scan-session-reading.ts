/**
 * What the holder of a session's secret may see of it (invariant 7): the result only once it is
 * final and while the session lives, and nothing at all without the secret.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Clock } from "../deps.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/scan-sessions.ts";

export type ScanSessionPurpose = store.SessionPurpose;
export type ScanSessionStatus = "pending" | "scanned" | "confirmed" | "expired";

/** What the secret's holder may see. `openId` / `isNewFollower` only once the result is final and while the session lives. */
export interface ScanSessionView {
  id: string;
  status: ScanSessionStatus;
  purpose: ScanSessionPurpose;
  subject: string | null;
  confirm: boolean;
  expiresAt: number;
  openId?: string;
  isNewFollower?: boolean;
}

/** `qrcodeId` is the session's own code, for showing it to the secret's holder. */
export type ScanSessionAccess = { ok: true; view: ScanSessionView; qrcodeId: string } | { ok: false; reason: "not_found" | "bad_secret" };

/** Only the secret's SHA-256 is stored. */
export const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex");

export function isFinal(view: ScanSessionView): boolean {
  return view.status === "expired" || view.status === "confirmed" || (view.status === "scanned" && !view.confirm);
}

export function viewOf(row: store.ScanSessionRow, now: number): ScanSessionView {
  const expired = now >= row.expiresAt;
  const done = !expired && (row.status === "confirmed" || (row.status === "scanned" && !row.confirm));
  return {
    id: row.id,
    status: expired ? "expired" : row.status,
    purpose: row.purpose,
    subject: row.subject,
    confirm: row.confirm,
    expiresAt: row.expiresAt,
    ...(done && row.openId !== null ? { openId: row.openId, isNewFollower: row.isNewFollower === true } : {}),
  };
}

/** The session as its secret's holder sees it; the secret is compared in constant time. */
export async function readScanSession(deps: { db: Database; accountId: string; clock: Clock }, id: string, secret: string): Promise<ScanSessionAccess> {
  const row = await deps.db.read((sql) => store.getSession(sql, deps.accountId, id));
  if (!row) return { ok: false, reason: "not_found" };
  const given = Buffer.from(hashSecret(secret), "hex");
  if (!timingSafeEqual(given, Buffer.from(row.secretHash, "hex"))) return { ok: false, reason: "bad_secret" };
  return { ok: true, view: viewOf(row, deps.clock.now()), qrcodeId: row.qrcodeId };
}
