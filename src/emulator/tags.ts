/**
 * User tags (wechat-api.md §10.3): at most 100 tags an account (45056), names of at most 30
 * UTF-8 bytes (45158) and unique (45157), custom ids from 100 up, ids 0–2 reserved for the
 * system (45058), at most 20 tags a user (45059), at most 50 OpenIDs a batch (40032), an unknown
 * tag 45159 and an OpenID the account never had 40003.
 *
 * Assumptions where the sources say nothing: the 100 counts custom tags only; a batch is applied
 * whole or not at all; the system tag listed is 2 "星标组" (the doc's example); a tag name may not
 * be empty (45157).
 * @module
 */
import { WECHAT_ID_RE } from "./options.ts";
import type { EmulatorState } from "./state.ts";

export const TAGS_PER_ACCOUNT_MAX = 100;
export const TAG_NAME_MAX_BYTES = 30; // bytes, not characters: a CJK character is 3 (an official staffer, §10.3)
export const TAGS_PER_USER_MAX = 20;
export const BATCH_OPENIDS_MAX = 50;
export const FIRST_CUSTOM_TAG_ID = 100;
export const TAG_DELETE_FOLLOWERS_MAX = 100_000;
const RESERVED_TAG_IDS: ReadonlySet<number> = new Set([0, 1, 2]);
const SYSTEM_TAGS = [{ id: 2, name: "星标组" }] as const;

export interface TagRecord {
  id: number;
  name: string;
}

export interface TagsState {
  byId: Map<number, TagRecord>;
  /** The id the next created tag gets. */
  nextId: number;
  /** Tag ids per OpenID, in the order they were added. */
  byUser: Map<string, number[]>;
}

export function createTagsState(): TagsState {
  return { byId: new Map(SYSTEM_TAGS.map((t) => [t.id, { ...t }])), nextId: FIRST_CUSTOM_TAG_ID, byUser: new Map() };
}

type Result<T = object> = ({ ok: true } & T) | { ok: false; errcode: number };

const customTagCount = (tags: TagsState): number => [...tags.byId.keys()].filter((id) => !RESERVED_TAG_IDS.has(id)).length;

function nameError(tags: TagsState, name: unknown, exceptId?: number): number | undefined {
  if (typeof name !== "string" || name.trim() === "") return 45157;
  if (Buffer.byteLength(name, "utf8") > TAG_NAME_MAX_BYTES) return 45158;
  for (const t of tags.byId.values()) if (t.name === name && t.id !== exceptId) return 45157;
  return undefined;
}

/** A known OpenID: the emulator's users are everyone who ever followed (seeded ones included). */
export const isKnownOpenId = (state: EmulatorState, openId: unknown): openId is string =>
  typeof openId === "string" && WECHAT_ID_RE.test(openId) && state.followers.has(openId);

/**
 * @example
 * createTag(state, "广东"); // { ok: true, tag: { id: 100, name: "广东" } }
 */
export function createTag(state: EmulatorState, name: unknown): Result<{ tag: TagRecord }> {
  const { tags } = state;
  const error = nameError(tags, name);
  if (error !== undefined) return { ok: false, errcode: error };
  if (customTagCount(tags) >= TAGS_PER_ACCOUNT_MAX) return { ok: false, errcode: 45056 };
  const tag = { id: tags.nextId++, name: name as string };
  tags.byId.set(tag.id, tag);
  return { ok: true, tag: { ...tag } };
}

export function updateTag(state: EmulatorState, id: unknown, name: unknown): Result {
  const { tags } = state;
  if (typeof id !== "number" || RESERVED_TAG_IDS.has(id)) return { ok: false, errcode: typeof id === "number" ? 45058 : 45159 };
  const tag = tags.byId.get(id);
  if (tag === undefined) return { ok: false, errcode: 45159 };
  const error = nameError(tags, name, id);
  if (error !== undefined) return { ok: false, errcode: error };
  tag.name = name as string;
  return { ok: true };
}

export function deleteTag(state: EmulatorState, id: unknown): Result {
  const { tags } = state;
  if (typeof id !== "number" || RESERVED_TAG_IDS.has(id)) return { ok: false, errcode: typeof id === "number" ? 45058 : 45159 };
  if (!tags.byId.has(id)) return { ok: false, errcode: 45159 };
  if (usersWithTag(state, id).length > TAG_DELETE_FOLLOWERS_MAX) return { ok: false, errcode: 45057 };
  tags.byId.delete(id);
  for (const [openId, ids] of tags.byUser)
    tags.byUser.set(
      openId,
      ids.filter((t) => t !== id),
    );
  return { ok: true };
}

export function listTags(state: EmulatorState): { id: number; name: string; count: number }[] {
  const counts = new Map<number, number>();
  for (const ids of state.tags.byUser.values()) for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...state.tags.byId.values()].sort((a, b) => a.id - b.id).map((t) => ({ id: t.id, name: t.name, count: counts.get(t.id) ?? 0 }));
}

function checkBatch(state: EmulatorState, tagId: unknown, openIds: unknown): Result<{ tagId: number; openIds: string[] }> {
  if (!Array.isArray(openIds) || openIds.length === 0 || openIds.length > BATCH_OPENIDS_MAX) return { ok: false, errcode: 40032 };
  if (typeof tagId !== "number" || !state.tags.byId.has(tagId)) return { ok: false, errcode: 45159 };
  if (!openIds.every((o) => isKnownOpenId(state, o))) return { ok: false, errcode: 40003 };
  return { ok: true, tagId, openIds: openIds as string[] };
}

/**
 * Tags every OpenID of the batch, or none (45059 when one would pass 20 tags).
 * @example
 * batchTag(state, 100, ["o1", "o2"]); // { ok: true }
 */
export function batchTag(state: EmulatorState, tagId: unknown, openIds: unknown): Result {
  const batch = checkBatch(state, tagId, openIds);
  if (!batch.ok) return batch;
  const { byUser } = state.tags;
  for (const openId of batch.openIds) {
    const ids = byUser.get(openId) ?? [];
    if (!ids.includes(batch.tagId) && ids.length >= TAGS_PER_USER_MAX) return { ok: false, errcode: 45059 };
  }
  for (const openId of batch.openIds) {
    const ids = byUser.get(openId) ?? [];
    if (!ids.includes(batch.tagId)) byUser.set(openId, [...ids, batch.tagId]);
  }
  return { ok: true };
}

export function batchUntag(state: EmulatorState, tagId: unknown, openIds: unknown): Result {
  const batch = checkBatch(state, tagId, openIds);
  if (!batch.ok) return batch;
  const { byUser } = state.tags;
  for (const openId of batch.openIds) {
    const ids = byUser.get(openId);
    if (ids !== undefined)
      byUser.set(
        openId,
        ids.filter((t) => t !== batch.tagId),
      );
  }
  return { ok: true };
}

export function tagIdsOf(state: EmulatorState, openId: unknown): Result<{ tagIds: number[] }> {
  if (!isKnownOpenId(state, openId)) return { ok: false, errcode: 40003 };
  return { ok: true, tagIds: [...(state.tags.byUser.get(openId) ?? [])] };
}

/** OpenIDs carrying `tagId`, in the order they were first seen by the emulator. */
export function usersWithTag(state: EmulatorState, tagId: number): string[] {
  return [...state.tags.byUser].filter(([, ids]) => ids.includes(tagId)).map(([openId]) => openId);
}
