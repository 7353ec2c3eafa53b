/** A channel's part in a push: its day counters and its welcome reply. */
import * as channels from "../store/channels.ts";
import type { OwnerHooks } from "./push-hooks.ts";

export const channelHooks: OwnerHooks = {
  async onScan(sql, ctx, { message, code, isNewFollower, day }) {
    const channel = code.ownerId ? await channels.getChannel(sql, ctx.accountId, code.ownerId) : undefined;
    if (!channel) return;
    const firstToday = await channels.addChannelScanner(sql, ctx.accountId, channel.id, day, message.openId);
    await channels.addChannelDay(sql, ctx.accountId, channel.id, day, {
      scans: 1,
      uniqueScanners: firstToday ? 1 : 0,
      newFollowers: isNewFollower ? 1 : 0,
      returningFollowers: isNewFollower ? 0 : 1,
    });
    return channel.welcome ? { replyText: channel.welcome } : undefined;
  },
  async onUnfollow(sql, ctx, { code, day }) {
    if (code.ownerId) await channels.addChannelDay(sql, ctx.accountId, code.ownerId, day, { unfollows: 1 });
  },
};
