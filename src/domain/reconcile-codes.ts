/**
 * Reservations left behind by a crash (issue 8: "no quota leak after a crash"). A code is
 * reserved — scene held, permanent quota counted, `qrcodes` row without a ticket — before WeChat
 * is asked, and completed after it answers. A process killed in between leaves the reservation
 * holding its scene and its quota forever. Reconciling settles each one:
 *
 * - a permanent code is completed by asking the platform again: `qrcode/create` for a permanent
 *   scene is idempotent (the same scene gives the same ticket and costs no second code), so this
 *   is right whether or not the dead process's call reached WeChat. Only a refusal that cannot
 *   change (the platform's permanent quota used up, an argument it rejects) releases it instead;
 *   anything transient leaves it for the next pass.
 * - a temporary code cannot be asked for twice (each call makes a new one), so it is released,
 *   but only once it is older than any creation could still be in flight.
 *
 * A completed code is given to its owner when the owner is still waiting for it (a channel whose
 * creation died, a follower's personal code); a released channel code takes its unfinished
 * channel with it, so the name is free again.
 * @module
 */
import type { Clock, Logger, Timer } from "../deps.ts";
import { InvalidArgumentError, QrQuotaExceededError } from "../errors.ts";
import * as channels from "../store/channels.ts";
import * as codes from "../store/codes.ts";
import type { Database } from "../store/database.ts";
import * as referrals from "../store/referrals.ts";
import type { QrCodesApi } from "../wechat/qr-ticket.ts";

/**
 * A creation still waiting for WeChat after this long has died: the client's whole retry budget
 * (a few attempts of at most 10 s each) is far shorter.
 */
export const RECONCILE_GRACE_MS = 10 * 60_000;
/** How often a running service reconciles. */
export const RECONCILE_EVERY_MS = 10 * 60_000;
const PAGE = 500;

export interface ReconcileResult {
  /** Permanent reservations the platform confirmed (now with their ticket). */
  completed: number;
  /** Reservations given up: scene and quota returned. */
  released: number;
  /** Left for a later pass (WeChat unreachable, busy, or out of daily calls). */
  pending: number;
}

export interface ReconcileDeps {
  db: Database;
  qrcodes: QrCodesApi;
  accountId: string;
  clock: Clock;
  logger: Logger;
}

/**
 * Settles the reservations without a ticket. `permanentAfterMs` is how old a permanent
 * reservation must be: 0 at start (completing is idempotent, so even one another instance is
 * still making is safe to complete), `RECONCILE_GRACE_MS` on the periodic passes.
 * @example
 * const result = await reconcileCodes({ db, qrcodes: client.qrcodes, accountId, clock, logger }, { permanentAfterMs: 0 });
 * // { completed: 3, released: 0, pending: 0 }
 */
export async function reconcileCodes(deps: ReconcileDeps, options: { permanentAfterMs?: number } = {}): Promise<ReconcileResult> {
  const { db, accountId, clock } = deps;
  const result: ReconcileResult = { completed: 0, released: 0, pending: 0 };
  const startedAt = clock.now();
  // Reservations made at or before these instants are settled.
  const permanentUpTo = startedAt - (options.permanentAfterMs ?? RECONCILE_GRACE_MS);
  const temporaryUpTo = startedAt - RECONCILE_GRACE_MS;
  let after: codes.QrCodeRow | undefined;
  for (;;) {
    const cursor = after;
    const page = await db.read((sql) =>
      codes.listUnticketedCodes(sql, accountId, { createdBefore: Math.max(permanentUpTo, temporaryUpTo) + 1, after: cursor, limit: PAGE }),
    );
    for (const code of page) {
      if (code.createdAt > (code.type === "temporary" ? temporaryUpTo : permanentUpTo)) continue;
      const outcome = code.type === "permanent" ? await completePermanent(deps, code) : await release(deps, code);
      result[outcome] += 1;
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1];
  }
  if (result.completed + result.released + result.pending > 0) deps.logger.info({ ...result }, "reconciled code reservations left by an interrupted creation");
  return result;
}

async function completePermanent(deps: ReconcileDeps, code: codes.QrCodeRow): Promise<keyof ReconcileResult> {
  const scene = code.sceneId !== null ? { sceneId: code.sceneId } : { sceneStr: code.sceneStr! };
  let ticket;
  try {
    ticket = await deps.qrcodes.createPermanent(scene);
  } catch (err) {
    if (err instanceof QrQuotaExceededError || err instanceof InvalidArgumentError) return release(deps, code);
    deps.logger.warn({ err, qrcodeId: code.id }, "could not reconcile a permanent code reservation now; will try again");
    return "pending";
  }
  await deps.db.transaction(async (sql) => {
    await codes.activateQrCode(sql, code.id, { ticket: ticket.ticket, url: ticket.url, expiresAt: null });
    if (code.ownerKind === "channel" && code.ownerId) await channels.attachUnfinishedChannelCode(sql, deps.accountId, code.ownerId, code.id);
    if (code.ownerKind === "follower" && code.ownerId) await referrals.attachUnfinishedReferralCode(sql, deps.accountId, code.ownerId, code.id);
  });
  return "completed";
}

async function release(deps: ReconcileDeps, code: codes.QrCodeRow): Promise<keyof ReconcileResult> {
  const released = await deps.db.transaction(async (sql) => {
    const done = await codes.abandonReservation(sql, deps.accountId, { id: code.id, type: code.type, sceneKey: codes.sceneKey(code) });
    if (done && code.ownerKind === "channel" && code.ownerId) await channels.deleteUnfinishedChannel(sql, deps.accountId, code.ownerId);
    return done;
  });
  return released ? "released" : "pending";
}

/**
 * Reconciles now (everything, as at start) and then every `everyMs` until `signal` aborts.
 * Failures are logged, never thrown: a database or WeChat outage must not stop the service.
 */
export async function runCodeReconciler(deps: ReconcileDeps & { timer: Timer }, signal: AbortSignal, everyMs = RECONCILE_EVERY_MS): Promise<void> {
  let permanentAfterMs = 0;
  while (!signal.aborted) {
    try {
      await reconcileCodes(deps, { permanentAfterMs });
    } catch (err) {
      deps.logger.warn({ err }, "reconciling code reservations failed; will try again");
    }
    permanentAfterMs = RECONCILE_GRACE_MS;
    await deps.timer.delay(everyMs, signal);
  }
}
