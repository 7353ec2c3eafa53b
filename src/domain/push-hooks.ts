/**
 * How the owners of codes (channels, referrals, scan sessions) and other consumers take part in
 * a push's transaction. `recordPush` does what every push needs (log, dedupe, follower) and then
 * calls the hooks of the code's owner kind. A hook changes the batch's rows in memory
 * (`ctx.rows`, written by the batch at its end) or, for rows the batch does not hold (scan
 * sessions), runs statements on the same `Sql`; either way its effects commit with the push or
 * not at all.
 * @module
 */
import type { OtherMessage, ScanMessage } from "../push/events.ts";
import type { OwnerKind, QrCodeRow } from "../store/codes.ts";
import type { Sql } from "../store/database.ts";
import type { FollowerRow } from "../store/followers.ts";
import type { OutboxInsert } from "../store/outbox.ts";
import type { FollowUpSettings } from "./follow-up-rows.ts";
import type { PushRows } from "./push-rows.ts";
import type { SharedCounters } from "./shared-counters.ts";

export interface PushContext {
  /** The app id (`wx…`) whose rows the push writes; not the push's `originalId` (`gh_…`). */
  accountId: string;
  timeZone: string;
  /** Hooks per owner kind of the scanned code. */
  owners: Partial<Record<OwnerKind, OwnerHooks>>;
  /** Messages and events that are not scans or follows (e.g. a text reply confirming a login). */
  onOther?: (sql: Sql, ctx: PushContext, message: OtherMessage, at: number) => Promise<HookReply | void>;
  /** The outbox row that forwards an attributed event (`createOutboxForwarding`); without it, events are not forwarded. */
  outboxRow?: (event: AttributedEvent) => OutboxInsert | undefined;
  /** Follow-up messages and channel tags (issue #12); without them, a push writes no follow-up rows. */
  followUps?: FollowUpSettings;
  /** Epoch ms: when the batch was received (the `created_at` of the rows it writes). */
  now: number;
  /** Forwards an attributed event: an outbox row, written with the push's batch. */
  emit(event: AttributedEvent): void;
  /** The batch's rows as this push sees them (the earlier pushes of its batch included). */
  rows: PushRows;
  /**
   * Runs after the commit of each push that added a row to the scan log (through `afterCommit`):
   * the live feed's wake-up.
   */
  onLogged?: () => void;
  /** This push's additions to counters many pushes share; its batch writes them at its end. */
  counters: SharedCounters;
  /**
   * Runs `fn` once the transaction holding this push has committed, and never when the push did
   * not commit: for work that must not see, or show, what may yet be rolled back (e.g. waking a
   * stream that follows a row the push changed). `fn` runs before the push is answered, so it
   * must be quick; it must not throw (what it throws is logged).
   */
  afterCommit(fn: () => void): void;
}

/** What a push's context is made of besides its own counters and after-commit work: the same for every push. */
export type PushSettings = Omit<PushContext, "counters" | "afterCommit" | "emit" | "rows" | "now">;

export interface HookReply {
  replyText?: string;
}

export interface ScanFacts {
  message: ScanMessage;
  code: QrCodeRow;
  /** The follower as it was before this push; undefined when wxqr had never seen them. */
  before: FollowerRow | undefined;
  /** Never seen by wxqr before, and followed through this scan. */
  isNewFollower: boolean;
  /** The push's CreateTime, epoch ms. */
  at: number;
  /** `YYYY-MM-DD` in the account's zone. */
  day: string;
}

export interface UnfollowFacts {
  openId: string;
  /** The code that first brought the follower. */
  code: QrCodeRow;
  at: number;
  day: string;
}

export interface OwnerHooks {
  onScan?(sql: Sql, ctx: PushContext, facts: ScanFacts): Promise<HookReply | void>;
  onUnfollow?(sql: Sql, ctx: PushContext, facts: UnfollowFacts): Promise<void>;
}

export type AttributedEventKind = "scan" | "new_follower" | "unfollow" | "referral" | "session_scanned";

/** What the business webhook receives (design.md: each attributed event). */
export interface AttributedEvent {
  kind: AttributedEventKind;
  openId: string;
  /** Epoch ms: when WeChat says it happened. */
  at: number;
  /** Unique per event; the webhook's idempotency id derives from it. */
  key: string;
  data: Record<string, unknown>;
}
