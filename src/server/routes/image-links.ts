/**
 * A channel's stable public image link (issue #13): `/c/<token>.png|svg`, no admin token (the
 * 128-bit token is the secret), always its current code. A renewing channel's code is renewed
 * first when due, so the link never serves an expired one; a non-renewing channel's expired code
 * answers 410, a renewal that keeps failing after expiry 503 (JSON: an error image would be shown
 * as if it were a code).
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Clock } from "../../deps.ts";
import type { WxqrService } from "../../domain/index.ts";
import { ChannelCodeRenewalError } from "../../errors.ts";
import { httpErrorFor } from "../http-errors.ts";
import { IMAGE_RENDERERS } from "./image-renderers.ts";
import type { RequestSchemaTypes } from "./request-types.ts";
import { imageQuery } from "./schemas.ts";

/** The links' paths: the service's, never the dashboard app's (a mistyped link is a 404, not a page). */
export const IMAGE_LINK_PREFIX = "/c";

/** A browser or CDN may keep an image this long, and never past the code's next change. */
const MAX_AGE_SECONDS = 300;

const tokenParams = { type: "object", properties: { token: { type: "string", pattern: "^[A-Za-z0-9_-]{16,64}$" } }, required: ["token"] } as const;

export function registerImageLinkRoutes(untyped: FastifyInstance, deps: { service: WxqrService; clock: Clock }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  for (const [format, { type, render }] of Object.entries(IMAGE_RENDERERS)) {
    app.get(
      `${IMAGE_LINK_PREFIX}/:token.${format}`,
      {
        schema: {
          summary: `A channel's current code as ${format.toUpperCase()}: the stable public image link (no token needed), renewed before it expires`,
          params: tokenParams,
          querystring: imageQuery,
          security: [],
        },
      },
      async (request, reply) => {
        const { size, margin } = request.query;
        let found;
        try {
          found = await deps.service.channelCodes.imageLinkCode(request.params.token);
        } catch (err) {
          if (err instanceof ChannelCodeRenewalError) void reply.header("retry-after", String(Math.ceil(err.retryAfterMs / 1000)));
          const { status, body } = httpErrorFor(err);
          return reply.code(status).header("cache-control", "no-store").send(body);
        }
        const { code, changesAt } = found;
        const untilChange = changesAt === null ? MAX_AGE_SECONDS : Math.floor((changesAt - deps.clock.now()) / 1000);
        const maxAge = Math.max(0, Math.min(MAX_AGE_SECONDS, untilChange));
        // The same code at the same size is the same image: a revalidation costs no rendering.
        const etag = `"${createHash("sha256").update(`${code.url}\n${format}\n${size}\n${margin}`).digest("base64url").slice(0, 27)}"`;
        void reply.header("cache-control", `public, max-age=${maxAge}, must-revalidate`).header("etag", etag);
        if (request.headers["if-none-match"] === etag) return reply.code(304).send();
        return reply.type(type).send(render(code.url!, { size, margin }));
      },
    );
  }
}
