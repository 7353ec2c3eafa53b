/**
 * Scan-to-login / bind sessions (扫码登录 / 绑定). The site's backend creates a session; the
 * browser holds only its secret and shows its code; a scan by a WeChat user makes the session
 * `scanned` (and, with `confirm`, `confirmed` once that user replies `1`). Invariant 7: the result
 * is given only to the secret's holder, never after the session expires, and with `confirm` only
 * after the scanner confirms.
 *
 * Codes come from a pool, so a busy login page does not spend one `qrcode/create` per session
 * (the platform allows 100,000 a day). A pooled code is a 30-day temporary `QR_STR_SCENE` code
 * with a random scene string, owned by its pool row; it is handed to the next session only after
 * the previous one has ended *and* a cool-down has passed, and a scan attaches only to a pending,
 * unexpired session that was created before the scan: a stale screenshot logs nobody in.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { systemTimer, type Clock, type Logger, type Random, type Timer } from "../deps.ts";
import { ClientRateLimitedError, ConfigError, ValidationError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/scan-sessions.ts";
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
  /** How long a pooled code rests after its session ended before another session gets it. Default 60 s. */
  cooldownMs?: number;
  /** Life of each pooled code. Default 30 days (the platform's maximum), so each is reused many times. */
  codeExpireSeconds?: number;
  /** A code is handed out only if it outlives the session by this much; after that it is retired. Default 1 hour. */
  retireMarginMs?: number;
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
  cooldownMs: 60_000,
  codeExpireSeconds: 30 * 86_400,
  retireMarginMs: 60 * 60_000,
  createPerMinute: 30,
  pollMs: 1_000,
  heartbeatMs: 15_000,
} as const satisfies Required<ScanSessionOptions>;

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
  /** The hooks of owner kind "session" (pooled codes). */
  readonly hooks: OwnerHooks;
  /** Handles a scanner's reply `1` (PushContext.onOther). */
  readonly onOther: NonNullable<PushContext["onOther"]>;
  /** Call once the push with this dedupe key is committed: wakes the streams of the sessions it changed. */
  committed(dedupeKey: string): void;
  /** Pooled codes (for metrics and tests). */
  poolSize(): Promise<number>;
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
  for (const key of ["lifeMs", "codeExpireSeconds", "createPerMinute", "pollMs", "heartbeatMs"] as const) positive(key);
  if (!(o.cooldownMs >= 0)) problems.push({ key: "scanSessions.cooldownMs", message: "must not be negative" });
  if (!(o.retireMarginMs >= 0)) problems.push({ key: "scanSessions.retireMarginMs", message: "must not be negative" });
  if (o.lifeMs + o.retireMarginMs >= o.codeExpireSeconds * 1000) {
    problems.push({ key: "scanSessions.lifeMs", message: "a session plus the retire margin must be shorter than a pooled code's life" });
  }
  if (typeof o.siteName !== "string" || o.siteName.trim() === "") problems.push({ key: "scanSessions.siteName", message: "must not be empty" });
  else if (!isReplyText(o.siteName)) problems.push({ key: "scanSessions.siteName", message: `${REPLY_TEXT_RULE}: it is sent inside passive replies` });
  if (problems.length > 0) throw new ConfigError(problems);
  return o;
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
    if (input.confirm !== undefined && typeof input.confirm !== "boolean") throw new ValidationError("confirm", "must be a boolean");
    return { purpose: input.purpose, subject: input.subject ?? null, confirm: input.confirm ?? false };
  }

  function rateLimit(client: string, subject: string | null): void {
    const wait = Math.max(byClient.take(client), subject === null ? 0 : bySubject.take(subject));
    if (wait > 0) throw new ClientRateLimitedError("scan-session", wait);
  }

  async function create(input: CreateScanSessionInput): Promise<CreatedScanSession> {
    const { purpose, subject, confirm } = checkInput(input);
    rateLimit(input.client, subject);
    const id = newId("ss", random);
    const secret = base64url(random.bytes(SECRET_BYTES));
    const row = (poolCodeId: string, qrcodeId: string, createdAt: number): store.ScanSessionRow => ({
      id,
      accountId,
      purpose,
      subject,
      confirm,
      secretHash: sha256Hex(secret),
      status: "pending",
      poolCodeId,
      qrcodeId,
      openId: null,
      isNewFollower: null,
      createdAt,
      expiresAt: createdAt + o.lifeMs,
      scannedAt: null,
      confirmedAt: null,
      updatedAt: createdAt,
    });

    const now = clock.now();
    const claimed = await db.transaction(async (sql) => {
      if (now - lastSweep >= SWEEP_EVERY_MS) {
        lastSweep = now;
        await store.deleteSessionsExpiredBefore(sql, accountId, now - KEEP_EXPIRED_MS);
        await store.deleteExpiredPoolCodes(sql, accountId, now);
      }
      const pooled = await store.claimPoolCode(sql, {
        accountId,
        sessionId: id,
        now,
        holdUntil: now + o.lifeMs + o.cooldownMs,
        minCodeExpiry: now + o.lifeMs + o.retireMarginMs,
      });
      if (pooled) await store.insertSession(sql, row(pooled.id, pooled.qrcodeId, now));
      return pooled;
    });
    if (claimed) {
      const code = await codes.get(claimed.qrcodeId);
      if (!code) throw new Error(`pooled code ${claimed.qrcodeId} has no qrcodes row`);
      return { id, secret, qrcode: code, purpose, subject, confirm, expiresAt: now + o.lifeMs };
    }

    // No free code: grow the pool by one, held by this session from the start.
    const poolId = newId("sp", random);
    const code = await codes.create({
      type: "temporary",
      sceneStr: base64url(random.bytes(SCENE_BYTES)),
      expireSeconds: o.codeExpireSeconds,
      label: "scan-session pool",
      owner: { kind: "session", id: poolId },
    });
    const createdAt = clock.now();
    const session = row(poolId, code.id, createdAt);
    await db.transaction(async (sql) => {
      await store.insertPoolCode(sql, {
        id: poolId,
        accountId,
        qrcodeId: code.id,
        codeExpiresAt: code.expiresAt ?? code.createdAt + o.codeExpireSeconds * 1000,
        sessionId: id,
        freeAt: session.expiresAt + o.cooldownMs,
        createdAt,
      });
      await store.insertSession(sql, session);
    });
    return { id, secret, qrcode: code, purpose, subject, confirm, expiresAt: session.expiresAt };
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
      const pooled = await store.getPoolCode(sql, ctx.accountId, code.ownerId);
      if (!pooled?.sessionId) return;
      const session = await store.getSession(sql, ctx.accountId, pooled.sessionId);
      if (!session || session.status !== "pending") return;
      // Only a scan made while this session lived counts. CreateTime has whole seconds, so the
      // session's start is rounded down; a cool-down of seconds keeps a stale scan out anyway.
      if (at >= session.expiresAt || at < Math.floor(session.createdAt / 1000) * 1000) return;
      const now = clock.now();
      if (!(await store.markScanned(sql, ctx.accountId, session.id, { openId: message.openId, isNewFollower, at, now }))) return;
      // The code is done with this session: a confirmation goes by the scanner, not the code.
      await store.releasePoolCode(sql, ctx.accountId, pooled.id, session.id, now + o.cooldownMs);
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
    poolSize: () => db.read((sql) => store.countPoolCodes(sql, accountId)),
  };
}

function confirmPrompt(purpose: ScanSessionPurpose, siteName: string): string {
  const what = purpose === "login" ? `log in to ${siteName}` : `bind your WeChat to your account on ${siteName}`;
  return `You scanned a code to ${what}. Reply 1 to confirm. If you did not ask for this, ignore this message.`;
}
