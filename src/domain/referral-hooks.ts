/**
 * A follower's personal code in a push (invariant 4): a referral is recorded when someone wxqr
 * has never seen subscribes through it — never to the code's owner, only once per invitee (the
 * `referrals` primary key), so a later re-subscribe through another code changes nothing.
 */
import type { OwnerHooks } from "./push-hooks.ts";

export const referralHooks: OwnerHooks = {
  async onScan(_sql, ctx, { message, code, isNewFollower, at }) {
    const inviter = code.ownerId;
    if (!isNewFollower || !inviter || inviter === message.openId) return;
    const recorded = await ctx.rows.addReferral({ accountId: ctx.accountId, invitee: message.openId, inviter, qrcodeId: code.id, createdAt: at });
    if (!recorded) return;
    ctx.emit({
      kind: "referral",
      openId: message.openId,
      at,
      key: message.dedupeKey,
      data: { inviter, invitee: message.openId, qrcodeId: code.id },
    });
  },
};
