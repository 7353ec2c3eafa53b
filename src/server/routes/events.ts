/** The scan log, cursor-paged: every accepted push, oldest first. */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { PushLogRow, WxqrService } from "../../domain/index.ts";
import { errorResponses } from "./schemas.ts";

export const eventSchema = {
  type: "object",
  properties: {
    seq: { type: "integer" },
    kind: { type: "string" },
    openId: { type: "string" },
    event: { type: ["string", "null"] },
    eventKey: { type: ["string", "null"] },
    scene: { type: ["string", "null"] },
    ticket: { type: ["string", "null"] },
    qrcodeId: { type: ["string", "null"] },
    isNewFollower: { type: ["boolean", "null"] },
    createdAt: { type: "string", format: "date-time" },
    receivedAt: { type: "string", format: "date-time" },
  },
} as const;

/** One row of the scan log as the API shows it (the page and the live feed alike). */
export function eventJson(e: PushLogRow): Record<string, unknown> {
  return {
    seq: e.seq,
    kind: e.kind,
    openId: e.openId,
    event: e.event,
    eventKey: e.eventKey,
    scene: e.scene,
    ticket: e.ticket,
    qrcodeId: e.qrcodeId,
    isNewFollower: e.isNewFollower,
    createdAt: new Date(e.createTimeSec * 1000).toISOString(),
    receivedAt: new Date(e.receivedAt).toISOString(),
  };
}

export function registerEventRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  app.get(
    "/api/events",
    {
      schema: {
        summary: "The scan log; pass `next` back as `after` for the following page",
        querystring: {
          type: "object",
          properties: { after: { type: "integer", minimum: 0, default: 0 }, limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
          additionalProperties: false,
        },
        response: {
          200: { type: "object", properties: { events: { type: "array", items: eventSchema }, next: { type: "integer" } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { after, limit } = request.query;
      const page = await deps.service.events(after, limit);
      return { events: page.events.map(eventJson), ...(page.next !== undefined ? { next: page.next } : {}) };
    },
  );
}
