/**
 * Scan-to-login / bind sessions (扫码登录 / 绑定). The site's backend creates a session; the
 * browser holds only its secret and shows its code; a scan by a WeChat user makes the session
 * `scanned` (and, with `confirm`, `confirmed` once that user replies `1`). Invariant 7: the result
 * is given only to the secret's holder, never after the session expires, with `confirm` only
 * after the scanner confirms, and a session's code belongs to it alone.
 *
 * Every session gets a fresh temporary `QR_STR_SCENE` code with a random scene, owned by the
 * session and never handed to another one (issue #8: a code reused by a later session let
 * whoever kept its image scan that session). A scan counts only for the session its code was
 * made for, while that session is pending and alive. Each session thus costs one
 * `qrcode/create` of the account's 100,000 a day; to keep creation from waiting on the platform,
 * a few codes may be made ahead (the warm stock), and each of those is taken by one session only.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { systemTimer, type Clock, type Logger, type Random, type Timer } from "../deps.ts";
import { ClientRateLimitedError, ConfigError, RateLimitError, ScanSessionQuotaError, ValidationError } from "../errors.ts";
import { handOverQrCode } from "../store/codes.ts";
import type { Database, Sql } from "../store/database.ts";
import * as store from "../store/scan-sessions.ts";
import { EXPIRE_SECONDS_MAX, EXPIRE_SECONDS_MIN } from "../wechat/qr-ticket.ts";
import type { CodeService, QrCodeRow } from "./codes.ts";
import { newId } from "./ids.ts";
import type { OwnerHooks, PushContext } from "./push-hooks.ts";
import { isReplyText, REPLY_TEXT_RULE } from "./reply-text.ts";
import { createTokenBuckets } from "./token-bucket.ts";

export type ScanSessionPurpose = store.SessionPurpose;
export type ScanSessionStatus = "pending" | "scanned" | "confirmed" | "expired";

export interface ScanSessionOptions {
  /** Named in the confirmation prompt the scanner receives. Default "this site". */
  siteName?: string;
  /** How long a session lives. Default 5 minutes. */
  lifeMs?: number;
  /** A session's code lives at least this long after the session ends. Default 60 s. */
  codeMarginMs?: number;
  /** Codes made ahead so creating a session need not wait on the platform; 0 makes none. Default 2. */
  warmCodes?: number;
  /** How long a warm code may wait to be taken: it is made to live this much longer than a session's code. Default 15 minutes. */
  warmShelfMs?: number;
  /** Session creations allowed per client address, and per subject, per minute (token bucket). Default 30. */
  createPerMinute?: number;
  /** How often open streams look for changes made by other instances. Default 1 s. */
  pollMs?: number;
  /** Idle time between SSE heartbeats. Default 15 s. */
  heartbeatMs?: number;
}

export const SCAN_SESSION_DEFAULTS = {
  siteName: "this site",
  lifeMs: 5 * 60_000,
  codeMarginMs: 60_000,
  warmCodes: 2,
  warmShelfMs: 15 * 60_000,
  createPerMinute: 30,
  pollMs: 1_000,
  heartbeatMs: 15_000,
} as const satisfies Required<ScanSessionOptions>;

/** More would only waste codes when traffic stops: each is a `qrcode/create` made ahead. */
export const WARM_CODES_MAX = 100;

export interface ScanSessionDeps {
  db: Database;
  codes: CodeService;
  accountId: string;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Real-time waits for streams (default: the system timer); never the possibly manual clock. */
  timer?: Timer | undefined;
}

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

export type ScanSessionAccess = { ok: true; view: ScanSessionView } | { ok: false; reason: "not_found" | "bad_secret" };

export type ScanSessionWatchItem = { type: "status"; view: ScanSessionView } | { type: "heartbeat" };

