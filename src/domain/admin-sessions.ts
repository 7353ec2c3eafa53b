/**
 * Dashboard sign-in sessions (issue #10): the admin token is exchanged once for a random session
 * id that the browser keeps in an HttpOnly cookie, so the token itself never stays in the page.
 * Sessions live in the database, so every instance honours them and signing out on one ends the
 * session on all. Only HMAC(key, id) is stored, keyed by the admin token: the database alone
 * cannot be turned into a cookie, and changing the token ends every session.
 * @module
 */
import { createHmac } from "node:crypto";
import type { Clock, Random } from "../deps.ts";
import * as store from "../store/admin-sessions.ts";
import type { Database } from "../store/database.ts";

const HOUR_MS = 3_600_000;

export const ADMIN_SESSION_DEFAULTS = {
  /** Unused for this long, a session ends. */
  idleMs: 12 * HOUR_MS,
  /** However often it is used, a session ends this long after sign-in. */
  maxAgeMs: 7 * 24 * HOUR_MS,
} as const;

// A dashboard reads often (polling, streams): a write per request would make every read cost a
// write, so the idle clock is restarted at most once a minute per session. A session may thus
// end up to a minute before its idle limit, never after.
const TOUCH_EVERY_MS = 60_000;

// 256 bits, base64url: unguessable, and a cookie value needs no escaping.
const ID_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface AdminSessionOptions {
  /** What sessions are bound to: the admin token. Changing it ends every session. */
  key: string;
  idleMs?: number;
  maxAgeMs?: number;
}

export interface AdminSessionDeps {
  db: Database;
  accountId: string;
  clock: Clock;
  random: Random;
}

export interface OpenedAdminSession {
  /** The cookie's value; shown only here, never stored. */
  id: string;
  /** The latest end (epoch ms); the idle limit may end it sooner. */
  expiresAt: number;
}

export interface AdminSessionService {
  /** Starts a session; the caller has checked the admin token. */
  open(): Promise<OpenedAdminSession>;
  /** True while the session lives; using it restarts its idle clock. */
  check(id: string): Promise<boolean>;
  /** Ends the session, on every instance; ending an unknown one is not an error. */
  end(id: string): Promise<void>;
}

/**
 * @example
 * const sessions = createAdminSessionService({ key: adminToken }, { db, accountId, clock, random });
 * const { id } = await sessions.open(); // set as the cookie
 * await sessions.check(id); // true
 */
export function createAdminSessionService(options: AdminSessionOptions, deps: AdminSessionDeps): AdminSessionService {
  const { db, accountId, clock, random } = deps;
  const idleMs = options.idleMs ?? ADMIN_SESSION_DEFAULTS.idleMs;
  const maxAgeMs = options.maxAgeMs ?? ADMIN_SESSION_DEFAULTS.maxAgeMs;
  const hash = (id: string): string => createHmac("sha256", options.key).update(id).digest("hex");

  return {
    async open() {
      const now = clock.now();
      const id = Buffer.from(random.bytes(ID_BYTES)).toString("base64url");
      const expiresAt = now + maxAgeMs;
      await db.transaction(async (sql) => {
        // Sign-ins are rare: a good moment to forget the sessions that have ended.
        await store.deleteEndedAdminSessions(sql, accountId, now, now - idleMs);
        await store.insertAdminSession(sql, { idHash: hash(id), accountId, createdAt: now, lastSeenAt: now, expiresAt });
      });
      return { id, expiresAt };
    },

    async check(id) {
      if (!ID_PATTERN.test(id)) return false;
      const idHash = hash(id);
      const row = await db.read((sql) => store.getAdminSession(sql, accountId, idHash));
      if (!row) return false;
      const now = clock.now();
      if (now >= row.expiresAt || now - row.lastSeenAt >= idleMs) {
        await db.transaction((sql) => store.deleteAdminSession(sql, accountId, idHash));
        return false;
      }
      if (now - row.lastSeenAt >= TOUCH_EVERY_MS) await db.transaction((sql) => store.touchAdminSession(sql, accountId, idHash, now));
      return true;
    },

    async end(id) {
      if (!ID_PATTERN.test(id)) return;
      await db.transaction((sql) => store.deleteAdminSession(sql, accountId, hash(id)));
    },
  };
}
