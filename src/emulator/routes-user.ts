/**
 * `/emulator/scan`, `/emulator/subscribe`, `/emulator/unsubscribe`: the emulator acting as a
 * WeChat user, `/emulator/followers`, and `/emulator/users` (the people the phone page acts as,
 * with their nicknames; `PUT /emulator/users/:openId {nickname}` creates or renames one). Each action changes the follower and pushes the event
 * the platform would (wechat-api.md §3), then answers once the delivery is over, every attempt
 * included, with the delivery record.
 *
 * Refusals answer `{ pushed: false, reason, message }`: 404 `unknown_code`, 410 `expired`,
 * 400 `no_qr_in_image` / `invalid_request`, 409 `not_following` / `already_following` /
 * `push_not_configured`.
 * @module
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { decodeQrImage } from "../qr/decode.ts";
import type { EmulatorContext } from "./context.ts";
import { nicknameField, openIdField, readJsonBody } from "./control-body.ts";
import { follow, isFollowing, listFollowers, listUsers, seedFollowers, setNickname, unfollow, userView } from "./followers.ts";
import type { PushTarget } from "./options.ts";
import { deliverPush, type DeliveryRecord } from "./push-delivery.ts";
import type { PushEventName } from "./push-message.ts";
import { isExpired } from "./qrcodes.ts";
import { closeSendWindows, openSendWindow } from "./send-windows.ts";
import type { QrCodeRecord, QrScene } from "./state.ts";

/** Where a scanned image must point to be a parametric code. */
const CODE_URL_PREFIX = "http://weixin.qq.com/q/";
/** Phone photos are bigger than API bodies. */
const SCAN_BODY_LIMIT_BYTES = 8 * 1_048_576;

const scanBody = z
  .strictObject({
    openId: openIdField,
    nickname: nicknameField.optional(),
    ticket: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
    image: z.string().min(1).optional(),
  })
  .refine((b) => [b.ticket, b.url, b.image].filter((v) => v !== undefined).length === 1, "give exactly one of ticket, url or image");
const userBody = z.strictObject({ openId: openIdField, nickname: nicknameField.optional() });
const nicknameBody = z.strictObject({ nickname: nicknameField });
const seedBody = z.strictObject({ openIds: z.array(openIdField).min(1).max(100_000) });

type Reason = "invalid_request" | "unknown_code" | "expired" | "no_qr_in_image" | "not_following" | "already_following" | "push_not_configured";

function refuse(reply: FastifyReply, status: number, reason: Reason, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).send({ pushed: false, reason, message, ...extra });
}

const sceneValue = (scene: QrScene): string => (scene.id !== undefined ? String(scene.id) : scene.str);

/** The code a phone camera would read from `image` (base64, optionally a `data:` URL). */
function readImage(image: string): { ok: true; text: string } | { ok: false } {
  const base64 = image.replace(/^data:[^,]*;base64,/, "");
  try {
    return { ok: true, text: decodeQrImage(Buffer.from(base64, "base64")) };
  } catch {
    return { ok: false };
  }
}