export interface ScanSessionService {
  create(input: CreateScanSessionInput): Promise<CreatedScanSession>;
  /** The session as its secret's holder sees it; the secret is compared in constant time. */
  read(id: string, secret: string): Promise<ScanSessionAccess>;
  /**
   * The session's views, one per change (the first at once), ending after a final one
   * (completed, confirmed or expired) or when `signal` aborts; heartbeats while idle.
   * Authorise with `read` first.
   */
  watch(id: string, signal: AbortSignal): AsyncGenerator<ScanSessionWatchItem>;
  /** The hooks of owner kind "session" (each session's own code). */
  readonly hooks: OwnerHooks;
  /** Handles a scanner's reply `1` (PushContext.onOther). */
  readonly onOther: NonNullable<PushContext["onOther"]>;
  /** Call once the push with this dedupe key is committed: wakes the streams of the sessions it changed. */
  committed(dedupeKey: string): void;
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

// Rows updated this long before the previous poll are read again: a writer's clock may lag
// ours a little, and its transaction may commit a little after it stamped the row.
const POLL_OVERLAP_MS = 5_000;
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

const sha256Hex = (s: string): string => createHash("sha256").update(s).digest("hex");
const base64url = (b: Uint8Array): string => Buffer.from(b).toString("base64url");

export function isFinal(view: ScanSessionView): boolean {
  return view.status === "expired" || view.status === "confirmed" || (view.status === "scanned" && !view.confirm);
}

function viewOf(row: store.ScanSessionRow, now: number): ScanSessionView {
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

function resolveOptions(options: ScanSessionOptions): Required<ScanSessionOptions> {
  const o = { ...SCAN_SESSION_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<ScanSessionOptions>;
  const problems: Array<{ key: string; message: string }> = [];
  const positive = (key: keyof ScanSessionOptions): void => {
    const v = o[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) problems.push({ key: `scanSessions.${key}`, message: `must be a positive number, got ${String(v)}` });
  };
  for (const key of ["lifeMs", "warmShelfMs", "createPerMinute", "pollMs", "heartbeatMs"] as const) positive(key);
  if (!(o.codeMarginMs >= 0)) problems.push({ key: "scanSessions.codeMarginMs", message: "must not be negative" });
  if (!Number.isInteger(o.warmCodes) || o.warmCodes < 0 || o.warmCodes > WARM_CODES_MAX) {
    problems.push({ key: "scanSessions.warmCodes", message: `must be a whole number from 0 to ${WARM_CODES_MAX}, got ${String(o.warmCodes)}` });
  }
  if (codeSeconds(o, o.warmShelfMs) > EXPIRE_SECONDS_MAX) {
    problems.push({ key: "scanSessions.warmShelfMs", message: "a session, the code margin and the warm shelf must fit in a temporary code's 30 days" });
  }
  if (typeof o.siteName !== "string" || o.siteName.trim() === "") problems.push({ key: "scanSessions.siteName", message: "must not be empty" });
  else if (!isReplyText(o.siteName)) problems.push({ key: "scanSessions.siteName", message: `${REPLY_TEXT_RULE}: it is sent inside passive replies` });
  if (problems.length > 0) throw new ConfigError(problems);
  return o;
}

/** The life to ask for a session's code: the session, the margin, and the time it may wait in stock. */
function codeSeconds(o: Required<ScanSessionOptions>, shelfMs: number): number {
  return Math.max(EXPIRE_SECONDS_MIN, Math.ceil((o.lifeMs + o.codeMarginMs + shelfMs) / 1000));
}

/** WeChat's daily quotas reset at midnight Beijing time (UTC+8, no daylight saving). */
function msUntilBeijingMidnight(now: number): number {
  const day = 86_400_000;
  const beijing = now + 8 * 3_600_000;
  return day - (((beijing % day) + day) % day);
}

export function createScanSessionService(deps: ScanSessionDeps, options: ScanSessionOptions = {}): ScanSessionService {
  const { db, codes, accountId, clock, random } = deps;
  const timer = deps.timer ?? systemTimer;
  const o = resolveOptions(options);
  const byClient = createTokenBuckets({ perMinute: o.createPerMinute, clock });
  const bySubject = createTokenBuckets({ perMinute: o.createPerMinute, clock });
  let lastSweep = -Infinity;

  // --- change notification: in-process after commit, plus polling for other instances ---
  const watchers = new Map<string, Set<() => void>>();
  const changedBy = new Map<string, string[]>(); // dedupe key → sessions its push changed (until committed)
  let poller: AbortController | undefined;

  function notify(id: string): void {
    for (const wake of watchers.get(id) ?? []) wake();
  }

  function noteChange(dedupeKey: string, sessionId: string): void {
    const ids = changedBy.get(dedupeKey) ?? [];
    ids.push(sessionId);
    changedBy.set(dedupeKey, ids);
  }

  async function poll(signal: AbortSignal): Promise<void> {
    let since = clock.now();
    // Versions already announced: the overlap reads a row again, which is no news.
    const seen = new Map<string, number>();
    while (!signal.aborted) {
      await timer.delay(o.pollMs, signal);
      if (signal.aborted) return;
      const now = clock.now();
      try {
        const rows = await db.read((sql) => store.sessionsUpdatedSince(sql, accountId, since - POLL_OVERLAP_MS));
        for (const [id, at] of seen) if (at < since - POLL_OVERLAP_MS) seen.delete(id);
        since = now;
        for (const r of rows) {
          if (seen.get(r.id) === r.updatedAt) continue;
          seen.set(r.id, r.updatedAt);
          notify(r.id);
        }
      } catch (err) {
        deps.logger.warn({ err }, "scan sessions: polling for changes failed");
      }
    }
  }

  function subscribe(id: string, wake: () => void): () => void {
    const set = watchers.get(id) ?? new Set();
    set.add(wake);
    watchers.set(id, set);
    if (!poller) {
      poller = new AbortController();
      void poll(poller.signal);
    }
    return () => {
      set.delete(wake);
      if (set.size === 0) watchers.delete(id);
      if (watchers.size === 0 && poller) {
        poller.abort();
        poller = undefined;
      }
    };
  }

  // --- creation ---
  function checkInput(input: CreateScanSessionInput): { purpose: ScanSessionPurpose; subject: string | null; confirm: boolean } {
    if (input.purpose !== "login" && input.purpose !== "bind") throw new ValidationError("purpose", 'must be "login" or "bind"');
    if (input.subject !== undefined && (typeof input.subject !== "string" || input.subject.length < 1 || input.subject.length > SUBJECT_MAX)) {
      throw new ValidationError("subject", `must be a string of 1 to ${SUBJECT_MAX} characters`);
    }
    // PostgreSQL refuses NUL in text where SQLite stores it: refused here, both engines behave alike.
    if (input.subject !== undefined && !isPlainText(input.subject)) throw new ValidationError("subject", "must not contain control characters or unpaired surrogates");
    if (input.confirm !== undefined && typeof input.confirm !== "boolean") throw new ValidationError("confirm", "must be a boolean");
    return { purpose: input.purpose, subject: input.subject ?? null, confirm: input.confirm ?? false };
  }

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
      secretHash: sha256Hex(secret),
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

  // --- reading ---
  async function read(id: string, secret: string): Promise<ScanSessionAccess> {
    const row = await db.read((sql) => store.getSession(sql, accountId, id));
    if (!row) return { ok: false, reason: "not_found" };
    const given = Buffer.from(sha256Hex(secret), "hex");
    if (!timingSafeEqual(given, Buffer.from(row.secretHash, "hex"))) return { ok: false, reason: "bad_secret" };
    return { ok: true, view: viewOf(row, clock.now()) };
  }

  async function* watch(id: string, signal: AbortSignal): AsyncGenerator<ScanSessionWatchItem> {
    let dirty = true;
    let beatDue = false;
    let wake: (() => void) | undefined;
    const unsubscribe = subscribe(id, () => {
      dirty = true;
      wake?.();
    });
    // The heartbeat is due after `heartbeatMs` without output, in real time.
    let beat = new AbortController();
    const armBeat = (): void => {
      beat.abort();
      const mine = new AbortController();
      beat = mine;
      void timer.delay(o.heartbeatMs, mine.signal).then(() => {
        if (mine.signal.aborted) return;
        beatDue = true;
        wake?.();
      });
    };
    armBeat();
    try {
      let last: string | undefined;
      let expiresAt = Infinity;
      while (!signal.aborted) {
        if (dirty) {
          dirty = false;
          const row = await db.read((sql) => store.getSession(sql, accountId, id));
          if (!row) return;
          expiresAt = row.expiresAt;
          const view = viewOf(row, clock.now());
          const key = JSON.stringify(view);
          if (key !== last) {
            last = key;
            armBeat();
            yield { type: "status", view };
          }
          if (isFinal(view)) return;
          continue;
        }
        if (beatDue) {
          beatDue = false;
          armBeat();
          yield { type: "heartbeat" };
          continue;
        }
        const stop = new AbortController();
        const onAbort = (): void => stop.abort();
        signal.addEventListener("abort", onAbort, { once: true });
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), timer.delay(o.pollMs, stop.signal)]);
        wake = undefined;
        stop.abort();
        signal.removeEventListener("abort", onAbort);
        // The clock may have passed the expiry with no change to the row.
        if (!dirty && clock.now() >= expiresAt) dirty = true;
      }
    } finally {
      beat.abort();
      unsubscribe();
    }
  }

