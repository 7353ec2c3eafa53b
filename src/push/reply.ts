/**
 * Passive replies (wechat-api.md §4, §6). A push is answered with `success` unless there is
 * something to say (design.md "Replies": never an empty XML reply); a text reply swaps
 * To/From, and is wrapped in the encrypted envelope when the push came encrypted.
 * @module
 */
import { ValidationError } from "../errors.ts";
import { FORBIDDEN_CHARS_RE } from "./parse-xml.ts";

/** What to send back as the HTTP response to a push. */
export interface PushReply {
  body: string;
  contentType: "application/xml" | "text/plain";
}

/** The reply that tells WeChat "received, nothing to say": it neither retries nor shows the user anything. */
export const SUCCESS_REPLY: PushReply = Object.freeze({ body: "success", contentType: "text/plain" });

/**
 * Wraps a value in CDATA, splitting any `]]>` as `]]]]><![CDATA[>` so it survives a round trip.
 * @example
 * cdata("a]]>b"); // "<![CDATA[a]]]]><![CDATA[>b]]>"
 */
export function cdata(value: string): string {
  return `<![CDATA[${value.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
}

/**
 * Builds the passive text reply XML, compact as WeChat's own samples (V6 in wechat-api.md).
 * @param input.openId the user to answer (the push's FromUserName), becomes ToUserName.
 * @param input.originalId the account's `gh_…` id (the push's ToUserName), becomes FromUserName.
 * @param input.createTime epoch seconds.
 * @throws ValidationError when a value holds a character XML cannot carry.
 * @example
 * buildTextReplyXml({ openId: "oia2T…", originalId: "gh_7f08…", createTime: 1409304348, content: "welcome" });
 * // "<xml><ToUserName><![CDATA[oia2T…]]></ToUserName>…<Content><![CDATA[welcome]]></Content></xml>"
 */
export function buildTextReplyXml(input: { openId: string; originalId: string; createTime: number; content: string }): string {
  for (const [field, value] of [
    ["text", input.content],
    ["openId", input.openId],
    ["originalId", input.originalId],
  ] as const) {
    // XML 1.0 cannot carry these at all; WeChat would reject the reply.
    if (FORBIDDEN_CHARS_RE.test(value)) throw new ValidationError(field, "contains a control character that XML cannot carry");
  }
  if (!Number.isSafeInteger(input.createTime) || input.createTime < 0) throw new ValidationError("createTime", "must be a non-negative integer of seconds");
  return (
    `<xml><ToUserName>${cdata(input.openId)}</ToUserName><FromUserName>${cdata(input.originalId)}</FromUserName>` +
    `<CreateTime>${input.createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>${cdata(input.content)}</Content></xml>`
  );
}

/**
 * Builds the envelope of an encrypted reply; `msgSignature` must be computed over this `encrypt`.
 * @example
 * buildEncryptedReplyXml({ encrypt, msgSignature, timestamp: "1409304348", nonce: "xxxxxx" });
 * // "<xml><Encrypt><![CDATA[…]]></Encrypt><MsgSignature><![CDATA[…]]></MsgSignature><TimeStamp>1409304348</TimeStamp><Nonce><![CDATA[xxxxxx]]></Nonce></xml>"
 */
export function buildEncryptedReplyXml(input: { encrypt: string; msgSignature: string; timestamp: string; nonce: string }): string {
  return (
    `<xml><Encrypt>${cdata(input.encrypt)}</Encrypt><MsgSignature>${cdata(input.msgSignature)}</MsgSignature>` +
    `<TimeStamp>${input.timestamp}</TimeStamp><Nonce>${cdata(input.nonce)}</Nonce></xml>`
  );
}
