/**
 * `POST /cgi-bin/message/custom/send` (wechat-api.md §10.1): text, image, voice, video (by
 * media_id) and news (one article) messages to a user inside a send window (`send-windows.ts`).
 * Checks, in order: 47001 not JSON, 40003 an OpenID the account never had, 40008 another msgtype,
 * then the message's own (44004 empty text, 45002 text past 2,048 characters, 40007 unknown or
 * expired media or media of another type, 45008 not exactly one article), then the window (45015
 * closed or unfollowed, 45047 used up). An accepted message is logged as received by the user.
 *
 * The 2,048-character limit is an assumption: the platform documents 45002 but no length (the
 * community's figure is 2048, in units nobody pinned down); characters here, as the emulator's
 * own `POST /emulator/message` counts them.
 * @module
 */
import type { FastifyInstance } from "fastify";
import { beginApiCall, wireJsonObject } from "./api-call.ts";
import type { EmulatorContext } from "./context.ts";
import { findLiveMedia } from "./media.ts";
import type { MediaType } from "./options.ts";
import { logReceived, type ReceivedMessage } from "./received-messages.ts";
import { takeSendSlot } from "./send-windows.ts";
import { isKnownOpenId } from "./tags.ts";
import { sendWire, sendWireError } from "./wire.ts";

export const CUSTOM_TEXT_MAX_CHARS = 2_048;
export const NEWS_ARTICLES_MAX = 1; // 45008 past one article (§10.1; older documents: 8)

type Checked = { ok: true; message: Pick<ReceivedMessage, "msgType" | "text" | "mediaId"> } | { ok: false; errcode: number };

const field = (body: Record<string, unknown>, key: string): Record<string, unknown> => {
  const value = body[key];
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
};

function checkMedia(ctx: EmulatorContext, msgType: string, mediaId: unknown, types: readonly MediaType[], now: number): Checked {
  if (typeof mediaId !== "string" || findLiveMedia(ctx.state, mediaId, types, now) === undefined) return { ok: false, errcode: 40007 };
  return { ok: true, message: { msgType, mediaId } };
}

/** The message a body describes, or its errcode. */
function checkMessage(ctx: EmulatorContext, body: Record<string, unknown>, now: number): Checked {
  const msgType = body["msgtype"];
  switch (msgType) {
    case "text": {
      const content = field(body, "text")["content"];
      if (typeof content !== "string" || content === "") return { ok: false, errcode: 44004 };
      if (Array.from(content).length > CUSTOM_TEXT_MAX_CHARS) return { ok: false, errcode: 45002 };
      return { ok: true, message: { msgType, text: content } };
    }
    case "image":
      return checkMedia(ctx, msgType, field(body, "image")["media_id"], ["image"], now);
    case "voice":
      return checkMedia(ctx, msgType, field(body, "voice")["media_id"], ["voice"], now);
    case "video":
      return checkMedia(ctx, msgType, field(body, "video")["media_id"], ["video"], now);
    case "news": {
      const articles = field(body, "news")["articles"];
      if (!Array.isArray(articles) || articles.length === 0 || articles.length > NEWS_ARTICLES_MAX) return { ok: false, errcode: 45008 };
      const title = (articles[0] as { title?: unknown } | null)?.title;
      return { ok: true, message: { msgType, text: typeof title === "string" ? title : "" } };
    }
    default:
      return { ok: false, errcode: 40008 };
  }
}

export function registerCustomMessageRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, random } = ctx;

  app.post("/cgi-bin/message/custom/send", async (request, reply) => {
    const now = beginApiCall(ctx, request, reply, "message/custom/send", "/cgi-bin/message/custom/send");
    if (now === undefined) return reply;
    const body = wireJsonObject(request.body);
    if (body === undefined) return sendWireError(reply, 47001, random);
    const openId = body["touser"];
    if (!isKnownOpenId(state, openId)) return sendWireError(reply, 40003, random);
    const checked = checkMessage(ctx, body, now);
    if (!checked.ok) return sendWireError(reply, checked.errcode, random);
    const slot = takeSendSlot(state, openId, now);
    if (!slot.ok) return sendWireError(reply, slot.errcode, random);
    logReceived(state, { openId, at: now, via: "customer_service", ...checked.message });
    ctx.logger.debug({ openId, msgType: checked.message.msgType }, "emulator accepted a customer-service message");
    return sendWire(reply, { errcode: 0, errmsg: "ok" });
  });
}
