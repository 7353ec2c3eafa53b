/**
 * What a channel asks of its followers beyond the passive reply (issue #12): a follow-up
 * message (a text, or an image) and a tag. Checks the operator's input, creates the tag at
 * WeChat once (its id is kept on the channel; two channels naming one tag share it), and re-runs
 * tagging for a channel's existing followers.
 *
 * Who is missing the tag is read from wxqr's own record (a tagging row per tag and follower,
 * kept once sent), not from `tags/getidlist`: that call takes one OpenID at a time, so checking
 * a channel's 10,000 followers would cost 10,000 calls against a daily quota, where the record
 * costs none. What it cannot see — a tag an operator removed by hand in the console — a tagging
 * would not restore anyway without that list; `batchtagging` of an already tagged user is harmless.
 * @module
 */
import { createHash } from "node:crypto";
import type { Clock } from "../deps.ts";
import { NotFoundError, TagLimitError, ValidationError, WeChatApiError } from "../errors.ts";
import * as channelsStore from "../store/channels.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/follow-ups.ts";
import { createTag, getTags } from "../wechat/tags.ts";
import { taggingRow } from "./follow-up-rows.ts";
import type { WeChatCall } from "./followers.ts";

/** What the API takes: a text or an image (PNG or JPEG, base64) — one of the two — or null to clear it. */
export type FollowUpInput = { text?: string | undefined; imageBase64?: string | undefined } | null;

export const FOLLOW_UP_TEXT_MAX = 600; // a customer-service text's limit is undocumented (§10.1); the welcome's limit is safe
/** The image limit is disputed (10 MB or 2 MB, §10.2): the smaller one is safe. */
export const FOLLOW_UP_IMAGE_MAX_BYTES = 2 * 1_048_576;
export const TAG_NAME_MAX_BYTES = 30; // 45158 past 30 UTF-8 bytes (§10.3)

/** The follow-up as checked: what to store on the channel, and an image to save first. */
export interface CheckedFollowUp {
  followUpText: string | null;
  followUpImage: string | null;
  image?: { id: string; bytes: Buffer; contentType: "image/png" | "image/jpeg" };
}

function imageType(bytes: Buffer): "image/png" | "image/jpeg" | undefined {
  if (bytes.length > 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  return undefined;
}

/**
 * @example
 * checkFollowUp({ text: "送您一张优惠券" }); // { followUpText: "送您一张优惠券", followUpImage: null }
 */
export function checkFollowUp(input: unknown): CheckedFollowUp {
  if (input === null) return { followUpText: null, followUpImage: null };
  if (typeof input !== "object" || Array.isArray(input)) throw new ValidationError("followUp", "must be {text}, {imageBase64} or null");
  const { text, imageBase64 } = input as { text?: unknown; imageBase64?: unknown };
  if ((text === undefined) === (imageBase64 === undefined)) throw new ValidationError("followUp", "give either text or imageBase64");
  if (text !== undefined) {
    const t = typeof text === "string" ? text.trim() : "";
    if (t.length === 0 || t.length > FOLLOW_UP_TEXT_MAX) throw new ValidationError("followUp.text", `must be 1 to ${FOLLOW_UP_TEXT_MAX} characters`);
    return { followUpText: t, followUpImage: null };
  }
  if (typeof imageBase64 !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(imageBase64)) throw new ValidationError("followUp.imageBase64", "must be base64");
  const bytes = Buffer.from(imageBase64, "base64");
  if (bytes.length > FOLLOW_UP_IMAGE_MAX_BYTES) throw new ValidationError("followUp.imageBase64", `must be at most ${FOLLOW_UP_IMAGE_MAX_BYTES} bytes`);
  const contentType = imageType(bytes);
  if (!contentType) throw new ValidationError("followUp.imageBase64", "must be a PNG or JPEG image");
  // Named by its content: the same image is uploaded once, whichever channels send it.
  const id = createHash("sha256").update(bytes).digest("base64url").slice(0, 32);
  return { followUpText: null, followUpImage: id, image: { id, bytes, contentType } };
}

/**
 * The tag name to store: null for none.
 * @example
 * checkTagName("广东门店"); // "广东门店" (12 bytes); 11 CJK characters (33 bytes) throw a ValidationError on "tag"
 */
export function checkTagName(input: unknown): string | null {
  if (input === null) return null;
  const name = typeof input === "string" ? input.trim() : "";
  if (name.length === 0) throw new ValidationError("tag", "must be a name or null");
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > TAG_NAME_MAX_BYTES) {
    throw new ValidationError("tag", `must be at most ${TAG_NAME_MAX_BYTES} bytes in UTF-8 (10 Chinese characters), the platform's limit; got ${bytes}`);
  }
  return name;
}

export interface TagRerun {
  tagId: number;
  /** Everyone who ever scanned or subscribed through the channel. */
  followers: number;
  /** Taggings added or made due again: the followers not yet tagged. */
  queued: number;
}

export interface ChannelFollowUps {
  /** The WeChat id of the tag `name`: a channel's, else created (or found, when the account has it already). */
  tagIdFor(name: string): Promise<number>;
  /** Queues a tagging for each of the channel's followers who has none sent (failed ones are tried again). */
  rerunTagging(channelId: string): Promise<TagRerun>;
}

/**
 * @example
 * const tags = createChannelFollowUps({ db, accountId, call: client.call, clock, wake: dispatcher.wake });
 * const tagId = await tags.tagIdFor("广东门店");
 * await tags.rerunTagging(channelId); // { tagId, followers, queued }
 */
export function createChannelFollowUps(deps: {
  db: Database;
  accountId: string;
  call?: WeChatCall | undefined;
  clock: Clock;
  wake?: () => void;
}): ChannelFollowUps {
  const { db, accountId, clock } = deps;
  const call = (): WeChatCall => {
    if (!deps.call) throw new ValidationError("tag", "tags need the WeChat API; this service runs without one");
    return deps.call;
  };

  return {
    async tagIdFor(name) {
      const known = await db.read((sql) => channelsStore.tagIdNamed(sql, accountId, name));
      if (known !== undefined) return known;
      try {
        return (await createTag(call(), name)).id;
      } catch (err) {
        if (!(err instanceof WeChatApiError)) throw err;
        if (err.errcode === 45056) throw new TagLimitError(name, { cause: err });
        // 45157: the account has the name already (made in the console, or by a creation whose answer was lost).
        if (err.errcode === 45157) {
          const existing = (await getTags(call())).find((t) => t.name === name);
          if (existing) return existing.id;
        }
        throw err;
      }
    },
    async rerunTagging(channelId) {
      const now = clock.now();
      const result = await db.transaction(async (sql) => {
        const channel = await channelsStore.getChannel(sql, accountId, channelId);
        if (!channel?.qrcodeId) throw new NotFoundError(`no channel ${channelId}`);
        if (channel.tagId == null) throw new ValidationError("tag", "the channel has no tag: set one with PATCH /api/channels/:id {tag}");
        const tagId = channel.tagId;
        const openIds = await channelsStore.channelFollowerIds(sql, channelId);
        const rows = openIds.map((openId) => taggingRow({ accountId, tagId, openId, channelId, at: now, now }));
        const added = await store.insertFollowUps(sql, rows);
        const retried = await store.retryFailedTaggings(sql, accountId, tagId, openIds, now);
        return { tagId, followers: openIds.length, queued: added + retried };
      });
      if (result.queued > 0) deps.wake?.();
      return result;
    },
  };
}
