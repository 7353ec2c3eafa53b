/**
 * Posters (issue #12): designs for the referral campaign and per channel (background image as
 * base64 in JSON, the code's square, an optional line of text), and the posters rendered from
 * them with a follower's personal code or a channel's code.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { PosterInfo, PosterTarget, RenderedPoster, WxqrService } from "../../domain/index.ts";
import { ValidationError } from "../../errors.ts";
import { errorResponses, idParams } from "./schemas.ts";

const openIdParams = {
  type: "object",
  properties: { openId: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" } },
  required: ["openId"],
} as const;

const nonNegative = { type: "integer", minimum: 0 } as const;

const qrSchema = {
  type: "object",
  description: "The code's square, quiet zone included: top-left corner and side in the background's pixels; it must lie inside the image",
  properties: { x: nonNegative, y: nonNegative, size: { type: "integer", minimum: 100 } },
  required: ["x", "y", "size"],
  additionalProperties: false,
} as const;

const textSchema = {
  type: ["object", "null"],
  description: "One line of text, drawn from (x, y) (its box's top-left) towards the right edge; Chinese needs a CJK font on the server (README)",
  properties: {
    text: { type: "string", minLength: 1, maxLength: 100 },
    fontSize: { type: "integer", minimum: 8, maximum: 400, description: "pixels" },
    color: { type: "string", pattern: "^#[0-9a-fA-F]{6}$", default: "#000000" },
    x: nonNegative,
    y: nonNegative,
  },
  required: ["text", "fontSize", "x", "y"],
  additionalProperties: false,
} as const;

const posterSchema = {
  type: "object",
  properties: {
    target: { type: "string", enum: ["referral", "channel"] },
    channelId: { type: "string" },
    version: { type: "string", description: "Changes with every save" },
    backgroundType: { type: "string", enum: ["image/png", "image/jpeg"] },
    width: { type: "integer" },
    height: { type: "integer" },
    qr: qrSchema,
    text: textSchema,
    updatedAt: { type: "string", format: "date-time" },
    backgroundUrl: { type: "string" },
  },
  required: ["target", "version", "backgroundType", "width", "height", "qr", "text", "updatedAt", "backgroundUrl"],
} as const;

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
// JSON around the image: the layout and the property names.
const BODY_SLACK_BYTES = 64 * 1_024;

function pathOf(target: PosterTarget): string {
  return target.kind === "referral" ? "/api/posters/referral" : `/api/posters/channels/${encodeURIComponent(target.channelId)}`;
}

function posterJson(p: PosterInfo): Record<string, unknown> {
  return {
    target: p.target.kind,
    ...(p.target.kind === "channel" ? { channelId: p.target.channelId } : {}),
    version: p.version,
    backgroundType: p.backgroundType,
    width: p.width,
    height: p.height,
    qr: { x: p.qr.x, y: p.qr.y, size: p.qr.sizePx },
    text: p.text && { text: p.text.text, fontSize: p.text.fontSizePx, color: p.text.color, x: p.text.x, y: p.text.y },
    updatedAt: new Date(p.updatedAt).toISOString(),
    backgroundUrl: `${pathOf(p.target)}/background`,
  };
}

function decodeBackground(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.length % 4 !== 0 || !BASE64_RE.test(value)) throw new ValidationError("background", "must be the image file in base64");
  return Buffer.from(value, "base64");
}

/** The poster, or 304 when the browser's copy is this one. Browsers keep it and ask again each time: a new design shows at once. */
function sendPoster(reply: FastifyReply, poster: RenderedPoster): FastifyReply {
  void reply.header("etag", poster.etag).header("cache-control", "private, no-cache");
  if (poster.png === null) return reply.code(304).send();
  return reply
    .type("image/png")
    .header("x-poster-cache", poster.cached ? "hit" : "miss")
    .send(poster.png);
}

