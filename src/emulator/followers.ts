/**
 * Who follows the account. A scan by a non-follower makes them follow (the `subscribe` push);
 * an unfollow keeps the record with `subscribed: false`, so a later scan is a returning follow.
 * @module
 */
import type { EmulatorState, Follower } from "./state.ts";

/** What `GET /emulator/followers` lists; `nickname` only where one was given. */
export interface FollowerView extends Follower {
  openId: string;
  nickname?: string;
}

/** A person the phone page can act as: anyone with a nickname or a follower record. */
export interface UserView {
  openId: string;
  nickname: string | null;
  subscribed: boolean;
  /** Epoch ms since when `subscribed` has held; `null` for a user who never followed. */
  since: number | null;
}

export function isFollowing(state: EmulatorState, openId: string): boolean {
  return state.followers.get(openId)?.subscribed === true;
}

/** Marks `openId` as following since `now`; a follower already subscribed keeps their `since`. */
export function follow(state: EmulatorState, openId: string, now: number): void {
  if (!isFollowing(state, openId)) state.followers.set(openId, { subscribed: true, since: now });
}

/** Marks `openId` as no longer following; false when they were not following. */
export function unfollow(state: EmulatorState, openId: string, now: number): boolean {
  if (!isFollowing(state, openId)) return false;
  state.followers.set(openId, { subscribed: false, since: now });
  return true;
}

/**
 * Adds existing followers without pushing anything (they followed before the server URL was
 * configured). Returns how many were not already following.
 */
export function seedFollowers(state: EmulatorState, openIds: readonly string[], now: number): number {
  let added = 0;
  for (const openId of openIds) {
    if (!isFollowing(state, openId)) added += 1;
    follow(state, openId, now);
  }
  return added;
}

export function listFollowers(state: EmulatorState): FollowerView[] {
  return [...state.followers].map(([openId, f]) => {
    const nickname = state.nicknames.get(openId);
    return { openId, subscribed: f.subscribed, since: f.since, ...(nickname === undefined ? {} : { nickname }) };
  });
}

/** Gives `openId` a display name (creating the user for the phone page); the platform never sees it. */
export function setNickname(state: EmulatorState, openId: string, nickname: string): void {
  state.nicknames.set(openId, nickname);
}

export function userView(state: EmulatorState, openId: string): UserView {
  const follower = state.followers.get(openId);
  return { openId, nickname: state.nicknames.get(openId) ?? null, subscribed: follower?.subscribed === true, since: follower?.since ?? null };
}

/** Named users first, in the order they were named, then followers without a name. */
export function listUsers(state: EmulatorState): UserView[] {
  const openIds = new Set([...state.nicknames.keys(), ...state.followers.keys()]);
  return [...openIds].map((openId) => userView(state, openId));
}