  // --- the push's part ---
  const hooks: OwnerHooks = {
    async onScan(sql, ctx, { message, code, isNewFollower, at }) {
      if (!code.ownerId) return;
      const session = await store.getSession(sql, ctx.accountId, code.ownerId);
      // The code names its session and the session names its code: a code of the v3 pool, or one
      // still in the warm stock, reaches no session.
      if (!session || session.qrcodeId !== code.id || session.status !== "pending") return;
      // Only a scan made while this session lived counts (a warm code may have existed before its
      // session, though no one saw it). CreateTime has whole seconds, so the start is rounded down.
      if (at >= session.expiresAt || at < Math.floor(session.createdAt / 1000) * 1000) return;
      const now = clock.now();
      if (!(await store.markScanned(sql, ctx.accountId, session.id, { openId: message.openId, isNewFollower, at, now }))) return;
      await ctx.emit(sql, {
        kind: "session_scanned",
        openId: message.openId,
        at,
        key: message.dedupeKey,
        data: { sessionId: session.id, purpose: session.purpose, subject: session.subject, confirm: session.confirm, isNewFollower },
      });
      noteChange(message.dedupeKey, session.id);
      return session.confirm ? { replyText: confirmPrompt(session.purpose, o.siteName) } : undefined;
    },
  };

