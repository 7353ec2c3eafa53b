/**
 * `GET /emulator/users/:openId/messages`: every message the user received, oldest first, passive
 * replies and customer-service messages together (`received-messages.ts`), with the send windows
 * open for them now. An image's bytes are at `mediaUrl` (`GET /emulator/media/:mediaId`).
 * @module
 */
import type { FastifyInstance } from "fastify";
import type { EmulatorContext } from "./context.ts";
import { openIdField } from "./control-body.ts";
import { receivedBy } from "./received-messages.ts";
import { openWindowsOf } from "./send-windows.ts";

export function registerReceivedRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;

  app.get("/emulator/users/:openId/messages", async (request, reply) => {
    const openId = openIdField.safeParse((request.params as { openId?: unknown }).openId);
    if (!openId.success) {
      return reply
        .code(400)
        .send({ statusCode: 400, error: "Bad Request", message: "GET /emulator/users/:openId/messages: openId must be 1 to 64 letters, digits, _ or -" });
    }
    const messages = receivedBy(state, openId.data).map((m) =>
      m.mediaId === undefined ? m : { ...m, mediaUrl: `/emulator/media/${encodeURIComponent(m.mediaId)}` },
    );
    return { openId: openId.data, messages, sendWindows: openWindowsOf(state, openId.data, ctx.now()) };
  });
}
