/**
 * Scan-to-login / bind sessions (扫码登录 / 绑定). The site's backend creates a session; the
 * browser holds only its secret and shows its code; a scan by a WeChat user makes the session
 * `scanned` (and, with `confirm`, `confirmed` once that user replies `1`). Invariant 7: the result
 * is given only to the secret's holder, never after the session expires, with `confirm` only
 * after the scanner confirms, and a session's code belongs to it alone.
 *
 * The service is assembled from one module per job: options (`scan-session-options.ts`),
 * creation and the warm stock of codes made ahead (`scan-session-creation.ts`), what the secret's
 * holder may read (`scan-session-reading.ts`), following a session live
 * (`scan-session-watch.ts`), and the push's part (`scan-session-push.ts`).
 * @module
 */
import type { Clock, Logger, Random, Timer } from "../deps.ts";
import type { Database } from "../store/database.ts";
import type { CodeService } from "./codes.ts";
import type { OwnerHooks, PushContext } from "./push-hooks.ts";
import { createScanSessionMaker, type CreatedScanSession, type CreateScanSessionInput } from "./scan-session-creation.ts";
import { resolveScanSessionOptions, type ScanSessionOptions } from "./scan-session-options.ts";
import { createScanSessionPushHooks } from "./scan-session-push.ts";
import { readScanSession, type ScanSessionAccess } from "./scan-session-reading.ts";
import { createScanSessionWatcher, type ScanSessionWatchItem } from "./scan-session-watch.ts";

export { SCAN_SESSION_DEFAULTS, WARM_CODES_MAX, type ScanSessionOptions } from "./scan-session-options.ts";
export type { CreatedScanSession, CreateScanSessionInput } from "./scan-session-creation.ts";
export { isFinal, type ScanSessionAccess, type ScanSessionPurpose, type ScanSessionStatus, type ScanSessionView } from "./scan-session-reading.ts";
export type { ScanSessionWatchItem } from "./scan-session-watch.ts";

export interface ScanSessionDeps {
  db: Database;
  codes: CodeService;
  accountId: string;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Waits of streams and of polling; never the possibly manual clock. */
  timer: Timer;
}

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
  /** The hooks of owner kind "session" (each session's own code); they wake the session's streams after the push commits. */
  readonly hooks: OwnerHooks;
  /** Handles a scanner's reply `1` (PushContext.onOther). */
  readonly onOther: NonNullable<PushContext["onOther"]>;
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

export function createScanSessionService(options: ScanSessionOptions, deps: ScanSessionDeps): ScanSessionService {
  const o = resolveScanSessionOptions(options);
  const maker = createScanSessionMaker(o, deps);
  const watcher = createScanSessionWatcher(o, deps);
  const push = createScanSessionPushHooks(o, { clock: deps.clock, changed: watcher.wake });
  return {
    create: maker.create,
    read: (id, secret) => readScanSession(deps, id, secret),
    watch: watcher.watch,
    hooks: push.hooks,
    onOther: push.onOther,
    refillWarmCodes: maker.refillWarmCodes,
    warmStock: maker.warmStock,
    settled: maker.settled,
  };
}
