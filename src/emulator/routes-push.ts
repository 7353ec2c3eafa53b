/**
 * `/emulator/push` (the account's server configuration, settable at run time so `wxqr dev` can
 * wire it after the service starts) and `/emulator/deliveries` (the push log). The Token and
 * EncodingAESKey are never returned.
 * @module
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ConfigProblem } from "../errors.ts";
import type { EmulatorContext } from "./context.ts";
import { badRequest, parseBody } from "./control-body.ts";
import { checkPushOptions, PUSH_MODES, WECHAT_ID_RE } from "./options.ts";
import { DELIVERY_LOG_MAX } from "./push-delivery.ts";
import type { EmulatorState } from "./state.ts";

const pushBody = z.strictObject({
  url: z.string(),
  token: z.string(),
  encodingAESKey: z.string().optional(),
  mode: z.enum(PUSH_MODES).optional(),
  accountId: z.string().regex(WECHAT_ID_RE, "accountId must be 1 to 64 letters, digits, _ or -").optional(),
  timeoutMs: z.number().optional(),
  maxRetries: z.number().optional(),
});

const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(DELIVERY_LOG_MAX).optional(),
  openId: z.string().optional(),
});

/** The push configuration without its secrets. */
export function pushView(state: EmulatorState) {
  const push = state.config.push;
  return {
    // The control API's JSON keeps the name `accountId` for the original id: a wire format does not change with a rename.
    accountId: state.config.originalId,
    push:
      push === undefined
        ? null
        : { url: push.url, mode: push.mode, timeoutMs: push.timeoutMs, maxRetries: push.maxRetries, hasEncodingAESKey: push.encodingAESKey !== undefined },
  };
}

export function registerPushRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, logger } = ctx;

  app.get("/emulator/push", async () => pushView(state));

  app.put("/emulator/push", async (request, reply) => {
    const route = "PUT /emulator/push {url, token, encodingAESKey?, mode?, accountId?, timeoutMs?, maxRetries?}";
    const parsed = parseBody(reply, route, request.body, pushBody);
    if (!parsed.ok) return reply;
    const problems: ConfigProblem[] = [];
    const target = checkPushOptions(parsed.value, problems);
    if (target === undefined) {
      badRequest(reply, `${route}: ${problems.map((p) => `${p.key} ${p.message}`).join("; ")}`);
      return reply;
    }
    state.config.push = target;
    if (parsed.value.accountId !== undefined) state.config.originalId = parsed.value.accountId;
    const view = pushView(state);
    logger.info(view, "emulator push target changed");
    return view;
  });

  app.delete("/emulator/push", async () => {
    state.config.push = undefined;
    logger.info({}, "emulator push target removed");
    return pushView(state);
  });

  app.get("/emulator/deliveries", async (request, reply) => {
    const query = deliveriesQuery.safeParse(request.query);
    if (!query.success) {
      badRequest(reply, `GET /emulator/deliveries?limit=1..${DELIVERY_LOG_MAX}&openId=: ${z.prettifyError(query.error).replaceAll("\n", " ")}`);
      return reply;
    }
    const { limit, openId } = query.data;
    const matching = openId === undefined ? state.deliveries : state.deliveries.filter((d) => d.openId === openId);
    return { deliveries: limit === undefined ? matching : matching.slice(-limit) };
  });
}
