/** Channel groups (issue #13): created, listed with their channel counts, renamed and deleted. */
import type { FastifyInstance } from "fastify";
import type { ChannelGroupListItem, ChannelGroupRow, WxqrService } from "../../domain/index.ts";
import type { RequestSchemaTypes } from "./request-types.ts";
import { errorResponses, idParams } from "./schemas.ts";

const groupSchema = {
  type: "object",
  properties: { id: { type: "string" }, name: { type: "string" }, createdAt: { type: "string", format: "date-time" } },
  required: ["id", "name", "createdAt"],
} as const;

const listedGroupSchema = {
  type: "object",
  properties: {
    ...groupSchema.properties,
    channels: { type: "integer", description: "Its channels, archived ones apart" },
    archivedChannels: { type: "integer" },
  },
  required: [...groupSchema.required, "channels", "archivedChannels"],
} as const;

const nameBody = {
  type: "object",
  properties: { name: { type: "string", minLength: 1, maxLength: 100, description: "Unique in the account; no control characters" } },
  required: ["name"],
  additionalProperties: false,
} as const;

const groupJson = (g: ChannelGroupRow): Record<string, unknown> => ({ id: g.id, name: g.name, createdAt: new Date(g.createdAt).toISOString() });

const listedGroupJson = (g: ChannelGroupListItem): Record<string, unknown> => ({ ...groupJson(g), channels: g.channels, archivedChannels: g.archivedChannels });

export function registerChannelGroupRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const groups = deps.service.channelGroups;

  app.post(
    "/api/channel-groups",
    { schema: { summary: "Create a channel group", body: nameBody, response: { 201: groupSchema, ...errorResponses } } },
    async (request, reply) => reply.code(201).send(groupJson(await groups.create(request.body.name))),
  );

  app.get(
    "/api/channel-groups",
    {
      schema: {
        summary: "The channel groups by name, each with how many channels it holds",
        response: {
          200: { type: "object", properties: { groups: { type: "array", items: listedGroupSchema } }, required: ["groups"] },
          ...errorResponses,
        },
      },
    },
    async () => ({ groups: (await groups.list()).map(listedGroupJson) }),
  );

  app.patch(
    "/api/channel-groups/:id",
    { schema: { summary: "Rename a channel group", params: idParams, body: nameBody, response: { 200: groupSchema, ...errorResponses } } },
    async (request) => groupJson(await groups.rename(request.params.id, request.body.name)),
  );

  app.delete(
    "/api/channel-groups/:id",
    {
      schema: {
        summary: "Delete a channel group; its channels become ungrouped",
        params: idParams,
        response: { 204: { type: "null", description: "Deleted" }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await groups.delete(request.params.id);
      return reply.code(204).send();
    },
  );
}
