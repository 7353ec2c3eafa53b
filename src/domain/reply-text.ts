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
