/** A channel's part in a push: its day counters (written at the batch's end) and its welcome reply. */
import type { OwnerHooks } from "./push-hooks.ts";

export const channelHooks: OwnerHooks = {
  async onScan(_sql, ctx, { message, code, isNewFollower, day }) {
    const channel = code.ownerId ? await ctx.rows.channel(code.ownerId) : undefined;
    if (!channel) return;
    const firstToday = await ctx.rows.addChannelScanner({ channelId: channel.id, day, openId: message.openId });
    ctx.counters.addChannelDay(channel.id, day, {
      scans: 1,
      uniqueScanners: firstToday ? 1 : 0,
      newFollowers: isNewFollower ? 1 : 0,
      returningFollowers: isNewFollower ? 0 : 1,
    });
    return channel.welcome ? { replyText: channel.welcome } : undefined;
  },
  async onUnfollow(_sql, ctx, { code, day }) {
    if (code.ownerId) ctx.counters.addChannelDay(code.ownerId, day, { unfollows: 1 });
  },
};
