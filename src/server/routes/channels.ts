/** Channels (渠道码) and their statistics. */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { ChannelWithCode, WxqrService } from "../../domain/index.ts";
import type { Metrics } from "../metrics.ts";
import { parseInstant } from "./params.ts";
import { qrcodeJson } from "./qrcodes.ts";
import { channelSchema, dayCountsProperties, errorResponses, idParams } from "./schemas.ts";

function channelJson(c: ChannelWithCode): Record<string, unknown> {
  return { id: c.id, name: c.name, welcome: c.welcome, qrcode: qrcodeJson(c.qrcode), createdAt: new Date(c.createdAt).toISOString() };
}

export function registerChannelRoutes(untyped: FastifyInstance, deps: { service: WxqrService; metrics: Metrics }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const { service } = deps;

  app.post(
    "/api/channels",
    {
      schema: {
        summary: "Create a channel with its own permanent code",
        body: {
          type: "object",
          properties: { name: { type: "string", minLength: 1, maxLength: 100 }, welcome: { type: "string", maxLength: 600 } },
          required: ["name"],
          additionalProperties: false,
        },
        response: { 201: channelSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const channel = await service.channels.create(request.body);
      deps.metrics.codesCreated.inc({ type: channel.qrcode.type });
      return reply.code(201).send(channelJson(channel));
    },
  );

  app.get(
    "/api/channels",
    { schema: { summary: "All channels", response: { 200: { type: "object", properties: { channels: { type: "array", items: channelSchema } } } } } },
    async () => ({ channels: (await service.channels.list()).map(channelJson) }),
  );

  app.get("/api/channels/:id", { schema: { summary: "A channel", params: idParams, response: { 200: channelSchema, ...errorResponses } } }, async (request) =>
    channelJson(await service.channels.get(request.params.id)),
  );

  app.get(
    "/api/channels/:id/stats",
    {
      schema: {
        summary: "A channel's counters over a range (default: since its creation), per day in the account's time zone",
        params: idParams,
        querystring: { type: "object", properties: { from: { type: "string" }, to: { type: "string" } }, additionalProperties: false },
        response: {
          200: {
            type: "object",
            properties: {
              from: { type: "string" },
              to: { type: "string" },
              ...dayCountsProperties,
              days: { type: "array", items: { type: "object", properties: { date: { type: "string" }, ...dayCountsProperties } } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return service.channels.stats(request.params.id, { from: parseInstant(q.from, "from"), to: parseInstant(q.to, "to") });
    },
  );
}
