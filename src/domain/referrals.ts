/**
 * Referrals (the seed's "invite a friend"): each follower's personal code and the leaderboard.
 *
 * A personal code is made once per follower, also when many requests ask at once: the first
 * caller claims the follower's `referral_codes` row *before* WeChat is asked; concurrent callers
 * in this process share its promise, and callers in other processes wait for the row to get its
 * code (or take over a claim whose holder has been silent for `CLAIM_STALE_MS`). The code is
 * permanent while the permanent quota has more than `permanentReserve` left, otherwise a 30-day
 * temporary code, replaced by a new one when a request finds it expired (or about to).
 * Attribution itself is `referralHooks`, in the push's transaction.
 * @module
 */
import type { Clock, Random } from "../deps.ts";
import { QrQuotaExceededError, QuotaExhaustedError, ValidationError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import * as referrals from "../store/referrals.ts";
import * as codesStore from "../store/codes.ts";
import { EXPIRE_SECONDS_MAX } from "../wechat/qr-ticket.ts";
import type { CodeService, QrCodeRow } from "./codes.ts";
import { dayEndInZone, dayStartInZone } from "./days.ts";
import type { NewMeans } from "./followers.ts";

export const DEFAULT_REFERRAL_PERMANENT_RESERVE = 1_000;
/** A temporary code with less left than this is replaced: a code shared today must still work tomorrow. */
export const REFERRAL_RENEW_BEFORE_MS = 86_400_000;
/** A claim this old belongs to a caller that died (WeChat calls time out far sooner). */
export const CLAIM_STALE_MS = 60_000;
const WAIT_STEP_MS = 50;
const LEADERBOARD_LIMIT_DEFAULT = 100;
export const LEADERBOARD_LIMIT_MAX = 1_000;
const OPEN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export interface ReferralServiceDeps {
  db: Database;
  codes: CodeService;
  accountId: string;
  timeZone: string;
  /** Personal codes are permanent only while more than this many permanent codes are left. */
  permanentReserve: number;
  newMeans: () => Promise<NewMeans>;
  clock: Clock;
  random: Random;
}

export interface LeaderboardEntry {
  openId: string;
  invitees: number;
}

export interface Leaderboard {
  leaders: LeaderboardEntry[];
  /** Referrals count only new followers; this says what "new" means so far. */
  newMeans: NewMeans;
}

export interface ReferralService {
  /** The follower's personal code: the same one for the same openId while it lives. */
  codeFor(openId: string): Promise<QrCodeRow>;
  /**
   * Invitees per inviter, most first, then by openId; counting the referrals made within
   * `[from, to]`, each an instant (epoch ms) or a whole day (`YYYY-MM-DD`) in the account's zone.
   */
  leaderboard(options?: { from?: number | string | undefined; to?: number | string | undefined; limit?: number | undefined }): Promise<Leaderboard>;
}

export function checkOpenId(openId: unknown): string {
  if (typeof openId !== "string" || !OPEN_ID_RE.test(openId)) throw new ValidationError("openId", "must be 1 to 64 letters, digits, _ or -");
  return openId;
}

export function createReferralService(deps: ReferralServiceDeps): ReferralService {
  const { db, accountId, clock } = deps;
  if (!Number.isSafeInteger(deps.permanentReserve) || deps.permanentReserve < 0)
    throw new ValidationError("referralPermanentReserve", "must be a whole number ≥ 0");
  const inFlight = new Map<string, Promise<QrCodeRow>>();

  const usable = (code: QrCodeRow | undefined): code is QrCodeRow =>
    code !== undefined && code.ticket !== null && (code.expiresAt === null || code.expiresAt - REFERRAL_RENEW_BEFORE_MS > clock.now());

  async function create(openId: string): Promise<QrCodeRow> {
    const owner = { kind: "follower" as const, id: openId };
    const label = `referral: ${openId}`;
    const quota = await deps.codes.quota();
    if (quota.permanent.remaining > deps.permanentReserve) {
      try {
        return await deps.codes.create({ type: "permanent", owner, label });
      } catch (err) {
        // Someone else took the last ones meanwhile: fall through to a temporary code.
        if (!(err instanceof QuotaExhaustedError) && !(err instanceof QrQuotaExceededError)) throw err;
      }
    }
    return deps.codes.create({ type: "temporary", expireSeconds: EXPIRE_SECONDS_MAX, owner, label });
  }

  async function obtain(openId: string): Promise<QrCodeRow> {
    for (;;) {
      const now = clock.now();
      const { row, code } = await db.read(async (sql) => {
        const row = await referrals.getReferralCode(sql, accountId, openId);
        const code = row?.qrcodeId ? await codesStore.getQrCode(sql, accountId, row.qrcodeId) : undefined;
        return { row, code };
      });
      if (usable(code)) return code;
      const claim = deps.random.uuid();
      const won = await db.transaction((sql) =>
        row
          ? referrals.claimReferralCodeRenewal(sql, { accountId, openId, seenQrcodeId: row.qrcodeId, claim, now, staleBefore: now - CLAIM_STALE_MS })
          : referrals.claimNewReferralCode(sql, accountId, openId, claim, now),
      );
      if (!won) {
        // Another process is making this follower's code: wait for it.
        await clock.sleep(WAIT_STEP_MS);
        continue;
      }
      let made: QrCodeRow;
      try {
        made = await create(openId);
      } catch (err) {
        await db.transaction((sql) => referrals.releaseReferralCode(sql, accountId, openId, claim));
        throw err;
      }
      // If a stale-claim takeover beat us, its code is the follower's; ours still attributes to them.
      await db.transaction((sql) => referrals.fulfilReferralCode(sql, accountId, openId, claim, made.id));
      return made;
    }
  }

  return {
    codeFor(openId) {
      checkOpenId(openId);
      let pending = inFlight.get(openId);
      if (!pending) {
        pending = obtain(openId).finally(() => inFlight.delete(openId));
        inFlight.set(openId, pending);
      }
      return pending;
    },
    async leaderboard(options = {}) {
      const limit = options.limit ?? LEADERBOARD_LIMIT_DEFAULT;
      if (!Number.isInteger(limit) || limit < 1 || limit > LEADERBOARD_LIMIT_MAX)
        throw new ValidationError("limit", `must be a whole number from 1 to ${LEADERBOARD_LIMIT_MAX}`);
      const from = typeof options.from === "string" ? dayStartInZone(options.from, deps.timeZone) : (options.from ?? 0);
      const toExclusive =
        typeof options.to === "string" ? dayEndInZone(options.to, deps.timeZone) : options.to === undefined ? Number.MAX_SAFE_INTEGER : options.to + 1;
      if (from >= toExclusive) throw new ValidationError("from", "must not be after `to`");
      const leaders = await db.read((sql) => referrals.leaderboard(sql, accountId, from, toExclusive, limit));
      return { leaders, newMeans: await deps.newMeans() };
    },
  };
}
