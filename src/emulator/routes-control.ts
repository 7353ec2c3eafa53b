/**
 * `/emulator/*`: the test-facing control surface (JSON in, JSON out). Not part of the
 * platform; bodies are validated and a bad one gets 400 with a message saying what is wrong.
 * @module
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { parseBody } from "./control-body.ts";
import { readCounters, resetCounters } from "./counters.ts";
import { addFault, FAULT_PATHS, listFaults } from "./faults.ts";
import { MEDIA_MAX_BYTES_CAP, MEDIA_TYPES, QUOTA_ENDPOINTS, type MediaType, type QuotaEndpoint } from "./options.ts";
import type { EmulatorState, QrCodeRecord } from "./state.ts";
import { revokeAllTokens } from "./tokens.ts";

const count = z.number().int().nonnegative();

const clockBody = z.union([z.strictObject({ advanceSeconds: z.number().nonnegative() }), z.strictObject({ now: z.number().int().nonnegative() })]);

const faultBody = z.strictObject({
  path: z.enum(FAULT_PATHS),
  errcode: z
    .number()
    .int()
    .refine((n) => n !== 0, "errcode 0 means success; use a non-zero errcode such as -1"),
  count: z.number().int().min(1).max(10_000).default(1),
  /** Calls let through first: `{after: 200, count: 10000}` fails everything from the 201st call on. */
  after: z.number().int().min(0).max(1_000_000).default(0),
});

const sendWindowBody = z.strictObject({ messages: count.optional(), seconds: count.optional() });

const configBody = z.strictObject({
  permanentQuota: count.optional(),
  dailyQuota: z
    .strictObject(Object.fromEntries(QUOTA_ENDPOINTS.map((e) => [e, count.optional()])) as Record<QuotaEndpoint, z.ZodOptional<z.ZodNumber>>)
    .optional(),
  mediaMaxBytes: z
    .strictObject(
      Object.fromEntries(MEDIA_TYPES.map((t) => [t, count.min(1).max(MEDIA_MAX_BYTES_CAP).optional()])) as Record<MediaType, z.ZodOptional<z.ZodNumber>>,
    )
    .optional(),
  mediaTtlSeconds: count.min(1).optional(),
  sendWindows: z.strictObject({ afterEvent: sendWindowBody.optional(), afterUserMessage: sendWindowBody.optional() }).optional(),
});

const clockView = (now: number) => ({ now, iso: new Date(now).toISOString() });

const configView = (state: EmulatorState) => {
  const { appId, permanentQuota, dailyQuota, tokenTtlSeconds, mediaMaxBytes, mediaTtlSeconds, sendWindows } = state.config;
  return {
    appId,
    permanentQuota,
    dailyQuota: { ...dailyQuota },
    tokenTtlSeconds,
    mediaMaxBytes: { ...mediaMaxBytes },
    mediaTtlSeconds,
    sendWindows: { afterEvent: { ...sendWindows.afterEvent }, afterUserMessage: { ...sendWindows.afterUserMessage } },
  }; // never the secret
};

const qrCodeView = (code: QrCodeRecord) => ({
  ticket: code.ticket,
  url: code.url,
  action: code.action,
  kind: code.kind,
  scene: code.scene,
  createdAt: code.createdAt,
  expiresAt: code.expiresAt,
});

export function registerControlRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, logger } = ctx;

  app.get("/emulator/clock", async () => clockView(ctx.now()));

  app.post("/emulator/clock", async (request, reply) => {
    const parsed = parseBody(reply, "POST /emulator/clock {advanceSeconds} or {now: epoch ms}", request.body, clockBody);
    if (!parsed.ok) return reply;
    const body = parsed.value;
    if ("advanceSeconds" in body) state.clockOffsetMs += Math.round(body.advanceSeconds * 1000);
    else state.clockOffsetMs += body.now - ctx.now();
    const now = ctx.now();
    logger.info({ now }, "emulator clock moved");
    return clockView(now);
  });

  app.post("/emulator/tokens/revoke", async () => {
    const revoked = revokeAllTokens(state, ctx.now());
    logger.info({ revoked }, "emulator revoked every access token");
    return { revoked };
  });

  app.get("/emulator/counters", async () => readCounters(state, ctx.now()));

  app.post("/emulator/reset-counters", async () => {
    resetCounters(state, ctx.now());
    return readCounters(state, ctx.now());
  });

  app.get("/emulator/qrcodes", async () => ({
    qrcodes: [...state.qrcodes.byTicket.values()].map(qrCodeView),
    permanentUsed: state.qrcodes.permanentByScene.size,
    permanentQuota: state.config.permanentQuota,
  }));

  app.get("/emulator/faults", async () => ({ pending: listFaults(state) }));

  app.post("/emulator/faults", async (request, reply) => {
    const parsed = parseBody(reply, "POST /emulator/faults {path, errcode, count?, after?}", request.body, faultBody);
    if (!parsed.ok) return reply;
    const { path, errcode, count: times, after } = parsed.value;
    addFault(state, path, errcode, times, after);
    logger.info({ path, errcode, count: times, after }, "emulator fault armed");
    return { pending: listFaults(state) };
  });

  app.delete("/emulator/faults", async () => {
    state.faults.clear();
    return { pending: listFaults(state) };
  });

  app.get("/emulator/config", async () => configView(state));

  app.put("/emulator/config", async (request, reply) => {
    const route = "PUT /emulator/config {permanentQuota?, dailyQuota?, mediaMaxBytes?, mediaTtlSeconds?, sendWindows?}";
    const parsed = parseBody(reply, route, request.body, configBody);
    if (!parsed.ok) return reply;
    const { permanentQuota, dailyQuota, mediaMaxBytes, mediaTtlSeconds, sendWindows } = parsed.value;
    const { config } = state;
    if (permanentQuota !== undefined) config.permanentQuota = permanentQuota;
    for (const key of QUOTA_ENDPOINTS) {
      const value = dailyQuota?.[key];
      if (value !== undefined) config.dailyQuota[key] = value;
    }
    for (const type of MEDIA_TYPES) {
      const value = mediaMaxBytes?.[type];
      if (value !== undefined) config.mediaMaxBytes[type] = value;
    }
    if (mediaTtlSeconds !== undefined) config.mediaTtlSeconds = mediaTtlSeconds;
    // Windows opened before keep the rule they were opened with.
    for (const kind of ["afterEvent", "afterUserMessage"] as const) config.sendWindows[kind] = { ...config.sendWindows[kind], ...sendWindows?.[kind] };
    logger.info(configView(state), "emulator config changed");
    return configView(state);
  });
}
