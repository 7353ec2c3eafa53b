/**
 * The options of scan sessions, their defaults, and the checks made once when the service is
 * built, so a bad value fails at start rather than on the first session.
 * @module
 */
import { ConfigError } from "../errors.ts";
import { EXPIRE_SECONDS_MAX, EXPIRE_SECONDS_MIN } from "../wechat/qr-ticket.ts";
import { isReplyText, REPLY_TEXT_RULE } from "./reply-text.ts";

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

export type ResolvedScanSessionOptions = Required<ScanSessionOptions>;

export const SCAN_SESSION_DEFAULTS = {
  siteName: "this site",
  lifeMs: 5 * 60_000,
  codeMarginMs: 60_000,
  warmCodes: 2,
  warmShelfMs: 15 * 60_000,
  createPerMinute: 30,
  pollMs: 1_000,
  heartbeatMs: 15_000,
} as const satisfies ResolvedScanSessionOptions;

/** More would only waste codes when traffic stops: each is a `qrcode/create` made ahead. */
export const WARM_CODES_MAX = 100;

/** The options with their defaults; every problem is reported at once, as a ConfigError. */
export function resolveScanSessionOptions(options: ScanSessionOptions): ResolvedScanSessionOptions {
  const o = { ...SCAN_SESSION_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ResolvedScanSessionOptions;
  const problems: Array<{ key: string; message: string }> = [];
  const positive = (key: keyof ScanSessionOptions): void => {
    const v = o[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
      problems.push({ key: `scanSessions.${key}`, message: `must be a positive number, got ${String(v)}` });
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
export function codeSeconds(o: ResolvedScanSessionOptions, shelfMs: number): number {
  return Math.max(EXPIRE_SECONDS_MIN, Math.ceil((o.lifeMs + o.codeMarginMs + shelfMs) / 1000));
}
