/** Referrals (personal codes, leaderboard) and followers (who invited whom; the import of existing followers). */
import type { FastifyInstance } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { WxqrService } from "../../domain/index.ts";
import { parseInstant } from "./params.ts";
import { qrcodeJson } from "./qrcodes.ts";
import { errorResponses, qrcodeSchema } from "./schemas.ts";

const openIdSchema = { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" } as const;
const newMeansSchema = {
  type: "string",
  enum: ["new-to-wxqr", "new-to-account"],
  description: "`new-to-wxqr` until the existing followers have been imported (POST /api/followers/import), then `new-to-account`",
} as const;

export function registerReferralRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const { service } = deps;

  app.post(
    "/api/referrals/codes",
    {
      schema: {
        summary: "A follower's personal referral code: the same code for the same openId (permanent while the quota allows, else 30 days, renewed)",
        body: { type: "object", properties: { openId: openIdSchema }, required: ["openId"], additionalProperties: false },
        response: {
          200: { type: "object", properties: { openId: { type: "string" }, qrcode: qrcodeSchema }, required: ["openId", "qrcode"] },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { openId } = request.body;
      const code = await service.referrals.codeFor(openId);
      return { openId, qrcode: qrcodeJson(code) };
    },
  );

  app.get(
    "/api/referrals/leaderboard",
    {
      schema: {
        summary:
          "Invitees per inviter, most first; `from`/`to` bound the referral time (a day in the account's zone, an ISO date-time or epoch ms; both inclusive)",
        querystring: {
          type: "object",
          properties: { from: { type: "string" }, to: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              leaders: { type: "array", items: { type: "object", properties: { openId: { type: "string" }, invitees: { type: "integer" } } } },
              newMeans: newMeansSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return service.referrals.leaderboard({ from: parseInstant(q.from, "from"), to: parseInstant(q.to, "to"), limit: q.limit });
    },
  );

  app.get(
    "/api/followers/:openId",
    {
      schema: {
        summary: "A follower as wxqr knows them: the code that first brought them, who invited them, whom they invited",
        params: { type: "object", properties: { openId: openIdSchema }, required: ["openId"] },
        response: {
          200: {
            type: "object",
            properties: {
              openId: { type: "string" },
              subscribed: { type: "boolean" },
              source: { type: ["string", "null"], description: "id of the code that first brought them" },
              inviter: { type: ["string", "null"] },
              invitees: { type: "array", items: { type: "string" } },
              imported: { type: "boolean", description: "listed by the platform at an import before wxqr saw them" },
              newMeans: newMeansSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => service.followers.get(request.params.openId),
  );

  app.post(
    "/api/followers/import",
    {
      schema: {
        summary: "Import the account's existing followers (/cgi-bin/user/get), so that they never count as new followers or referrals",
        response: {
          200: {
            type: "object",
            properties: {
              imported: { type: "integer" },
              alreadyKnown: { type: "integer" },
              total: { type: "integer" },
              pages: { type: "integer" },
              importedAt: { type: "string", format: "date-time" },
              newMeans: newMeansSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const result = await service.followers.importFromPlatform();
      return { ...result, importedAt: new Date(result.importedAt).toISOString() };
    },
  );
}
