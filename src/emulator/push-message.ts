/**
 * What the platform POSTs to the account's server URL (wechat-api.md §3, §5, §6): the event XML,
 * the body for each mode, and the signed query. Pure functions: the caller supplies the time,
 * the nonce and the 16 random bytes, so a push is reproducible (vector V6 pins it).
 * @module
 */
import type { Random } from "../deps.ts";
import { cdata, computeMsgSignature, computeSignature, encryptMessage } from "../push/index.ts";
import type { PushMode } from "./options.ts";

/** The events the emulator pushes. `SCAN` is upper-case on the wire, the others lower-case. */
export type PushEventName = "subscribe" | "SCAN" | "unsubscribe";

/** The fields of one event push, in camelCase (style.md §2); wire names appear only in the XML. */
export interface EventPush {
  /** The account's `gh_…` id (`ToUserName`). */
  originalId: string;
  /** The user's OpenID (`FromUserName`). */
  openId: string;
  /** Epoch seconds (`CreateTime`). */
  createTimeSec: number;
  event: PushEventName;
  /** `qrscene_<scene>` for a follow through a code, `<scene>` for SCAN, `""` otherwise. */
  eventKey: string;
  /** The scanned code's ticket; only on scans. */
  ticket?: string | undefined;
}

/**
 * The event XML, compact and all strings in CDATA like the platform's samples (§3c, §3d). Plain
 * follows and unfollows carry an empty EventKey, as real pushes do (§3a).
 * @example
 * buildEventXml({ originalId: "gh_7f083739789a", openId: "o1", createTimeSec: 1409304348, event: "SCAN", eventKey: "123", ticket: "gQ…" });
 * // "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>…<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[123]]></EventKey><Ticket>…</Ticket></xml>"
 */
export function buildEventXml(push: EventPush): string {
  return (
    `<xml><ToUserName>${cdata(push.originalId)}</ToUserName><FromUserName>${cdata(push.openId)}</FromUserName>` +
    `<CreateTime>${push.createTimeSec}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event>${cdata(push.event)}</Event>` +
    `<EventKey>${cdata(push.eventKey)}</EventKey>` +
    (push.ticket === undefined ? "" : `<Ticket>${cdata(push.ticket)}</Ticket>`) +
    `</xml>`
  );
}

/** A user's text message (`POST /emulator/message`), e.g. the `1` that confirms a scan-to-login. */
export interface TextMessagePush {
  originalId: string;
  openId: string;
  createTimeSec: number;
  content: string;
  /** Decimal, unique per message (the platform's 64-bit MsgId). */
  msgId: string;
}

/**
 * A text message's XML, as the platform pushes it (wechat-api.md §3, ordinary messages).
 * @example
 * buildTextMessageXml({ originalId: "gh_7f083739789a", openId: "o1", createTimeSec: 1409304348, content: "1", msgId: "1234567890123456" });
 * // "<xml><ToUserName>…</ToUserName>…<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[1]]></Content><MsgId>1234567890123456</MsgId></xml>"
 */
export function buildTextMessageXml(push: TextMessagePush): string {
  return (
    `<xml><ToUserName>${cdata(push.originalId)}</ToUserName><FromUserName>${cdata(push.openId)}</FromUserName>` +
    `<CreateTime>${push.createTimeSec}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>${cdata(push.content)}</Content>` +
    `<MsgId>${push.msgId}</MsgId></xml>`
  );
}

export interface PushBody {
  body: string;
  /** The `Encrypt` value, for `msg_signature`; undefined in plain mode. */
  encrypt: string | undefined;
}

/**
 * The body for a mode (§6): the XML itself (plain); the XML with `<Encrypt>` added after the
 * plaintext fields (compatible); `<ToUserName>` and `<Encrypt>` only (safe).
 * @example
 * buildPushBody({ mode: "safe", encodingAESKey, appId, originalId, xml, random16 }).body; // "<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>"
 */
export function buildPushBody(input: {
  mode: PushMode;
  encodingAESKey: string | undefined;
  appId: string;
  originalId: string;
  xml: string;
  random16: Uint8Array;
}): PushBody {
  const { mode, xml } = input;
  if (mode === "plain") return { body: xml, encrypt: undefined };
  if (input.encodingAESKey === undefined) throw new Error(`emulator: ${mode} mode without an EncodingAESKey`); // options.ts prevents it
  const encrypt = encryptMessage({ encodingAESKey: input.encodingAESKey, appId: input.appId, xml, random16: input.random16 });
  const encryptElement = `<Encrypt>${cdata(encrypt)}</Encrypt>`;
  if (mode === "compatible") return { body: `${xml.slice(0, -"</xml>".length)}${encryptElement}</xml>`, encrypt };
  return { body: `<xml><ToUserName>${cdata(input.originalId)}</ToUserName>${encryptElement}</xml>`, encrypt };
}

/**
 * The query of a push (§3, §5): `signature`, `timestamp`, `nonce` and `openid` always; with an
 * `encrypt` value also `encrypt_type=aes` and `msg_signature` over it.
 * @example
 * signPushQuery({ token: "pamtest", timestamp: "1409304348", nonce: "xxxxxx", openId: "o1", encrypt: undefined });
 * // "signature=76480565cbe296026c53aaacd1ad523a1ddba24f&timestamp=1409304348&nonce=xxxxxx&openid=o1"
 */
export function signPushQuery(input: { token: string; timestamp: string; nonce: string; openId: string; encrypt: string | undefined }): string {
  const { token, timestamp, nonce, encrypt } = input;
  const params = new URLSearchParams({ signature: computeSignature(token, timestamp, nonce), timestamp, nonce, openid: input.openId });
  if (encrypt !== undefined) {
    params.set("encrypt_type", "aes");
    params.set("msg_signature", computeMsgSignature(token, timestamp, nonce, encrypt));
  }
  return params.toString();
}

/** Appends a query to a URL that may already have one. */
export function withQuery(url: string, query: string): string {
  const hash = url.indexOf("#");
  const base = hash < 0 ? url : url.slice(0, hash);
  return `${base}${base.includes("?") ? "&" : "?"}${query}`;
}

const NONCE_DIGITS = 10; // the platform's nonces are decimal, 9–10 digits (e.g. 1320562132, 260774613)

/** A nonce shaped like the platform's: decimal digits, no leading zero. */
export function generateNonce(random: Random): string {
  const bytes = random.bytes(NONCE_DIGITS);
  let nonce = String(1 + (bytes[0]! % 9));
  for (let i = 1; i < NONCE_DIGITS; i++) nonce += String(bytes[i]! % 10);
  return nonce;
}
