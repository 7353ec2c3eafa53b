/**
 * Follow-ups (issue #12): `GET /api/follow-ups`, the outbox's rows with the platform's answer
 * (45015, 45047 …), and `POST /api/channels/:id/tag/rerun`, tagging a channel's existing followers.
 */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import { FOLLOW_UP_PAGE_MAX, type FollowUpRow, type WxqrService } from "../../domain/index.ts";
import { ValidationError } from "../../errors.ts";
import { errorResponses, idParams } from "./schemas.ts";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const nullableTime = { type: ["string", "null"], format: "date-time" } as const;
const countsSchema = {
  type: "object",
  properties: { pending: { type: "integer" }, sent: { type: "integer" }, failed: { type: "integer" } },
  required: ["pending", "sent", "failed"],
} as const;

function rowJson(r: FollowUpRow): Record<string, unknown> {
  return {
    seq: r.seq,
    kind: r.kind,
    openId: r.openId,
    channelId: r.channelId,
    tagId: r.tagId,
    status: r.status,
    attempts: r.attempts,
    errcode: r.errcode,
    lastError: r.lastError,
    at: iso(r.at),
    deadlineAt: iso(r.deadlineAt),
    nextAttemptAt: r.status === "pending" ? iso(r.nextAttemptAt) : null,
    doneAt: iso(r.doneAt),
  };
}

function followUpsOf(service: WxqrService): NonNullable<WxqrService["followUps"]> {
  if (!service.followUps) throw new ValidationError("followUps", "this service runs without the WeChat API");
  return service.followUps;
}

export function registerFollowUpRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  app.get(
    "/api/follow-ups",
    {
      schema: {
        summary: "Follow-up messages and taggings, newest first, each with its state and the platform's last answer (e.g. errcode 45015: window closed)",
        querystring: {
          type: "object",
          properties: {
            status: { type: "string", enum: ["pending", "sent", "failed"] },
            kind: { type: "string", enum: ["poster", "text", "image", "tag"] },
            openId: { type: "string", minLength: 1, maxLength: 128 },
            before: { type: "integer", minimum: 1, description: "`next` of the previous page" },
            limit: { type: "integer", minimum: 1, maximum: FOLLOW_UP_PAGE_MAX, default: 100 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              followUps: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    seq: { type: "integer" },
                    kind: { type: "string", enum: ["poster", "text", "image", "tag"] },
                    openId: { type: "string" },
                    channelId: { type: ["string", "null"] },
                    tagId: { type: ["integer", "null"] },
                    status: { type: "string", enum: ["pending", "sent", "failed"] },
                    attempts: { type: "integer" },
                    errcode: { type: ["integer", "null"], description: "The platform's errcode of the last failed attempt" },
                    lastError: { type: ["string", "null"] },
                    at: nullableTime,
                    deadlineAt: { ...nullableTime, description: "The end of the send window; no retry past it (null for taggings)" },
                    nextAttemptAt: nullableTime,
                    doneAt: nullableTime,
                  },
                },
              },
              next: { type: "integer" },
              counts: countsSchema,
            },
            required: ["followUps", "counts"],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await followUpsOf(deps.service).list(request.query);
      return { followUps: page.followUps.map(rowJson), counts: page.counts, ...(page.next !== undefined ? { next: page.next } : {}) };
    },
  );

  app.post(
    "/api/channels/:id/tag/rerun",
    {
      schema: {
        summary: "Tag the channel's existing followers who are not tagged yet (by wxqr's record of sent taggings); failed taggings are tried again",
        params: idParams,
        response: {
          202: {
            type: "object",
            properties: { tagId: { type: "integer" }, followers: { type: "integer" }, queued: { type: "integer" } },
            required: ["tagId", "followers", "queued"],
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => reply.code(202).send(await followUpsOf(deps.service).rerunTagging(request.params.id)),
  );
}