export function registerUserRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;

  /** The configured target, or a 409 answer. */
  function pushTarget(reply: FastifyReply): PushTarget | undefined {
    const target = state.config.push;
    if (target === undefined) {
      refuse(reply, 409, "push_not_configured", "the emulator has no push URL: start it with --push-url, or PUT /emulator/push {url, token}");
    }
    return target;
  }

  async function push(
    target: PushTarget,
    input: { openId: string; event: PushEventName; eventKey: string; code?: QrCodeRecord },
  ): Promise<{ pushed: true; openId: string; event: PushEventName; eventKey: string; createTime: number; delivery: DeliveryRecord }> {
    const { code } = input;
    // The interaction, not the delivery, opens the window: the user scanned, whatever the server answers.
    if (input.event === "unsubscribe") closeSendWindows(state, input.openId);
    else openSendWindow(state, input.openId, "event", ctx.now());
    const delivery = await deliverPush(ctx, target, { openId: input.openId, event: input.event, eventKey: input.eventKey, ticket: code?.ticket });
    return {
      pushed: true,
      openId: input.openId,
      event: input.event,
      eventKey: input.eventKey,
      createTime: delivery.createTime,
      ...(code === undefined ? {} : { ticket: code.ticket, scene: code.scene }),
      delivery,
    };
  }

  app.get("/emulator/followers", async () => {
    const followers = listFollowers(state);
    return { followers, subscribed: followers.filter((f) => f.subscribed).length };
  });

  app.post("/emulator/followers", async (request, reply) => {
    const parsed = readJsonBody("POST /emulator/followers {openIds: [...]}", request.body, seedBody);
    if (!parsed.ok) return refuse(reply, 400, "invalid_request", parsed.message);
    const added = seedFollowers(state, parsed.value.openIds, ctx.now());
    ctx.logger.info({ added }, "emulator seeded followers");
    return { added, subscribed: listFollowers(state).filter((f) => f.subscribed).length };
  });

  app.get("/emulator/users", async () => ({ users: listUsers(state) }));

  app.put("/emulator/users/:openId", async (request, reply) => {
    const openId = openIdField.safeParse((request.params as { openId?: unknown }).openId);
    if (!openId.success) return refuse(reply, 400, "invalid_request", "PUT /emulator/users/:openId: openId must be 1 to 64 letters, digits, _ or -");
    const parsed = readJsonBody("PUT /emulator/users/:openId {nickname}", request.body, nicknameBody);
    if (!parsed.ok) return refuse(reply, 400, "invalid_request", parsed.message);
    setNickname(state, openId.data, parsed.value.nickname);
    return userView(state, openId.data);
  });

  app.post("/emulator/scan", { bodyLimit: SCAN_BODY_LIMIT_BYTES }, async (request, reply) => {
    const parsed = readJsonBody("POST /emulator/scan {openId, nickname?, ticket | url | image}", request.body, scanBody);
    if (!parsed.ok) return refuse(reply, 400, "invalid_request", parsed.message);
    const { openId: user, ticket, image, nickname } = parsed.value;
    if (nickname !== undefined) setNickname(state, user, nickname);
    let url = parsed.value.url;
    if (image !== undefined) {
      const read = readImage(image);
      if (!read.ok) return refuse(reply, 400, "no_qr_in_image", "no QR code could be read from the image (give a PNG or JPEG, base64)");
      url = read.text;
    }
    const code = ticket !== undefined ? state.qrcodes.byTicket.get(ticket) : url?.startsWith(CODE_URL_PREFIX) ? state.qrcodes.byUrl.get(url) : undefined;
    if (code === undefined) {
      const what = ticket !== undefined ? "ticket" : image !== undefined ? "image's code" : "url";
      return refuse(reply, 404, "unknown_code", `this emulator created no code with this ${what}`);
    }
    const now = ctx.now();
    if (isExpired(code, now)) {
      return refuse(reply, 410, "expired", `the code expired at ${new Date(code.expiresAt ?? 0).toISOString()}`, { expiresAt: code.expiresAt });
    }
    const target = pushTarget(reply);
    if (target === undefined) return reply;
    const scene = sceneValue(code.scene);
    // The follow happens at the scan, whatever becomes of the push.
    if (isFollowing(state, user)) return push(target, { openId: user, event: "SCAN", eventKey: scene, code });
    follow(state, user, now);
    return push(target, { openId: user, event: "subscribe", eventKey: `qrscene_${scene}`, code });
  });

  app.post("/emulator/subscribe", async (request, reply) => {
    const parsed = readJsonBody("POST /emulator/subscribe {openId, nickname?}", request.body, userBody);
    if (!parsed.ok) return refuse(reply, 400, "invalid_request", parsed.message);
    const user = parsed.value.openId;
    if (parsed.value.nickname !== undefined) setNickname(state, user, parsed.value.nickname);
    if (isFollowing(state, user)) return refuse(reply, 409, "already_following", `${user} already follows the account`);
    const target = pushTarget(reply);
    if (target === undefined) return reply;
    follow(state, user, ctx.now());
    return push(target, { openId: user, event: "subscribe", eventKey: "" });
  });

  app.post("/emulator/unsubscribe", async (request, reply) => {
    const parsed = readJsonBody("POST /emulator/unsubscribe {openId}", request.body, z.strictObject({ openId: openIdField }));
    if (!parsed.ok) return refuse(reply, 400, "invalid_request", parsed.message);
    const user = parsed.value.openId;
    if (!isFollowing(state, user)) return refuse(reply, 409, "not_following", `${user} does not follow the account`);
    const target = pushTarget(reply);
    if (target === undefined) return reply;
    unfollow(state, user, ctx.now());
    return push(target, { openId: user, event: "unsubscribe", eventKey: "" });
  });
}
