/**
 * Customer-service messages, `POST /cgi-bin/message/custom/send` (wechat-api.md §10.1): a text,
 * or an image by media_id, to a user inside a send window. The window rules are the platform's:
 * 45015 (no window open, or the user unfollowed) and 45047 (its messages used up) come back as a
 * `WeChatApiError` with that errcode, not retryable: a retry cannot reopen a window.
 * @module
 */
import type { CallOptions } from "./client.ts";

export const CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send";

export type CustomMessage = { touser: string; text: string; image?: undefined } | { touser: string; image: { mediaId: string }; text?: undefined };

type Call = <T>(path: string, options?: CallOptions) => Promise<T>;

/**
 * @example
 * await sendCustomMessage(call, { touser: openId, text: "Thanks for following!" });
 * await sendCustomMessage(call, { touser: openId, image: { mediaId } });
 */
export async function sendCustomMessage(call: Call, message: CustomMessage): Promise<void> {
  const json =
    message.image !== undefined
      ? { touser: message.touser, msgtype: "image", image: { media_id: message.image.mediaId } }
      : { touser: message.touser, msgtype: "text", text: { content: message.text } };
  await call(CUSTOM_SEND_PATH, { method: "POST", json });
}
