/**
 * User tags (wechat-api.md §10.3): create, list, tag users in batches of at most 50, and read a
 * user's tags. The platform's other limits (100 tags an account, 30-byte names, 20 tags a user)
 * come back as errcodes (45056, 45158, 45059).
 * @module
 */
import { NetworkError, ValidationError } from "../errors.ts";
import type { CallOptions } from "./client.ts";

export const BATCH_TAGGING_OPENIDS_MAX = 50; // 40032 past 50 OpenIDs a call

export interface Tag {
  id: number;
  name: string;
}

export interface TagWithCount extends Tag {
  /** Followers carrying the tag. */
  count: number;
}

type Call = <T>(path: string, options?: CallOptions) => Promise<T>;

const isTag = (t: unknown): t is Tag => typeof t === "object" && t !== null && typeof (t as Tag).id === "number" && typeof (t as Tag).name === "string";

/**
 * @example
 * const tag = await createTag(call, "广东"); // { id: 100, name: "广东" }
 */
export async function createTag(call: Call, name: string): Promise<Tag> {
  const path = "/cgi-bin/tags/create";
  const wire = await call<{ tag?: unknown }>(path, { method: "POST", json: { tag: { name } } });
  if (!isTag(wire.tag)) throw new NetworkError(path, "answer has no tag {id, name}");
  return { id: wire.tag.id, name: wire.tag.name };
}

export async function getTags(call: Call): Promise<TagWithCount[]> {
  const path = "/cgi-bin/tags/get";
  const wire = await call<{ tags?: unknown }>(path, { method: "GET" });
  if (!Array.isArray(wire.tags) || !wire.tags.every(isTag)) throw new NetworkError(path, "answer's tags is not a list of {id, name, count}");
  return wire.tags.map((t: Tag & { count?: unknown }) => ({ id: t.id, name: t.name, count: typeof t.count === "number" ? t.count : 0 }));
}

/**
 * Tags up to 50 OpenIDs in one call; the caller splits larger sets. More than 50, or none, is a
 * `ValidationError` on `openIds` and nothing is sent.
 * @example
 * for (let i = 0; i < openIds.length; i += BATCH_TAGGING_OPENIDS_MAX) await batchTag(call, tag.id, openIds.slice(i, i + BATCH_TAGGING_OPENIDS_MAX));
 */
export async function batchTag(call: Call, tagId: number, openIds: readonly string[]): Promise<void> {
  if (openIds.length === 0 || openIds.length > BATCH_TAGGING_OPENIDS_MAX) {
    throw new ValidationError("openIds", `give 1 to ${BATCH_TAGGING_OPENIDS_MAX} OpenIDs a call (the platform's limit), got ${openIds.length}`);
  }
  await call("/cgi-bin/tags/members/batchtagging", { method: "POST", json: { openid_list: openIds, tagid: tagId } });
}

export async function getTagIdsOf(call: Call, openId: string): Promise<number[]> {
  const path = "/cgi-bin/tags/getidlist";
  const wire = await call<{ tagid_list?: unknown }>(path, { method: "POST", json: { openid: openId } });
  const ids = wire.tagid_list ?? [];
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "number")) throw new NetworkError(path, "answer's tagid_list is not a list of numbers");
  return ids;
}
