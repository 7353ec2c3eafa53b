/**
 * Making scan sessions: each gets a fresh temporary `QR_STR_SCENE` code with a random scene,
 * owned by the session and never handed to another one (issue #8: a code reused by a later
 * session let whoever kept its image scan that session). Each session thus costs one
 * `qrcode/create` of the account's 100,000 a day; to keep creation from waiting on the platform,
 * a few codes may be made ahead (the warm stock), and each of those is taken by one session only.
 * @module
 */
import type { Clock, Logger, Random } from "../deps.ts";
import { ClientRateLimitedError, RateLimitError, ScanSessionQuotaError, ValidationError } from "../errors.ts";
import { handOverQrCode } from "../store/codes.ts";
import type { Database, Sql } from "../store/database.ts";
import * as store from "../store/scan-sessions.ts";
import type { CodeService, QrCodeRow } from "./codes.ts";
import { newId } from "./ids.ts";
import { codeSeconds, type ResolvedScanSessionOptions } from "./scan-session-options.ts";
import { hashSecret, type ScanSessionPurpose } from "./scan-session-reading.ts";
import { createTokenBuckets } from "./token-bucket.ts";

export interface CreateScanSessionInput {
  purpose: ScanSessionPurpose;
  /** The site's own reference (e.g. the account to bind); handed back with the result. */
  subject?: string | undefined;
  /** Ask the scanner to reply `1` before the session completes. */
  confirm?: boolean | undefined;
  /** Who asked, for rate limiting: the browser's address when the backend relays it, else the caller's. */
  client: string;
}

export interface CreatedScanSession {
  id: string;
  /** Shown once; only its SHA-256 is stored. */
  secret: string;
  qrcode: QrCodeRow;
  purpose: ScanSessionPurpose;
  subject: string | null;
  confirm: boolean;
  expiresAt: number;
}

export interface ScanSessionMaker {
  create(input: CreateScanSessionInput): Promise<CreatedScanSession>;
  /**
   * Tops the warm stock up to `warmCodes` (creating a session starts this in the background
   * after taking from it); joins a top-up already running. Resolves with the codes it made.
   */
  refillWarmCodes(): Promise<number>;
  /** Warm codes that can still outlive a session (for metrics and tests). */
  warmStock(): Promise<number>;
  /** Waits for a background top-up of the warm stock to end (before closing the database). */
  settled(): Promise<void>;
}

// Expired sessions are forgotten a day later; the sweep runs at most once a minute.
const KEEP_EXPIRED_MS = 86_400_000;
const SWEEP_EVERY_MS = 60_000;
const SUBJECT_MAX = 256;
const SECRET_BYTES = 32; // 256 bits
const SCENE_BYTES = 24; // 32 base64url characters: unguessable, within scene_str's 64
const DAILY_QUOTA_ERRCODE = 45009; // wechat-api.md §1: the daily qrcode/create quota is used up

// Control characters (C0, DEL, C1) and unpaired surrogates (which neither engine stores as given).
const NOT_PLAIN_RE = /[\p{Cc}\p{Cs}]/u;
const isPlainText = (s: string): boolean => !NOT_PLAIN_RE.test(s);

const base64url = (b: Uint8Array): string => Buffer.from(b).toString("base64url");

/** WeChat's daily quotas reset at midnight Beijing time (UTC+8, no daylight saving). */
function msUntilBeijingMidnight(now: number): number {
  const day = 86_400_000;
  const beijing = now + 8 * 3_600_000;
  return day - (((beijing % day) + day) % day);
}

function checkInput(input: CreateScanSessionInput): { purpose: ScanSessionPurpose; subject: string | null; confirm: boolean } {
  if (input.purpose !== "login" && input.purpose !== "bind") throw new ValidationError("purpose", 'must be "login" or "bind"');
  if (input.subject !== undefined && (typeof input.subject !== "string" || input.subject.length < 1 || input.subject.length > SUBJECT_MAX)) {
    throw new ValidationError("subject", `must be a string of 1 to ${SUBJECT_MAX} characters`);
  }
  // PostgreSQL refuses NUL in text where SQLite stores it: refused here, both engines behave alike.
  if (input.subject !== undefined && !isPlainText(input.subject))
    throw new ValidationError("subject", "must not contain control characters or unpaired surrogates");
  if (input.confirm !== undefined && typeof input.confirm !== "boolean") throw new ValidationError("confirm", "must be a boolean");
  return { purpose: input.purpose, subject: input.subject ?? null, confirm: input.confirm ?? false };
}

