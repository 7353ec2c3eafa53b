/**
 * Access-token rules (wechat-api.md §7), as pure functions over the state and the
 * emulator's `now`:
 * - classic `cgi-bin/token`: every call issues a new token; the previous one keeps working
 *   for a 5-minute overlap, then answers 40001 ("not latest").
 * - `cgi-bin/stable_token`: the same token while it has ≥ 300 s left; below that a call gets a
 *   fresh one and the old one lives out its own expiry. `force_refresh` invalidates the current
 *   token at once, at most 20 times a day and 30 s apart; otherwise it is a plain call.
 * - Stable and classic tokens are isolated from each other; both work for business APIs.
 * @module
 */
import type { Random } from "../deps.ts";
import { shanghaiDay } from "./shanghai-day.ts";
import type { EmulatorState, IssuedToken, TokenKind } from "./state.ts";

export const CLASSIC_OVERLAP_MS = 300_000; // the old classic token still works 5 min after a new one
export const STABLE_ROTATE_BEFORE_MS = 300_000; // stable tokens are replaced when < 5 min are left
export const FORCE_REFRESH_PER_DAY = 20; // SVC-STABLE: force_refresh at most 20 times a day…
export const FORCE_REFRESH_SPACING_MS = 30_000; // …and at least 30 s apart

const TOKEN_RANDOM_BYTES = 99; // → 132 base64url characters, plus a prefix: ~136, like real tokens
const TOKEN_PREFIX = "86_"; // real tokens start with a small decimal number and "_"

/** A realistic opaque token: `86_` + 132 characters of `[A-Za-z0-9_-]`. */
export function generateToken(random: Random): string {
  return TOKEN_PREFIX + Buffer.from(random.bytes(TOKEN_RANDOM_BYTES)).toString("base64url");
}

function ttlMs(state: EmulatorState): number {
  return state.config.tokenTtlSeconds * 1000;
}

/** Rotation margin, shrunk for tiny test TTLs so a fresh token is not rotated at once. */
function stableRotateBeforeMs(state: EmulatorState): number {
  return Math.min(STABLE_ROTATE_BEFORE_MS, Math.floor(ttlMs(state) / 2));
}

function issue(state: EmulatorState, kind: TokenKind, now: number, random: Random): IssuedToken {
  let token = generateToken(random);
  while (state.tokens.has(token)) token = generateToken(random);
  const record: IssuedToken = { token, kind, issuedAt: now, expiresAt: now + ttlMs(state) };
  state.tokens.set(token, record);
  if (kind === "classic") state.currentClassicToken = token;
  else state.currentStableToken = token;
  return record;
}

function invalidate(record: IssuedToken, at: number): void {
  record.invalidAfter = Math.min(record.invalidAfter ?? Number.POSITIVE_INFINITY, at);
}

export type TokenCheck = { ok: true; record: IssuedToken } | { ok: false; errcode: 41001 | 40001 | 42001 };

/**
 * What a business API makes of `access_token`: 41001 missing, 40001 unknown / superseded /
 * revoked, 42001 expired (whichever of the last two happened first).
 */
export function checkAccessToken(state: EmulatorState, token: string | undefined, now: number): TokenCheck {
  if (token === undefined || token === "") return { ok: false, errcode: 41001 };
  const record = state.tokens.get(token);
  if (record === undefined) return { ok: false, errcode: 40001 };
  const { invalidAfter, expiresAt } = record;
  if (invalidAfter !== undefined && invalidAfter < expiresAt && now >= invalidAfter) return { ok: false, errcode: 40001 };
  if (now >= expiresAt) return { ok: false, errcode: 42001 };
  return { ok: true, record };
}

export interface IssuedAnswer {
  token: string;
  /** What `expires_in` says: whole seconds left. */
  expiresInSec: number;
}

const answer = (record: IssuedToken, now: number): IssuedAnswer => ({
  token: record.token,
  expiresInSec: Math.floor((record.expiresAt - now) / 1000),
});

/** `GET /cgi-bin/token`: a new token; the previous classic one dies after the overlap. */
export function issueClassicToken(state: EmulatorState, now: number, random: Random): IssuedAnswer {
  const previous = state.currentClassicToken === undefined ? undefined : state.tokens.get(state.currentClassicToken);
  if (previous !== undefined) invalidate(previous, now + CLASSIC_OVERLAP_MS);
  return answer(issue(state, "classic", now, random), now);
}

function currentStable(state: EmulatorState, now: number): IssuedToken | undefined {
  const check = checkAccessToken(state, state.currentStableToken, now);
  return check.ok ? check.record : undefined;
}

function mayForceRefresh(state: EmulatorState, now: number): boolean {
  const day = shanghaiDay(now);
  if (state.forceRefresh.day !== day) state.forceRefresh = { day, count: 0, lastAt: state.forceRefresh.lastAt };
  const { count, lastAt } = state.forceRefresh;
  return count < FORCE_REFRESH_PER_DAY && (lastAt === undefined || now - lastAt >= FORCE_REFRESH_SPACING_MS);
}

/** `POST /cgi-bin/stable_token`. */
export function getStableToken(state: EmulatorState, forceRefresh: boolean, now: number, random: Random): IssuedAnswer {
  const current = currentStable(state, now);
  if (forceRefresh && mayForceRefresh(state, now)) {
    if (current !== undefined) invalidate(current, now);
    state.forceRefresh.count += 1;
    state.forceRefresh.lastAt = now;
    return answer(issue(state, "stable", now, random), now);
  }
  if (current === undefined || current.expiresAt - now < stableRotateBeforeMs(state)) {
    return answer(issue(state, "stable", now, random), now);
  }
  return answer(current, now);
}

/** `POST /emulator/tokens/revoke`: every token issued so far answers 40001 from now on. */
export function revokeAllTokens(state: EmulatorState, now: number): number {
  let revoked = 0;
  for (const record of state.tokens.values()) {
    if (checkAccessToken(state, record.token, now).ok) revoked += 1;
    invalidate(record, now);
  }
  state.currentClassicToken = undefined;
  state.currentStableToken = undefined;
  return revoked;
}
