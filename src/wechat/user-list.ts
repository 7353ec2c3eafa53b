/**
 * The account's follower list, `GET /cgi-bin/user/get?next_openid=`: up to 10,000 OpenIDs a
 * page; the next page starts after `next_openid`, and a page with `count` 0 (or no
 * `next_openid`) ends the list.
 * @module
 */
import { NetworkError } from "../errors.ts";
import type { CallOptions } from "./client.ts";

export const USER_GET_PATH = "/cgi-bin/user/get";
/** The platform's page size. */
export const USER_GET_PAGE_MAX = 10_000;

export interface WireUserGetResponse {
  total: number;
  count: number;
  /** Absent when `count` is 0. */
  data?: { openid?: string[] };
  next_openid?: string;
}

export interface FollowerPage {
  /** Followers of the account in all. */
  total: number;
  openIds: string[];
  /** Pass back for the next page; undefined when this page ends the list. */
  nextOpenId: string | undefined;
}

type Call = <T>(path: string, options?: CallOptions) => Promise<T>;

/** One page of the follower list, starting after `nextOpenId` (from the start when undefined). */
export async function fetchFollowerPage(call: Call, nextOpenId?: string): Promise<FollowerPage> {
  const wire = await call<WireUserGetResponse>(USER_GET_PATH, { method: "GET", query: { next_openid: nextOpenId ?? "" } });
  const openIds = wire.data?.openid ?? [];
  if (!Array.isArray(openIds) || openIds.some((o) => typeof o !== "string"))
    throw new NetworkError(USER_GET_PATH, "answer's data.openid is not a list of strings");
  const next = typeof wire.next_openid === "string" && wire.next_openid !== "" && openIds.length > 0 ? wire.next_openid : undefined;
  return { total: Number(wire.total ?? 0), openIds, nextOpenId: next };
}
