/**
 * Scan sessions over HTTP. The site's backend creates one with the admin token
 * (`registerScanSessionRoutes`, inside the admin scope); the browser reads it, or follows it as
 * server-sent events, and shows its code, with the session's own secret
 * (`registerScanSessionSecretRoutes`, outside the admin scope): `Authorization: Bearer <secret>`,
 * or `?secret=` for EventSource and `<img>`, which cannot send headers.
 * @module
 */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { WxqrService } from "../../domain/index.ts";
import type { ScanSessionView } from "../../domain/scan-sessions.ts";
import { ClientRateLimitedError, NotFoundError, ScanSessionQuotaError, UnauthorizedError } from "../../errors.ts";
import { eventStreams } from "../event-stream-response.ts";
import type { StreamSlots } from "../stream-slots.ts";
import { renderPng } from "../../qr/png.ts";
import { errorResponses, errorSchema, idParams, imageSizeProperties } from "./schemas.ts";

const viewSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    status: { type: "string", enum: ["pending", "scanned", "confirmed", "expired"] },
    purpose: { type: "string", enum: ["login", "bind"] },
    subject: { type: ["string", "null"] },
    confirm: { type: "boolean" },
    expiresAt: { type: "string", format: "date-time" },
    openId: { type: "string", description: "Once the session is complete (scanned, or confirmed when `confirm`), until it expires" },
    isNewFollower: { type: "boolean" },
  },
  required: ["id", "status", "purpose", "subject", "confirm", "expiresAt"],
} as const;

const createdSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    secret: { type: "string", description: "Give it to the browser; it is shown only once" },
    qrcode: {
      type: "object",
      properties: {
        id: { type: "string" },
        ticket: { type: "string" },
        url: { type: "string" },
        imageUrl: { type: "string", description: "The code as PNG; append `?secret=<secret>` (an `<img>` cannot send headers)" },
      },
      required: ["id", "ticket", "url", "imageUrl"],
    },
    purpose: { type: "string" },
    subject: { type: ["string", "null"] },
    confirm: { type: "boolean" },
    expiresAt: { type: "string", format: "date-time" },
  },
  required: ["id", "secret", "qrcode", "purpose", "subject", "confirm", "expiresAt"],
} as const;

const secretQuery = { type: "object", properties: { secret: { type: "string", maxLength: 200 } }, additionalProperties: false } as const;
const secretImageQuery = {
  type: "object",
  properties: { secret: { type: "string", maxLength: 200 }, ...imageSizeProperties },
  additionalProperties: false,
} as const;
const secretSecurity = { security: [], description: "Authorised by the session's secret (`Authorization: Bearer <secret>`), not the admin token." } as const;

export function viewJson(v: ScanSessionView): Record<string, unknown> {
  return { ...v, expiresAt: new Date(v.expiresAt).toISOString() };
}

/** `POST /api/scan-sessions`, for the admin scope. */
export function registerScanSessionRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const sessions = deps.service.scanSessions;
  app.post(
    "/api/scan-sessions",
    {
      schema: {
        summary: "Start a scan-to-login / bind session, with a temporary code of its own that no other session ever gets",
        body: {
          type: "object",
          properties: {
            purpose: { type: "string", enum: ["login", "bind"] },
            subject: { type: "string", minLength: 1, maxLength: 256, description: "No control characters" },
            confirm: { type: "boolean", default: false },
            clientIp: {
              type: "string",
              minLength: 1,
              maxLength: 64,
              description: "The browser's address, for per-client rate limiting (default: the caller's)",
            },
          },
          required: ["purpose"],
          additionalProperties: false,
        },
        response: { 201: createdSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      try {
        const s = await sessions.create({ purpose: body.purpose, subject: body.subject, confirm: body.confirm, client: body.clientIp ?? request.ip });
        return reply.code(201).send({
          id: s.id,
          secret: s.secret,
          // Without the secret: the site appends `?secret=` for the browser it hands the secret to.
          qrcode: { id: s.qrcode.id, ticket: s.qrcode.ticket, url: s.qrcode.url, imageUrl: `/api/scan-sessions/${s.id}/image.png` },
          purpose: s.purpose,
          subject: s.subject,
          confirm: s.confirm,
          expiresAt: new Date(s.expiresAt).toISOString(),
        });
      } catch (err) {
        if (err instanceof ClientRateLimitedError || err instanceof ScanSessionQuotaError)
          reply.header("retry-after", String(Math.ceil(err.retryAfterMs / 1000)));
        throw err;
      }
    },
  );
}

/** The secret from `Authorization: Bearer …`, else (for streams, which EventSource cannot give headers) `?secret=`. */
function secretOf(authorization: string | undefined, querySecret?: string): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return m ? m[1] : querySecret;
}

function refuse(reason: "not_found" | "bad_secret"): never {
  if (reason === "not_found") throw new NotFoundError("no such scan session");
  throw new UnauthorizedError("send Authorization: Bearer <the session's secret>", "wxqr scan session");
}

/** `GET /api/scan-sessions/:id` and `…/events`, outside the admin scope; `slots` bounds the open streams. */
export function registerScanSessionSecretRoutes(untyped: FastifyInstance, deps: { service: WxqrService; slots: StreamSlots }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const sessions = deps.service.scanSessions;
  const send = eventStreams(app);

  app.get(
    "/api/scan-sessions/:id",
    {
      schema: {
        summary: "A scan session, as its secret's holder sees it",
        ...secretSecurity,
        params: idParams,
        response: { 200: viewSchema, 401: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const access = await sessions.read(request.params.id, secretOf(request.headers.authorization) ?? "");
      if (!access.ok) refuse(access.reason);
      return viewJson(access.view);
    },
  );

  app.get(
    "/api/scan-sessions/:id/image.png",
    {
      schema: {
        summary: "The session's code as PNG, for a login page's `<img src=\"…?secret=…\">`",
        ...secretSecurity,
        params: idParams,
        querystring: secretImageQuery,
        response: { 401: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { secret, size, margin } = request.query;
      const access = await sessions.read(request.params.id, secretOf(request.headers.authorization, secret) ?? "");
      if (!access.ok) refuse(access.reason);
      const code = await deps.service.codes.get(access.qrcodeId);
      if (!code?.url) throw new NotFoundError("the scan session's code is gone");
      // The URL holds the secret: kept out of shared caches. The code never changes in the session's life.
      return reply.type("image/png").header("cache-control", "private, max-age=300").send(renderPng(code.url, { size, margin }));
    },
  );

  app.get(
    "/api/scan-sessions/:id/events",
    {
      schema: {
        summary: "A scan session's changes as server-sent events (one event per status, named after it); ends on a final status",
        ...secretSecurity,
        params: idParams,
        querystring: secretQuery,
        response: { 401: errorSchema, 404: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const access = await sessions.read(id, secretOf(request.headers.authorization, request.query.secret) ?? "");
      if (!access.ok) refuse(access.reason);
      // Counted only once authorised: a stranger cannot use up a session's slots.
      const release = deps.slots.acquire(id, request.ip);
      await send(request, reply, {
        comment: "scan session stream",
        items: (signal) => sessions.watch(id, signal),
        release,
        message: (item) => (item.type === "heartbeat" ? undefined : { event: item.view.status, data: viewJson(item.view) }),
      });
    },
  );
}
