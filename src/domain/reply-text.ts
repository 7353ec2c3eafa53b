/**
 * Texts wxqr sends to a follower as a passive reply (a channel's welcome, the scan-session site
 * name inside its prompts) are checked when they are configured, not when a push arrives: by then
 * the push's effects are committed and a reply that cannot be built can only become `success`.
 * @module
 */

// Control characters (C0 but the line feed, DEL, C1) and the non-characters U+FFFE/U+FFFF: XML
// cannot carry most of them (push/reply.ts refuses those), and none belongs in a chat message.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_RE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\uFFFE\uFFFF]/;

/** What a validation error says about such a text. */
export const REPLY_TEXT_RULE = "must not contain control characters other than line breaks (\\n)";

/**
 * Whether `text` can be sent as a passive text reply: no control character but `\n`.
 * @example
 * isReplyText("Welcome!\nThanks for scanning"); // true
 * isReplyText("tab\there"); // false
 */
export function isReplyText(text: string): boolean {
  return !FORBIDDEN_RE.test(text);
}

/** What a channel's reply texts may name: the scanned scene and the channel's name. */
export interface ReplyPlaceholders {
  scene: string;
  channel: string;
}

const PLACEHOLDER_RE = /\{(scene|channel)\}/g;

/**
 * Puts the scene and the channel's name in place of `{scene}` and `{channel}`, in one pass: a
 * name that itself holds `{scene}` stays as written. Any other `{…}` is left as is (a reply may
 * well contain braces). Nothing is escaped here: the reply is built as XML (CDATA) by
 * push/reply.ts, which escapes what it must.
 * @example
 * fillPlaceholders("欢迎来自{channel}的朋友 ({scene}) {x}", { scene: "store-12", channel: "门店 A" });
 * // "欢迎来自门店 A的朋友 (store-12) {x}"
 */
export function fillPlaceholders(text: string, values: ReplyPlaceholders): string {
  return text.replace(PLACEHOLDER_RE, (_, name: keyof ReplyPlaceholders) => values[name]);
}
