/**
 * A channel's part in a push: its day counters and the per-day counts of latest scans (written at
 * the batch's end), its welcome reply, and the follow-ups it asks for (issue #12): its follow-up
 * message and its tag, as rows of the follow-up outbox written with the push.
 */
import { followUpMessageRow, taggingRow } from "./follow-up-rows.ts";
import type { OwnerHooks } from "./push-hooks.ts";

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
    const { followUps } = ctx;
    if (followUps) {
      const base = { accountId: ctx.accountId, pushKey: message.dedupeKey, openId: message.openId, channelId: channel.id, at, now: ctx.now };
      const rows = [
        ...(channel.followUpText ? [followUpMessageRow(followUps, { ...base, kind: "text", text: channel.followUpText })] : []),
        ...(channel.followUpImage ? [followUpMessageRow(followUps, { ...base, kind: "image", imageId: channel.followUpImage })] : []),
        ...(channel.tagId != null ? [taggingRow({ ...base, tagId: channel.tagId })] : []),
      ];
      for (const row of rows) ctx.rows.addFollowUp(row);
      if (rows.length > 0) ctx.afterCommit(followUps.wake);
    }
    return channel.welcome ? { replyText: channel.welcome } : undefined;
  },
  async onUnfollow(_sql, ctx, { code, day }) {
    if (code.ownerId) ctx.counters.addChannelDay(code.ownerId, day, { unfollows: 1 });
  },
};
