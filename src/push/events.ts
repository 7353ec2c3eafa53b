/**
 * Turns the flat fields of a push into one typed `PushMessage` (style.md §2 "One scan message";
 * wechat-api.md §3, §8). WeChat's wire names stop here: everything after uses camelCase.
 *
 * - `subscribe` with an EventKey starting `qrscene_` → `scan` (new follower; the one leading
 *   prefix stripped, as wechatpy PR #430 does);
 * - `SCAN` → `scan` (already a follower; EventKey verbatim);
 * - other `subscribe` → `subscribe` (a non-scene EventKey such as `last_trade_no_…` is kept);
 * - `unsubscribe` → `unsubscribe`;
 * - anything else → `other`, with every field kept: unknown input is passed on, not dropped.
 *
 * No valid code has an empty scene (scene_str is 1..64 characters), so a bare `qrscene_` stays a
 * `subscribe` and a `SCAN` with an empty EventKey becomes `other`.
 * @module
 */
import { PushFormatError } from "../errors.ts";

/** The closed set of message kinds (style.md §2). */
export const PUSH_MESSAGE_KINDS = ["scan", "subscribe", "unsubscribe", "other"] as const;
export type PushMessageKind = (typeof PUSH_MESSAGE_KINDS)[number];

/** A QR scene as it arrived. `id` is set only when `str` is a canonical decimal integer 0..4294967295. */
export interface Scene {
  str: string;
  id?: number;
}

interface PushMessageBase {
  /** The user's OpenID (`FromUserName`). */
  openId: string;
  /** The account's original id, `gh_…` (`ToUserName`); not its app id (`wx…`). */
  originalId: string;
  /** When WeChat created the message, in epoch **seconds** (`CreateTime`). */
  createTime: number;
  /** True when the push came encrypted (`encrypt_type=aes`); its reply is encrypted too. */
  encrypted: boolean;
  /**
   * Identifies a delivery for deduplication (WeChat redelivers up to 3 times):
   * `FromUserName|CreateTime|Event|EventKey` for events, `FromUserName|CreateTime|msg|MsgId` for
   * messages with a MsgId (design.md invariant 1, wechat-api.md §4).
   */
  dedupeKey: string;
  /** `Event` as sent; undefined for a message (text, image, …), which has none. */
  event: string | undefined;
  /**
   * `EventKey` as sent, `""` kept when it came empty; undefined when absent. The scan log records
   * it so (wechat-api.md §3a: a plain follow may carry an empty key or none); the kinds that read
   * the key give it parsed too (`ScanMessage.scene`, `SubscribeMessage.eventKey`).
   */
  eventKeyAsSent: string | undefined;
  /** Every field of the (decrypted) push, flattened as by `parsePushXml`. */
  raw: Record<string, string>;
}

/** A user scanned a parametric QR code: either following through it or, already following, scanning it. */
export interface ScanMessage extends PushMessageBase {
  kind: "scan";
  /** `subscribe` or `SCAN`, as sent (compared case-insensitively). */
  event: string;
  /** True for `subscribe` + `qrscene_…` (the scan made them follow); false for `SCAN`. */
  isNewFollower: boolean;
  scene: Scene;
  /** The ticket of the scanned code, when WeChat sent one. */
  ticket: string | undefined;
}

/** A follow that did not come through a parametric QR code. */
export interface SubscribeMessage extends PushMessageBase {
  kind: "subscribe";
  event: string;
  /** A non-scene EventKey (e.g. `last_trade_no_…` after WeChat Pay); undefined when absent or empty. */
  eventKey: string | undefined;
}

export interface UnsubscribeMessage extends PushMessageBase {
  kind: "unsubscribe";
  event: string;
}

/** Any other message or event, passed on whole. */
export interface OtherMessage extends PushMessageBase {
  kind: "other";
  /** `MsgType` as sent, e.g. `text`, `event`. */
  msgType: string;
  /** `Content` as sent: what the user wrote, in a text message; undefined when absent. */
  content: string | undefined;
  /** `MsgId` as sent (a 64-bit decimal, so kept as text); undefined when absent, as on events. */
  msgId: string | undefined;
  /** The same record as `raw`. */
  fields: Record<string, string>;
}

export type PushMessage = ScanMessage | SubscribeMessage | UnsubscribeMessage | OtherMessage;

