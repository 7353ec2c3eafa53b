/** `GET /api/webhook/deliveries`: the business webhook's backlog, failures and latest events. */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { WxqrService } from "../../domain/index.ts";
import { errorResponses } from "./schemas.ts";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const nullableTime = { type: ["string", "null"], format: "date-time" } as const;

export function registerWebhookRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  app.get(
    "/api/webhook/deliveries",
    {
      schema: {
        summary: "The business webhook: events not yet delivered, those failing, and the latest events (newest first)",
        querystring: {
          type: "object",
          properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 50 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              enabled: { type: "boolean" },
              backlog: { type: "integer" },
              failing: { type: "integer" },
              recent: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    type: { type: "string" },
                    openId: { type: "string" },
                    attempts: { type: "integer" },
                    deliveredAt: nullableTime,
                    lastError: { type: ["string", "null"] },
                    nextAttemptAt: nullableTime,
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit } = request.query;
      const webhook = deps.service.webhook;
      if (!webhook) return { enabled: false, backlog: 0, failing: 0, recent: [] };
      const status = await webhook.status(limit);
      return {
        enabled: true,
        backlog: status.backlog,
        failing: status.failing,
        recent: status.recent.map((d) => ({ ...d, deliveredAt: iso(d.deliveredAt), nextAttemptAt: iso(d.nextAttemptAt) })),
      };
    },
  );
}
