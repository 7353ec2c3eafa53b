/**
 * When an account may send a user customer-service messages (wechat-api.md §10.1): a subscribe
 * or a QR scan opens a window of 3 messages within 1 minute, the user's own message one of 5
 * within 48 hours (both configurable, `sendWindows`, since the sources disagree). No open window,
 * or an unfollow, answers 45015; an open window whose messages are used up answers 45047.
 *
 * Whether two interactions' quotas add up is not documented (U); here a new interaction replaces
 * the window its kind opened before, with a fresh count, and a send uses the open window that
 * closes first, so that the longer one is kept for later.
 * @module
 */
import { isFollowing } from "./followers.ts";
import type { EmulatorState } from "./state.ts";

export type WindowTrigger = "event" | "user_message";

export interface SendWindowState {
  trigger: WindowTrigger;
  /** Epoch ms, emulator clock. */
  openedAt: number;
  /** Epoch ms; sends from then on answer 45015. */
  closesAt: number;
  allowed: number;
  used: number;
}

/** Opens (or reopens, with a fresh count) the window `trigger` gives `openId` at `now`. */
export function openSendWindow(state: EmulatorState, openId: string, trigger: WindowTrigger, now: number): void {
  const rule = trigger === "event" ? state.config.sendWindows.afterEvent : state.config.sendWindows.afterUserMessage;
  const others = (state.sendWindows.get(openId) ?? []).filter((w) => w.trigger !== trigger);
  state.sendWindows.set(openId, [...others, { trigger, openedAt: now, closesAt: now + rule.seconds * 1000, allowed: rule.messages, used: 0 }]);
}

/** An unfollow ends every window: a later send answers 45015 even within the minute. */
export function closeSendWindows(state: EmulatorState, openId: string): void {
  state.sendWindows.delete(openId);
}

/**
 * Uses one message of an open window, or says why none can be sent.
 * @example
 * const slot = takeSendSlot(state, "o1", now);
 * if (!slot.ok) sendWireError(reply, slot.errcode, random); // 45015 or 45047
 */
export function takeSendSlot(state: EmulatorState, openId: string, now: number): { ok: true } | { ok: false; errcode: 45015 | 45047 } {
  if (!isFollowing(state, openId)) return { ok: false, errcode: 45015 };
  const open = (state.sendWindows.get(openId) ?? []).filter((w) => now < w.closesAt);
  if (open.length === 0) return { ok: false, errcode: 45015 };
  const usable = open.filter((w) => w.used < w.allowed).sort((a, b) => a.closesAt - b.closesAt)[0];
  if (usable === undefined) return { ok: false, errcode: 45047 };
  usable.used += 1;
  return { ok: true };
}

/** The windows of `openId` still open at `now`, for the control API. */
export function openWindowsOf(state: EmulatorState, openId: string, now: number): SendWindowState[] {
  return (state.sendWindows.get(openId) ?? []).filter((w) => now < w.closesAt).map((w) => ({ ...w }));
}
