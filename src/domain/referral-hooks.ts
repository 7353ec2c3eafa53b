/**
 * A follower's personal code in a push (invariant 4): a referral is recorded when someone wxqr
 * has never seen subscribes through it — never to the code's owner, only once per invitee (the
 * `referrals` primary key), so a later re-subscribe through another code changes nothing. The
 * new follower is then sent their own poster (issue #12), a row of the follow-up outbox.
 */
import { followUpMessageRow } from "./follow-up-rows.ts";
import type { OwnerHooks } from "./push-hooks.ts";

export const referralHooks: OwnerHooks = {
  async onScan(_sql, ctx, { message, code, isNewFollower, at }) {
    const inviter = code.ownerId;
    const welcome = ctx.followUps?.referralWelcome ? { replyText: ctx.followUps.referralWelcome } : undefined;
    if (!isNewFollower || !inviter || inviter === message.openId) return welcome;
    const recorded = await ctx.rows.addReferral({ accountId: ctx.accountId, invitee: message.openId, inviter, qrcodeId: code.id, createdAt: at });
    if (!recorded) return welcome;
    ctx.emit({
      kind: "referral",
      openId: message.openId,
      at,
      key: message.dedupeKey,
      data: { inviter, invitee: message.openId, qrcodeId: code.id },
    });
    const { followUps } = ctx;
    if (followUps?.referralPoster) {
      ctx.rows.addFollowUp(
        followUpMessageRow(followUps, { accountId: ctx.accountId, pushKey: message.dedupeKey, kind: "poster", openId: message.openId, at, now: ctx.now }),
      );
      ctx.afterCommit(followUps.wake);
    }
    return welcome;
  },
};
