/**
 * The push's part in scan sessions, inside the push's transaction: a scan of a session's own
 * code makes it `scanned`, and the scanner's reply `1` makes it `confirmed`. A scan counts only
 * for the session its code was made for, while that session is pending and alive (invariant 7).
 * Streams following the session are woken only once the push has committed.
 * @module
 */
import type { Clock } from "../deps.ts";
import * as store from "../store/scan-sessions.ts";
import type { OwnerHooks, PushContext } from "./push-hooks.ts";
import type { ScanSessionPurpose } from "./scan-session-reading.ts";

export interface ScanSessionPushHooks {
  /** The hooks of owner kind "session" (each session's own code). */
  readonly hooks: OwnerHooks;
  /** Handles a scanner's reply `1` (PushContext.onOther). */
  readonly onOther: NonNullable<PushContext["onOther"]>;
}

/** `deps.changed` is called with a session's id once a push that changed it has committed. */
export function createScanSessionPushHooks(options: { siteName: string }, deps: { clock: Clock; changed: (sessionId: string) => void }): ScanSessionPushHooks {
  const { clock } = deps;
  const { siteName } = options;

  const hooks: OwnerHooks = {
    async onScan(sql, ctx, { message, code, isNewFollower, at }) {
      if (!code.ownerId) return;
      const session = await store.getSession(sql, ctx.accountId, code.ownerId);
      // The code names its session and the session names its code: a code of the v3 pool, or one
      // still in the warm stock, reaches no session.
      if (!session || session.qrcodeId !== code.id || session.status !== "pending") return;
      // Only a scan made while this session lived counts (a warm code may have existed before its
      // session, though no one saw it). CreateTime has whole seconds, so the start is rounded down.
      if (at >= session.expiresAt || at < Math.floor(session.createdAt / 1000) * 1000) return;
      const now = clock.now();
      if (!(await store.markScanned(sql, ctx.accountId, session.id, { openId: message.openId, isNewFollower, at, now }))) return;
      ctx.emit({
        kind: "session_scanned",
        openId: message.openId,
        at,
        key: message.dedupeKey,
        data: { sessionId: session.id, purpose: session.purpose, subject: session.subject, confirm: session.confirm, isNewFollower },
      });
      ctx.afterCommit(() => deps.changed(session.id));
      return session.confirm ? { replyText: confirmPrompt(session.purpose, siteName) } : undefined;
    },
  };

  const onOther: ScanSessionPushHooks["onOther"] = async (sql, ctx, message, at) => {
    const content = message.content?.trim();
    if (message.msgType !== "text" || (content !== "1" && content !== "１")) return;
    const session = await store.findAwaitingConfirmation(sql, ctx.accountId, message.openId, at);
    if (!session) return;
    if (!(await store.markConfirmed(sql, ctx.accountId, session.id, at, clock.now()))) return;
    ctx.afterCommit(() => deps.changed(session.id));
    return {
      replyText:
        session.purpose === "login" ? `Confirmed: you are logged in to ${siteName}.` : `Confirmed: your WeChat is now bound to your account on ${siteName}.`,
    };
  };

  return { hooks, onOther };
}

function confirmPrompt(purpose: ScanSessionPurpose, siteName: string): string {
  const what = purpose === "login" ? `log in to ${siteName}` : `bind your WeChat to your account on ${siteName}`;
  return `You scanned a code to ${what}. Reply 1 to confirm. If you did not ask for this, ignore this message.`;
}
