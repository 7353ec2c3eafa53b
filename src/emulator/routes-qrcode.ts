/**
 * `POST /cgi-bin/qrcode/create` (api.weixin.qq.com) and `GET /cgi-bin/showqrcode`
 * (mp.weixin.qq.com), both served on the emulator's one port (wechat-api.md §1, §2).
 * @module
 */
import type { FastifyInstance } from "fastify";
import { queryValue, rawBody, type EmulatorContext } from "./context.ts";
import { countCall, overDailyQuota } from "./counters.ts";
import { takeFault } from "./faults.ts";
import { qrJpegFor } from "./qr-image.ts";
import { createQrCode, findLiveQrCodeByTicket, parseQrCreateBody } from "./qrcodes.ts";
import { checkAccessToken } from "./tokens.ts";
import { sendWire, sendWireError } from "./wire.ts";

const SHOWQRCODE_CACHE_CONTROL = "max-age=604800"; // the doc's sample headers

export function registerQrCodeRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, random } = ctx;

  app.get("/cgi-bin/qrcode/create", async (_request, reply) => {
    countCall(state, "qrcode/create", ctx.now());
    return sendWireError(reply, 43002, random);
  });

  app.post("/cgi-bin/qrcode/create", async (request, reply) => {
    const now = ctx.now();
    const countToday = countCall(state, "qrcode/create", now);
    const fault = takeFault(state, "/cgi-bin/qrcode/create");
    if (fault !== undefined) return sendWireError(reply, fault, random);
    const token = checkAccessToken(state, queryValue(request.query, "access_token"), now);
    if (!token.ok) return sendWireError(reply, token.errcode, random);
    if (overDailyQuota(state, "qrcode/create", countToday)) return sendWireError(reply, 45009, random);
    // The body is read as text whatever its Content-Type: the seed's PHP posts JSON as a form.
    const parsed = parseQrCreateBody(rawBody(request.body));
    if (!parsed.ok) return sendWireError(reply, parsed.errcode, random);
    const created = createQrCode(state, parsed.request, now, random);
    if (!created.ok) return sendWireError(reply, created.errcode, random);
    const { code } = created;
    ctx.logger.debug({ action: code.action, scene: code.scene, reused: created.reused }, "emulator created a QR code");
    return code.expireSeconds === null
      ? sendWire(reply, { ticket: code.ticket, url: code.url })
      : sendWire(reply, { ticket: code.ticket, expire_seconds: code.expireSeconds, url: code.url });
  });

  app.get("/cgi-bin/showqrcode", async (request, reply) => {
    const now = ctx.now();
    countCall(state, "showqrcode", now);
    // The query parser has URL-decoded the ticket once; an unencoded `+` arrived as a space.
    const ticket = queryValue(request.query, "ticket") ?? "";
    const code = findLiveQrCodeByTicket(state, ticket, now);
    if (code === undefined) return reply.code(404).type("text/plain; charset=utf-8").send("Not Found");
    return reply
      .code(200)
      .header("content-type", "image/jpg") // sic: the platform's own (non-standard) type
      .header("cache-control", SHOWQRCODE_CACHE_CONTROL)
      .send(qrJpegFor(state.images, code.ticket, code.url));
  });
}
