/**
 * What one accepted push does, inside the (group-)commit transaction: log it (a duplicate ends
 * here), find its code, update the follower, count it for the owning channel, and decide the
 * passive reply. Runs on `Sql`, so it is the same on both engines (invariants 1 and 2).
 * @module
 */
import type { PushMessage } from "../push/events.ts";
import * as channels from "../store/channels.ts";
import * as codes from "../store/codes.ts";
import type { Sql } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import { dayInZone } from "./days.ts";

export interface PushContext {
  accountId: string;
  timeZone: string;
}

export interface PushOutcome {
  duplicate: boolean;
  /** The passive reply, when the code's owner has something to say. */
  replyText?: string;
  qrcodeId?: string;
  channelId?: string;
  isNewFollower?: boolean;
}

export async function recordPush(sql: Sql, ctx: PushContext, message: PushMessage, receivedAt: number): Promise<PushOutcome> {
  const { accountId } = ctx;
  const follower = await followers.getFollower(sql, accountId, message.openId);
  const at = message.createTime * 1000;
  const day = dayInZone(at, ctx.timeZone);

  if (message.kind === "scan") {
    const code =
      (message.ticket ? await codes.findQrCodeByTicket(sql, accountId, message.ticket) : undefined) ??
      (await codes.findQrCodeByScene(sql, accountId, codes.sceneKey({ sceneId: message.scene.id, sceneStr: message.scene.id === undefined ? message.scene.str : null })));
    // "New" means never seen by wxqr: anyone with a row has been seen subscribed.
    const isNewFollower = message.isNewFollower && follower === undefined;
    const logged = await followers.appendPushLog(sql, logRow(ctx, message, receivedAt, { qrcodeId: code?.id ?? null, isNewFollower, scene: message.scene.str, ticket: message.ticket ?? null }));
    if (!logged) return { duplicate: true };
    await followers.saveFollower(sql, {
      accountId,
      openId: message.openId,
      subscribed: true,
      sourceQrcodeId: follower ? follower.sourceQrcodeId : isNewFollower ? (code?.id ?? null) : null,
      firstSeenAt: follower?.firstSeenAt ?? at,
      lastSeenAt: at,
      subscribedAt: message.isNewFollower ? at : (follower?.subscribedAt ?? null),
      unsubscribedAt: follower?.unsubscribedAt ?? null,
    });
    const outcome: PushOutcome = { duplicate: false, isNewFollower, ...(code ? { qrcodeId: code.id } : {}) };
    if (code?.ownerKind === "channel" && code.ownerId) {
      const channel = await channels.getChannel(sql, accountId, code.ownerId);
      if (channel) {
        const firstToday = await channels.addChannelScanner(sql, accountId, channel.id, day, message.openId);
        await channels.addChannelDay(sql, accountId, channel.id, day, {
          scans: 1,
          uniqueScanners: firstToday ? 1 : 0,
          newFollowers: isNewFollower ? 1 : 0,
          returningFollowers: isNewFollower ? 0 : 1,
        });
        outcome.channelId = channel.id;
        if (channel.welcome) outcome.replyText = channel.welcome;
      }
    }
    return outcome;
  }

  if (message.kind === "subscribe" || message.kind === "unsubscribe") {
    const subscribing = message.kind === "subscribe";
    const isNewFollower = subscribing && follower === undefined;
    const logged = await followers.appendPushLog(sql, logRow(ctx, message, receivedAt, { qrcodeId: null, isNewFollower: subscribing ? isNewFollower : null, scene: null, ticket: null }));
    if (!logged) return { duplicate: true };
    await followers.saveFollower(sql, {
      accountId,
      openId: message.openId,
      subscribed: subscribing,
      sourceQrcodeId: follower?.sourceQrcodeId ?? null,
      firstSeenAt: follower?.firstSeenAt ?? at,
      lastSeenAt: at,
      subscribedAt: subscribing ? at : (follower?.subscribedAt ?? null),
      unsubscribedAt: subscribing ? (follower?.unsubscribedAt ?? null) : at,
    });
    // An unfollow counts against the channel that brought the follower, on the day it happens.
    if (!subscribing && follower?.subscribed && follower.sourceQrcodeId) {
      const code = await codes.getQrCode(sql, accountId, follower.sourceQrcodeId);
      if (code?.ownerKind === "channel" && code.ownerId) {
        await channels.addChannelDay(sql, accountId, code.ownerId, day, { unfollows: 1 });
        return { duplicate: false, qrcodeId: code.id, channelId: code.ownerId };
      }
    }
    return { duplicate: false, isNewFollower };
  }

  const logged = await followers.appendPushLog(sql, logRow(ctx, message, receivedAt, { qrcodeId: null, isNewFollower: null, scene: null, ticket: null }));
  return { duplicate: !logged };
}

function logRow(
  ctx: PushContext,
  message: PushMessage,
  receivedAt: number,
  extra: { qrcodeId: string | null; isNewFollower: boolean | null; scene: string | null; ticket: string | null },
): followers.PushLogRow {
  return {
    accountId: ctx.accountId,
    dedupeKey: message.dedupeKey,
    kind: message.kind,
    openId: message.openId,
    event: message.raw.Event ?? null,
    eventKey: message.raw.EventKey ?? null,
    ticket: extra.ticket,
    scene: extra.scene,
    qrcodeId: extra.qrcodeId,
    isNewFollower: extra.isNewFollower,
    createTimeSec: message.createTime,
    receivedAt,
  };
}