export function registerPosterRoutes(untyped: FastifyInstance, deps: { service: WxqrService }): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const { service } = deps;
  const { limits } = service.posters;
  // Room for an image up to twice the limit, so that a slightly large one is told so by field
  // (400, `background`) rather than refused unread (413).
  const bodyLimit = Math.ceil((2 * limits.maxBytes) / 3) * 4 + BODY_SLACK_BYTES;
  const putBody = {
    type: "object",
    properties: {
      background: {
        type: "string",
        description: `The PNG or JPEG file, base64; at most ${limits.maxBytes} bytes and ${limits.maxSidePx}×${limits.maxSidePx} px. Leave out to keep the current one`,
      },
      qr: qrSchema,
      text: textSchema,
    },
    required: ["qr"],
    additionalProperties: false,
  } as const;

  const targets: Array<{ path: string; params?: typeof idParams; summary: string; target: (params: unknown) => PosterTarget }> = [
    { path: "/api/posters/referral", summary: "the referral campaign's poster (also channels without their own)", target: () => ({ kind: "referral" }) },
    {
      path: "/api/posters/channels/:id",
      params: idParams,
      summary: "a channel's own poster",
      target: (params) => ({ kind: "channel", channelId: (params as { id: string }).id }),
    },
  ];
  for (const { path, params, summary, target } of targets) {
    const withParams = params ? { params } : {};
    app.put(
      path,
      {
        bodyLimit,
        schema: { summary: `Design ${summary}`, ...withParams, body: putBody, response: { 200: posterSchema, ...errorResponses } },
      },
      async (request) => {
        const { background, qr, text } = request.body;
        const saved = await service.posters.save(target(request.params), {
          background: decodeBackground(background),
          qr: { x: qr.x, y: qr.y, sizePx: qr.size },
          text: text ? { text: text.text, fontSizePx: text.fontSize, color: text.color ?? "#000000", x: text.x, y: text.y } : null,
        });
        return posterJson(saved);
      },
    );
    app.get(
      `${path}/background`,
      { schema: { summary: `The background image of ${summary}`, ...withParams, produces: ["image/png", "image/jpeg"], response: errorResponses } },
      async (request, reply) => {
        const image = await service.posters.background(target(request.params));
        return reply.type(image.type).header("cache-control", "private, no-cache").header("etag", `"${image.version}"`).send(image.bytes);
      },
    );
    app.get(
      `${path}/preview.png`,
      {
        schema: {
          summary: `A preview of ${summary}, with a sample code that belongs to nobody`,
          ...withParams,
          produces: ["image/png"],
          response: { 200: { type: "string", description: "PNG" }, ...errorResponses },
        },
      },
      async (request, reply) => sendPoster(reply, await service.posters.preview(target(request.params), request.headers["if-none-match"])),
    );
    app.delete(
      path,
      { schema: { summary: `Remove the design of ${summary}`, ...withParams, response: { 204: { type: "null", description: "Removed" }, ...errorResponses } } },
      async (request, reply) => {
        await service.posters.remove(target(request.params));
        return reply.code(204).send();
      },
    );
  }

  app.get(
    "/api/posters",
    {
      schema: {
        summary: "Every poster design, without the images, and the limits an uploaded background must keep",
        response: {
          200: {
            type: "object",
            properties: {
              posters: { type: "array", items: posterSchema },
              limits: {
                type: "object",
                properties: { maxBytes: { type: "integer" }, maxSidePx: { type: "integer" } },
                required: ["maxBytes", "maxSidePx"],
              },
            },
            required: ["posters", "limits"],
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ posters: (await service.posters.list()).map(posterJson), limits: { maxBytes: limits.maxBytes, maxSidePx: limits.maxSidePx } }),
  );

  const pngResponse = { 200: { type: "string", description: "PNG" }, ...errorResponses } as const;
  app.get(
    "/api/referrals/:openId/poster.png",
    {
      schema: {
        summary: "The referral campaign's poster with this follower's personal code (made now if they have none); `X-Poster-Cache: hit|miss`",
        params: openIdParams,
        produces: ["image/png"],
        response: pngResponse,
      },
    },
    async (request, reply) => sendPoster(reply, await service.posters.referralPoster(request.params.openId, request.headers["if-none-match"])),
  );
  app.get(
    "/api/channels/:id/poster.png",
    {
      schema: {
        summary: "The channel's poster (its own design, else the campaign's) with the channel's code; `X-Poster-Cache: hit|miss`",
        params: idParams,
        produces: ["image/png"],
        response: pngResponse,
      },
    },
    async (request, reply) => sendPoster(reply, await service.posters.channelPoster(request.params.id, request.headers["if-none-match"])),
  );
}