const SCENE_PREFIX = "qrscene_";
/** Canonical decimal, no sign, no leading zeros, at most 10 digits; the range is checked after. */
const SCENE_ID_RE = /^(?:0|[1-9][0-9]{0,9})$/;
const SCENE_ID_MAX = 4_294_967_295; // "32-bit unsigned integer" (event doc)
/** WeChat's CreateTime is a decimal integer of seconds; 15 digits stays within Number's exact range. */
const CREATE_TIME_RE = /^[0-9]{1,15}$/;
/**
 * The last second a CreateTime may name (2106-02-07, the unsigned 32-bit range WeChat's integer
 * fields use). A larger value is no instant WeChat sends, and no day it could be counted on:
 * such a push is refused (400) rather than failing in storage (503) and being delivered again forever.
 */
export const CREATE_TIME_MAX_SEC = 4_294_967_295;

/**
 * Reads a scene value: `id` only for canonical decimals in 0..2^32−1 (`"007"` keeps just `str`).
 * @example
 * parseScene("123"); // { str: "123", id: 123 }
 * parseScene("car"); // { str: "car" }
 */
export function parseScene(str: string): Scene {
  if (SCENE_ID_RE.test(str)) {
    const id = Number(str);
    if (id <= SCENE_ID_MAX) return { str, id };
  }
  return { str };
}

function required(fields: Record<string, string>, name: string): string {
  const v = fields[name];
  if (v === undefined || v === "") {
    throw new PushFormatError(`push lacks <${name}>: is something other than WeChat posting to this URL?`, { field: name });
  }
  return v;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/**
 * Classifies parsed push fields into a `PushMessage`.
 * @param fields the output of `parsePushXml` (for an encrypted push: of the decrypted XML).
 * @param encrypted whether the push came encrypted.
 * @throws PushFormatError code PUSH_MALFORMED with `field` when ToUserName, FromUserName,
 * CreateTime or MsgType is missing or empty, or CreateTime is not a decimal integer of seconds up to
 * `CREATE_TIME_MAX_SEC`.
 * @example
 * toPushMessage(parsePushXml(xml), false); // { kind: "scan", scene: { str: "123123", id: 123123 }, … }
 */
export function toPushMessage(fields: Record<string, string>, encrypted: boolean): PushMessage {
  const originalId = required(fields, "ToUserName");
  const openId = required(fields, "FromUserName");
  const createTimeText = required(fields, "CreateTime");
  const msgType = required(fields, "MsgType");
  if (!CREATE_TIME_RE.test(createTimeText)) {
    throw new PushFormatError("push <CreateTime> is not a decimal integer of seconds", { field: "CreateTime" });
  }
  const createTime = Number(createTimeText);
  if (createTime > CREATE_TIME_MAX_SEC) {
    throw new PushFormatError(`push <CreateTime> is past ${CREATE_TIME_MAX_SEC} seconds (2106): no instant WeChat sends`, { field: "CreateTime" });
  }
  const base = { openId, originalId, createTime, encrypted, eventKeyAsSent: fields.EventKey, raw: fields };

  if (msgType.toLowerCase() !== "event") {
    const msgId = fields.MsgId;
    const dedupeKey = msgId !== undefined ? `${openId}|${createTimeText}|msg|${msgId}` : `${openId}|${createTimeText}|${msgType}|`;
    return { kind: "other", ...base, dedupeKey, msgType, event: fields.Event, content: fields.Content, msgId, fields };
  }

  const event = fields.Event ?? "";
  const eventKey = fields.EventKey ?? "";
  const dedupeKey = `${openId}|${createTimeText}|${event}|${eventKey}`;
  switch (event.toLowerCase()) {
    case "subscribe":
      if (eventKey.startsWith(SCENE_PREFIX) && eventKey.length > SCENE_PREFIX.length) {
        const scene = parseScene(eventKey.slice(SCENE_PREFIX.length));
        return { kind: "scan", ...base, dedupeKey, event, isNewFollower: true, scene, ticket: nonEmpty(fields.Ticket) };
      }
      return { kind: "subscribe", ...base, dedupeKey, event, eventKey: nonEmpty(eventKey) };
    case "scan":
      // A SCAN without a scene cannot come from a parametric code; pass it on as "other".
      if (eventKey !== "") {
        return { kind: "scan", ...base, dedupeKey, event, isNewFollower: false, scene: parseScene(eventKey), ticket: nonEmpty(fields.Ticket) };
      }
      break;
    case "unsubscribe":
      return { kind: "unsubscribe", ...base, dedupeKey, event };
  }
  return { kind: "other", ...base, dedupeKey, msgType, event: fields.Event, content: fields.Content, msgId: fields.MsgId, fields };
}
