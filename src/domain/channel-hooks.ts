/**
 * A channel's part in a push: its day counters and the per-day counts of latest scans (written at
 * the batch's end), its reply, and the follow-ups it asks for (issue #12): its follow-up message
 * and its tag, as rows of the follow-up outbox written with the push.
 *
 * The reply and the follow-up message depend on who scanned (issue #13): the audience's own text,
 * else the welcome, and the follow-up only to the audiences it names. Outside the channel's
 * schedule or while it is paused, the scan counts exactly as any other but gets neither; the tag
 * is still given, because it records where the follower came from (attribution), not a message.
 * @module
 */
import type { ScanMessage } from "../push/events.ts";
import type { Audience, ChannelRow } from "../store/channels.ts";
import { channelStatus } from "./channel-status.ts";
import { followUpMessageRow, taggingRow } from "./follow-up-rows.ts";
import type { OwnerHooks } from "./push-hooks.ts";
import { fillPlaceholders } from "./reply-text.ts";

/**
 * A subscribe through the code is a new follower when wxqr never saw them, else a returning one
 * (they followed before, unfollowed, and follow again); a `SCAN` comes from someone who follows.
 * @example
 * audienceOf({ isNewFollower: true }, false); // "returningFollower": a subscribe by someone wxqr has seen
 */
export function audienceOf(message: Pick<ScanMessage, "isNewFollower">, isNewFollower: boolean): Audience {
  if (isNewFollower) return "newFollower";
  return message.isNewFollower ? "returningFollower" : "follower";
}

/** The channel's text for `audience` (else its welcome), placeholders filled; undefined for none. */
function replyFor(channel: ChannelRow, audience: Audience, scene: string): string | undefined {
  const text = channel.replies?.[audience] ?? channel.welcome;
  return text ? fillPlaceholders(text, { scene, channel: channel.name }) : undefined;
}

export const channelHooks: OwnerHooks = {
  async onScan(_sql, ctx, { message, code, isNewFollower, at, day }) {
    const channel = code.ownerId ? await ctx.rows.channel(code.ownerId) : undefined;
    if (!channel) return;
    const scanner = { channelId: channel.id, day, openId: message.openId };
    const firstToday = await ctx.rows.addChannelScanner(scanner);
    const moved = await ctx.rows.advanceLastScans(scanner);
    if (moved.channel) ctx.counters.moveChannelLastScan(channel.id, moved.channel.from, day);
    if (moved.account) ctx.counters.moveAccountLastScan(moved.account.from, day);
    ctx.counters.addChannelDay(channel.id, day, {
      scans: 1,
      uniqueScanners: firstToday ? 1 : 0,
      newFollowers: isNewFollower ? 1 : 0,
      returningFollowers: isNewFollower ? 0 : 1,
    });
    const audience = audienceOf(message, isNewFollower);
    // When the user scanned, not when the push arrived: a redelivery answers as the first attempt would have.
    const answering = channelStatus(channel, at) === "active";
    const messaging = answering && (channel.followUpAudiences?.includes(audience) ?? true);
    const { followUps } = ctx;
    if (followUps) {
      const base = { accountId: ctx.accountId, pushKey: message.dedupeKey, openId: message.openId, channelId: channel.id, at, now: ctx.now };
      const rows = [
        ...(messaging && channel.followUpText ? [followUpMessageRow(followUps, { ...base, kind: "text", text: channel.followUpText })] : []),
        ...(messaging && channel.followUpImage ? [followUpMessageRow(followUps, { ...base, kind: "image", imageId: channel.followUpImage })] : []),
        ...(channel.tagId != null ? [taggingRow({ ...base, tagId: channel.tagId })] : []),
      ];
      for (const row of rows) ctx.rows.addFollowUp(row);
      if (rows.length > 0) ctx.afterCommit(followUps.wake);
    }
    const replyText = answering ? replyFor(channel, audience, message.scene.str) : undefined;
    return replyText ? { replyText } : undefined;
  },
  async onUnfollow(_sql, ctx, { code, day }) {
    if (code.ownerId) ctx.counters.addChannelDay(code.ownerId, day, { unfollows: 1 });
  },
};
