/**
 * `POST /cgi-bin/media/upload?access_token=&type=image|voice|video|thumb` (wechat-api.md §10.2):
 * multipart/form-data with the file in the part `media`. 40004 for another `type`, 41005 without
 * a `media` file part, 40006 past the type's size, 40005 when the bytes are not one of the type's
 * formats. Answers `{type, media_id, created_at}`; a thumb answers `thumb_media_id` instead, and
 * `item: []` (WxJava, silenceper). `GET /emulator/media/:mediaId` serves the kept bytes, also
 * after expiry, for tests and the phone page.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { beginApiCall } from "./api-call.ts";
import { queryValue, type EmulatorContext } from "./context.ts";
import { contentTypeOf, storeMedia } from "./media.ts";
import { MEDIA_TYPES, type MediaType } from "./options.ts";
import { sendWire, sendWireError } from "./wire.ts";

const isMediaType = (value: string | undefined): value is MediaType => (MEDIA_TYPES as readonly (string | undefined)[]).includes(value);

type Upload = { ok: true; filename: string; bytes: Buffer } | { ok: false; errcode: 40006 | 41005 };

/** Reads the `media` file part, at most `maxBytes` of it. */
async function readMediaPart(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  if (!request.isMultipart()) return { ok: false, errcode: 41005 };
  let file;
  try {
    file = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 11 } });
  } catch {
    // A multipart body busboy cannot read (no boundary, truncated) carries no media either.
    return { ok: false, errcode: 41005 };
  }
  if (file === undefined || file.fieldname !== "media") return { ok: false, errcode: 41005 };
  try {
    return { ok: true, filename: file.filename, bytes: await file.toBuffer() };
  } catch (err) {
    if ((err as { code?: unknown }).code === "FST_REQ_FILE_TOO_LARGE") return { ok: false, errcode: 40006 };
    return { ok: false, errcode: 41005 };
  }
}

export function registerMediaRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, random } = ctx;

  app.post("/cgi-bin/media/upload", async (request, reply) => {
    const now = beginApiCall(ctx, request, reply, "media/upload", "/cgi-bin/media/upload");
    if (now === undefined) return reply;
    const type = queryValue(request.query, "type");
    if (!isMediaType(type)) return sendWireError(reply, 40004, random);
    const upload = await readMediaPart(request, state.config.mediaMaxBytes[type]);
    if (!upload.ok) return sendWireError(reply, upload.errcode, random);
    const stored = storeMedia(state, { type, filename: upload.filename, bytes: upload.bytes }, now, random);
    if (!stored.ok) return sendWireError(reply, stored.errcode, random);
    const { media } = stored;
    ctx.logger.debug({ type, format: media.format, bytes: media.bytes.length }, "emulator stored an upload");
    const createdAtSec = Math.floor(media.createdAt / 1000);
    return type === "thumb"
      ? sendWire(reply, { type, thumb_media_id: media.mediaId, created_at: createdAtSec, item: [] })
      : sendWire(reply, { type, media_id: media.mediaId, created_at: createdAtSec });
  });

  app.get("/emulator/media/:mediaId", async (request, reply) => {
    const media = state.media.get((request.params as { mediaId: string }).mediaId);
    if (media === undefined) return reply.code(404).send({ statusCode: 404, error: "Not Found", message: "no media with this id is kept" });
    return reply
      .code(200)
      .header("content-type", contentTypeOf(media.format))
      .header("x-content-type-options", "nosniff")
      .header("x-media-type", media.type)
      .header("x-media-expires-at", String(media.expiresAt))
      .send(media.bytes);
  });
}
