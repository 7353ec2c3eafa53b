/**
 * `POST /emulator/message {openId, content}`: the emulator acting as a follower who sends the
 * account a text message (e.g. the `1` that confirms a scan-to-login). Pushed like the events,
 * signed and, per the push mode, encrypted, with the platform's retries; answers once the
 * delivery is over, with its record (the passive reply is in `delivery.userSaw`).
 *
 * Refusals answer `{ pushed: false, reason, message }`: 400 `invalid_request`, 409
 * `not_following` (only followers can write to an account) / `push_not_configured`.
 * @module
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { openIdField, readJsonBody } from "./control-body.ts";
import { isFollowing } from "./followers.ts";
import { deliverPush } from "./push-delivery.ts";
import { openSendWindow } from "./send-windows.ts";

/** The platform's limit for a text message. */
const CONTENT_MAX_CHARS = 2048;

const messageBody = z.strictObject({
  openId: openIdField,
  content: z.string().min(1).max(CONTENT_MAX_CHARS),
});

function refuse(reply: FastifyReply, status: number, reason: string, message: string): FastifyReply {
  return reply.code(status).send({ pushed: false, reason, message });
}

/** A MsgId like the platform's: a positive 64-bit decimal. */
function newMsgId(ctx: EmulatorContext): string {
  const b = ctx.random.bytes(8);
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  return String(BigInt.asUintN(63, n) || 1n);
}

export function registerMessageRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;
  app.post("/emulator/message", async (request, reply) => {
    const parsed = readJsonBody("POST /emulator/message {openId, content}", request.body, messageBody);
    if (!parsed.ok) return refuse(reply, 400, "invalid_request", parsed.message);
    const { openId, content } = parsed.value;
    if (!isFollowing(state, openId)) return refuse(reply, 409, "not_following", `${openId} does not follow the account, so cannot write to it`);
    const target = state.config.push;
    if (target === undefined)
      return refuse(reply, 409, "push_not_configured", "the emulator has no push URL: start it with --push-url, or PUT /emulator/push {url, token}");
    openSendWindow(state, openId, "user_message", ctx.now());
    const delivery = await deliverPush(ctx, target, { event: "text", openId, content, msgId: newMsgId(ctx) });
    return { pushed: true, openId, content, createTime: delivery.createTime, delivery };
  });
}
