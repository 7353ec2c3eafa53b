/**
 * The write side of follow-ups (issue #12): the rows a push's hooks add to the follow-up outbox,
 * in the push's own transaction, so a message is sent, and a follower tagged, if and only if the
 * push committed. Keys derive from the push (messages) or from the tag and the follower
 * (taggings): a redelivered push never gets this far (its dedupe ends it first), and a follower
 * scanning again through a tagged channel adds no second tagging.
 * @module
 */
import { createHash } from "node:crypto";
import type { FollowUpInsert, FollowUpKind } from "../store/follow-ups.ts";

/** What every push needs to write follow-ups; absent, a push writes none. */
export interface FollowUpSettings {
  /**
   * How long after a scan or subscribe the platform lets the account send (§10.1: 1 minute; older
   * documents say 48 hours). A message is tried at least once; no retry is scheduled past it.
   */
  windowMs: number;
  /** Send a new follower who came through someone's personal code their own poster. */
  referralPoster: boolean;
  /** The passive reply to a scan of a personal code; none when unset. */
  referralWelcome?: string | undefined;
  /** Wakes the dispatcher; called once a push that wrote rows has committed. */
  wake(): void;
}

const hashKey = (...parts: Array<string | number>): string => createHash("sha256").update(parts.join("\n"), "utf8").digest("base64url").slice(0, 32);

/**
 * A customer-service message following the push `pushKey` (its dedupe key).
 * @example
 * ctx.rows.addFollowUp(followUpMessageRow(settings, { accountId, pushKey: message.dedupeKey, kind: "text", text, openId, at, now }));
 */
export function followUpMessageRow(
  settings: Pick<FollowUpSettings, "windowMs">,
  row: { accountId: string; pushKey: string; kind: Exclude<FollowUpKind, "tag">; openId: string; at: number; now: number } & Partial<
    Pick<FollowUpInsert, "channelId" | "text" | "imageId">
  >,
): FollowUpInsert {
  return {
    accountId: row.accountId,
    rowKey: `m_${hashKey(row.accountId, row.pushKey, row.kind)}`,
    kind: row.kind,
    openId: row.openId,
    channelId: row.channelId ?? null,
    tagId: null,
    text: row.text ?? null,
    imageId: row.imageId ?? null,
    at: row.at,
    deadlineAt: row.at + settings.windowMs,
    createdAt: row.now,
  };
}

/**
 * Tags `openId` with `tagId`: one row per (tag, follower), ever.
 * @example
 * ctx.rows.addFollowUp(taggingRow({ accountId, tagId: 100, openId, channelId, at, now }));
 */
export function taggingRow(row: { accountId: string; tagId: number; openId: string; channelId: string | null; at: number; now: number }): FollowUpInsert {
  return {
    accountId: row.accountId,
    rowKey: `t_${hashKey(row.accountId, row.tagId, row.openId)}`,
    kind: "tag",
    openId: row.openId,
    channelId: row.channelId,
    tagId: row.tagId,
    text: null,
    imageId: null,
    at: row.at,
    deadlineAt: null,
    createdAt: row.now,
  };
}