  const onOther: ScanSessionService["onOther"] = async (sql, ctx, message, at) => {
    const content = message.fields.Content?.trim();
    if (message.msgType !== "text" || (content !== "1" && content !== "１")) return;
    const session = await store.findAwaitingConfirmation(sql, ctx.accountId, message.openId, at);
    if (!session) return;
    if (!(await store.markConfirmed(sql, ctx.accountId, session.id, at, clock.now()))) return;
    noteChange(message.dedupeKey, session.id);
    return { replyText: session.purpose === "login" ? `Confirmed: you are logged in to ${o.siteName}.` : `Confirmed: your WeChat is now bound to your account on ${o.siteName}.` };
  };

  return {
    create,
    read,
    watch,
    hooks,
    onOther,
    committed(dedupeKey) {
      const ids = changedBy.get(dedupeKey);
      if (!ids) return;
      changedBy.delete(dedupeKey);
      for (const id of ids) notify(id);
    },
    refillWarmCodes,
    warmStock: () => db.read((sql) => store.countWarmCodes(sql, accountId, clock.now() + o.lifeMs + o.codeMarginMs)),
    async settled() {
      await refilling?.catch(() => {});
    },
  };
}

function confirmPrompt(purpose: ScanSessionPurpose, siteName: string): string {
  const what = purpose === "login" ? `log in to ${siteName}` : `bind your WeChat to your account on ${siteName}`;
  return `You scanned a code to ${what}. Reply 1 to confirm. If you did not ask for this, ignore this message.`;
}
