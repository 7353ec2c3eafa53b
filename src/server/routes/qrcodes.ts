/** Codes: create (scene allocated when not given), read, and render locally as PNG or SVG. */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { QrCodeRow, WxqrService } from "../../domain/index.ts";
import { NotFoundError } from "../../errors.ts";
import type { Metrics } from "../metrics.ts";
import { IMAGE_RENDERERS } from "./image-renderers.ts";
import { errorResponses, errorSchema, idParams, imageQuery, qrcodeSchema } from "./schemas.ts";

export function qrcodeJson(c: QrCodeRow): Record<string, unknown> {
  return {
    id: c.id,
    type: c.type,
    ...(c.sceneId !== null ? { sceneId: c.sceneId } : {}),
    ...(c.sceneStr !== null ? { sceneStr: c.sceneStr } : {}),
    ticket: c.ticket,
    url: c.url,
    expiresAt: c.expiresAt === null ? null : new Date(c.expiresAt).toISOString(),
    imageUrl: `/api/qrcodes/${c.id}/image.png`,
    label: c.label,
  };
}

export function registerQrcodeRoutes(untyped: FastifyInstance, deps: { service: WxqrService; metrics: Metrics }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const { service } = deps;

  async function load(id: string): Promise<QrCodeRow> {
    const code = await service.codes.get(id);
    if (!code?.url) throw new NotFoundError(`no code ${id}`);
    return code;
  }

  app.post(
    "/api/qrcodes",
    {
      schema: {
        summary: "Create a parametric QR code; with no scene given, one is allocated atomically",
        body: {
          type: "object",
          properties: {
            type: { type: "string", enum: ["temporary", "permanent"] },
            sceneId: { type: "integer" },
            sceneStr: { type: "string" },
            expireSeconds: { type: "integer" },
            label: { type: "string", maxLength: 200 },
          },
          required: ["type"],
          additionalProperties: false,
        },
        response: { 201: qrcodeSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const code = await service.codes.create(body);
      deps.metrics.codesCreated.inc({ type: code.type });
      return reply.code(201).send(qrcodeJson(code));
    },
  );

  app.get("/api/qrcodes/:id", { schema: { summary: "A code", params: idParams, response: { 200: qrcodeSchema, 404: errorSchema } } }, async (request) =>
    qrcodeJson(await load(request.params.id)),
  );

  for (const [format, { type, render }] of Object.entries(IMAGE_RENDERERS)) {
    app.get(
      `/api/qrcodes/:id/image.${format}`,
      { schema: { summary: `The code rendered locally as ${format.toUpperCase()}`, params: idParams, querystring: imageQuery } },
      async (request, reply) => {
        const { size, margin } = request.query;
        const code = await load(request.params.id);
        return reply.type(type).header("cache-control", "private, max-age=3600").send(render(code.url!, { size, margin }));
      },
    );
  }

  app.get(
    "/api/quota",
    {
      schema: {
        summary: "Permanent codes used and left",
        response: {
          200: {
            type: "object",
            properties: {
              permanent: { type: "object", properties: { used: { type: "integer" }, limit: { type: "integer" }, remaining: { type: "integer" } } },
            },
          },
        },
      },
    },
    async () => service.codes.quota(),
  );
}