export function createScanSessionMaker(
  o: ResolvedScanSessionOptions,
  deps: { db: Database; codes: CodeService; accountId: string; clock: Clock; random: Random; logger: Logger },
): ScanSessionMaker {
  const { db, codes, accountId, clock, random } = deps;
  const byClient = createTokenBuckets({ perMinute: o.createPerMinute, clock });
  const bySubject = createTokenBuckets({ perMinute: o.createPerMinute, clock });
  let lastSweep = -Infinity;

  function rateLimit(client: string, subject: string | null): void {
    const wait = Math.max(byClient.take(client), subject === null ? 0 : bySubject.take(subject));
    if (wait > 0) throw new ClientRateLimitedError("scan-session", wait);
  }

  /** A new temporary code with a random scene, owned by `ownerId` (a session, or a warm-stock row), and when it ends. */
  async function newCode(ownerId: string, shelfMs: number, label: string): Promise<{ code: QrCodeRow; endsAt: number }> {
    try {
      const code = await codes.create({
        type: "temporary",
        sceneStr: base64url(random.bytes(SCENE_BYTES)),
        expireSeconds: codeSeconds(o, shelfMs),
        label,
        owner: { kind: "session", id: ownerId },
      });
      return { code, endsAt: code.expiresAt ?? code.createdAt + codeSeconds(o, shelfMs) * 1000 };
    } catch (err) {
      if (err instanceof RateLimitError && err.errcode === DAILY_QUOTA_ERRCODE) throw new ScanSessionQuotaError(msUntilBeijingMidnight(clock.now()), err);
      throw err;
    }
  }

  async function sweep(sql: Sql, now: number): Promise<void> {
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    await store.deleteSessionsExpiredBefore(sql, accountId, now - KEEP_EXPIRED_MS);
  }

  async function create(input: CreateScanSessionInput): Promise<CreatedScanSession> {
    const { purpose, subject, confirm } = checkInput(input);
    rateLimit(input.client, subject);
    const id = newId("ss", random);
    const secret = base64url(random.bytes(SECRET_BYTES));
    const row = (code: { id: string; expiresAt: number }, createdAt: number): store.ScanSessionRow => ({
      id,
      accountId,
      purpose,
      subject,
      confirm,
      secretHash: hashSecret(secret),
      status: "pending",
      qrcodeId: code.id,
      openId: null,
      isNewFollower: null,
      createdAt,
      // Never past its code's end: a slow qrcode/create may have eaten into the margin.
      expiresAt: Math.min(createdAt + o.lifeMs, code.expiresAt),
      scannedAt: null,
      confirmedAt: null,
      updatedAt: createdAt,
    });

    // A warm code first: it moves from its stock row to this session in one transaction.
    const now = clock.now();
    const taken = await db.transaction(async (sql) => {
      await sweep(sql, now);
      const warm = await store.takeWarmCode(sql, accountId, now + o.lifeMs + o.codeMarginMs);
      if (!warm) return undefined;
      if (!(await handOverQrCode(sql, { accountId, id: warm.qrcodeId, ownerKind: "session", from: warm.id, to: id }))) {
        throw new Error(`warm code ${warm.qrcodeId} is not owned by its stock row ${warm.id}`);
      }
      const session = row({ id: warm.qrcodeId, expiresAt: warm.codeExpiresAt }, now);
      await store.insertSession(sql, session);
      return session;
    });
    if (taken) {
      refillInBackground();
      const code = await codes.get(taken.qrcodeId);
      if (!code) throw new Error(`warm code ${taken.qrcodeId} has no qrcodes row`);
      return { id, secret, qrcode: code, purpose, subject, confirm, expiresAt: taken.expiresAt };
    }

    // None warm: a fresh code, made for this session alone.
    const { code, endsAt } = await newCode(id, 0, "scan session");
    const session = row({ id: code.id, expiresAt: endsAt }, clock.now());
    await db.transaction((sql) => store.insertSession(sql, session));
    refillInBackground();
    return { id, secret, qrcode: code, purpose, subject, confirm, expiresAt: session.expiresAt };
  }

  // --- the warm stock ---
  let refilling: Promise<number> | undefined;

  async function refill(): Promise<number> {
    const minCodeExpiry = (): number => clock.now() + o.lifeMs + o.codeMarginMs;
    await db.transaction((sql) => store.discardWarmCodesExpiringBefore(sql, accountId, minCodeExpiry()));
    // One code at a time, counting again after each: sessions take from the stock meanwhile. The
    // bound ends a top-up that sessions outpace; the next session starts another.
    for (let made = 0; made < 2 * o.warmCodes; made++) {
      if ((await db.read((sql) => store.countWarmCodes(sql, accountId, minCodeExpiry()))) >= o.warmCodes) return made;
      const stockId = newId("sw", random);
      const { code, endsAt } = await newCode(stockId, o.warmShelfMs, "scan session (warm)");
      const warm = { id: stockId, accountId, qrcodeId: code.id, codeExpiresAt: endsAt, createdAt: clock.now() };
      await db.transaction((sql) => store.insertWarmCode(sql, warm));
    }
    return 2 * o.warmCodes;
  }

  function refillWarmCodes(): Promise<number> {
    refilling ??= refill().finally(() => {
      refilling = undefined;
    });
    return refilling;
  }

  function refillInBackground(): void {
    if (o.warmCodes === 0) return;
    refillWarmCodes().catch((err: unknown) => deps.logger.warn({ err }, "scan sessions: topping up the warm codes failed"));
  }

  return {
    create,
    refillWarmCodes,
    warmStock: () => db.read((sql) => store.countWarmCodes(sql, accountId, clock.now() + o.lifeMs + o.codeMarginMs)),
    async settled() {
      await refilling?.catch(() => {});
    },
  };
}
