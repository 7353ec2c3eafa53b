/**
 * What one accepted push does, inside the (group-)commit transaction: log it (a duplicate ends
 * here), find its code, update the follower, emit the attributed events, and hand the push to
 * the hooks of the code's owner, which may choose the passive reply. It decides on the batch's
 * rows in memory (`ctx.rows`), which the batch writes at its end, so it is the same on both
 * engines (invariants 1 and 2).
 * @module
 */
import type { PushMessage } from "../push/events.ts";
import type { Sql } from "../store/database.ts";
import type * as followers from "../store/followers.ts";
import { dayInZone } from "./days.ts";
import type { PushContext } from "./push-hooks.ts";

export type { PushContext } from "./push-hooks.ts";

export interface PushOutcome {
  duplicate: boolean;
  /** The passive reply, when the code's owner has something to say. */
  replyText?: string;
  qrcodeId?: string;
  isNewFollower?: boolean;
}

/**
 * Records one push. The transaction must already hold its follower's lock
 * (`followers.lockFollowers`), and write `ctx.rows` and `ctx.counters` after it: `pushBatch` does.
 */
export async function recordPush(sql: Sql, ctx: PushContext, message: PushMessage, receivedAt: number): Promise<PushOutcome> {
  const before = await ctx.rows.follower(message.openId);
  const at = message.createTime * 1000;
  const day = dayInZone(at, ctx.timeZone);

  if (message.kind === "scan") {
    const code = await ctx.rows.codeOfScan(message);
    // "New" means never seen by wxqr: anyone with a row has been seen subscribed.
    const isNewFollower = message.isNewFollower && before === undefined;
    const logged = await appendLog(
      ctx,
      logRow(ctx, message, receivedAt, { qrcodeId: code?.id ?? null, isNewFollower, scene: message.scene.str, ticket: message.ticket ?? null }),
    );
    if (!logged) return { duplicate: true };
    saveFollowerAt(ctx, message.openId, before, at, {
      subscribed: true,
      sourceQrcodeId: before ? before.sourceQrcodeId : isNewFollower ? (code?.id ?? null) : null,
      subscribedAt: message.isNewFollower ? at : (before?.subscribedAt ?? null),
      unsubscribedAt: before?.unsubscribedAt ?? null,
    });
    const data = { qrcodeId: code?.id ?? null, scene: message.scene.str, ownerKind: code?.ownerKind ?? null, ownerId: code?.ownerId ?? null };
    ctx.emit({ kind: "scan", openId: message.openId, at, key: message.dedupeKey, data: { ...data, isNewFollower } });
    if (isNewFollower) ctx.emit({ kind: "new_follower", openId: message.openId, at, key: message.dedupeKey, data });
    const outcome: PushOutcome = { duplicate: false, isNewFollower, ...(code ? { qrcodeId: code.id } : {}) };
    const hooks = code?.ownerKind ? ctx.owners[code.ownerKind] : undefined;
    const reply = code && hooks?.onScan ? await hooks.onScan(sql, ctx, { message, code, before, isNewFollower, at, day }) : undefined;
    if (reply?.replyText) outcome.replyText = reply.replyText;
    return outcome;
  }

  if (message.kind === "subscribe" || message.kind === "unsubscribe") {
    const subscribing = message.kind === "subscribe";
    const isNewFollower = subscribing && before === undefined;
    const logged = await appendLog(
      ctx,
      logRow(ctx, message, receivedAt, { qrcodeId: null, isNewFollower: subscribing ? isNewFollower : null, scene: null, ticket: null }),
    );
    if (!logged) return { duplicate: true };
    saveFollowerAt(ctx, message.openId, before, at, {
      subscribed: subscribing,
      sourceQrcodeId: before?.sourceQrcodeId ?? null,
      subscribedAt: subscribing ? at : (before?.subscribedAt ?? null),
      unsubscribedAt: subscribing ? (before?.unsubscribedAt ?? null) : at,
    });
    if (isNewFollower) ctx.emit({ kind: "new_follower", openId: message.openId, at, key: message.dedupeKey, data: { qrcodeId: null } });
    if (subscribing || !before?.subscribed) return { duplicate: false, isNewFollower };
    // An unfollow counts against whoever brought the follower, on the day it happens.
    const code = before.sourceQrcodeId ? await ctx.rows.code(before.sourceQrcodeId) : undefined;
    ctx.emit({
      kind: "unfollow",
      openId: message.openId,
      at,
      key: message.dedupeKey,
      data: { sourceQrcodeId: code?.id ?? null, ownerKind: code?.ownerKind ?? null, ownerId: code?.ownerId ?? null },
    });
    const hooks = code?.ownerKind ? ctx.owners[code.ownerKind] : undefined;
    if (code && hooks?.onUnfollow) await hooks.onUnfollow(sql, ctx, { openId: message.openId, code, at, day });
    return { duplicate: false, ...(code ? { qrcodeId: code.id } : {}) };
  }

  const logged = await appendLog(ctx, logRow(ctx, message, receivedAt, { qrcodeId: null, isNewFollower: null, scene: null, ticket: null }));
  if (!logged) return { duplicate: true };
  const reply = ctx.onOther ? await ctx.onOther(sql, ctx, message, at) : undefined;
  return { duplicate: false, ...(reply?.replyText ? { replyText: reply.replyText } : {}) };
}

/** Appends the push to the log; false for a duplicate. A row added is announced once it commits. */
async function appendLog(ctx: PushContext, row: followers.PushLogRow): Promise<boolean> {
  const logged = await ctx.rows.log(row);
  if (logged && ctx.onLogged) ctx.afterCommit(ctx.onLogged);
  return logged;
}

/**
 * Saves what a push at `at` says of a follower. A push older than what wxqr already knows of
 * them (a redelivery that arrived late) does not turn back their state: the newer event's stands.
 */
function saveFollowerAt(
  ctx: PushContext,
  openId: string,
  before: followers.FollowerRow | undefined,
  at: number,
  state: Pick<followers.FollowerRow, "subscribed" | "sourceQrcodeId" | "subscribedAt" | "unsubscribedAt">,
): void {
  const next: followers.FollowerRow =
    before && at < before.lastSeenAt
      ? { ...before, firstSeenAt: Math.min(before.firstSeenAt, at) }
      : { accountId: ctx.accountId, openId, firstSeenAt: before?.firstSeenAt ?? at, lastSeenAt: at, ...state };
  ctx.rows.saveFollower(next);
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
    event: message.event ?? null,
    eventKey: message.eventKeyAsSent ?? null,
    ticket: extra.ticket,
    scene: extra.scene,
    qrcodeId: extra.qrcodeId,
    isNewFollower: extra.isNewFollower,
    createTimeSec: message.createTime,
    receivedAt,
  };
}
