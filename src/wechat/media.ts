/**
 * Temporary media, `POST /cgi-bin/media/upload?type=` (wechat-api.md §10.2): multipart with the
 * file in the part `media`; the answer's `media_id` (a thumb's `thumb_media_id`) is valid for 3
 * days. Size and format limits are the platform's to enforce (40005, 40006): the image limit
 * itself is disputed (10 MB or 2 MB).
 * @module
 */
import { NetworkError, ValidationError } from "../errors.ts";
import type { CallOptions } from "./client.ts";

export const MEDIA_UPLOAD_PATH = "/cgi-bin/media/upload";
export const MEDIA_TYPES = ["image", "voice", "video", "thumb"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];
/** How long a temporary media_id answers (D-up: 3 days). */
export const MEDIA_TTL_MS = 3 * 86_400_000;

export interface WireMediaUploadResponse {
  type?: string;
  media_id?: string;
  thumb_media_id?: string;
  created_at?: number;
}

export interface UploadedMedia {
  type: MediaType;
  mediaId: string;
  /** Epoch ms: the platform's `created_at` (seconds). */
  createdAt: number;
  /** Epoch ms: `createdAt` plus the documented 3 days; reuse the id until shortly before. */
  expiresAt: number;
}

type Call = <T>(path: string, options?: CallOptions) => Promise<T>;

/**
 * @example
 * const { mediaId } = await uploadMedia(call, "image", pngBytes, "poster.png", "image/png");
 */
export async function uploadMedia(call: Call, type: MediaType, bytes: Uint8Array, filename: string, contentType: string): Promise<UploadedMedia> {
  if (!(MEDIA_TYPES as readonly string[]).includes(type)) throw new ValidationError("type", `must be one of ${MEDIA_TYPES.join(", ")}`);
  if (bytes.length === 0) throw new ValidationError("bytes", "the file is empty");
  const form = new FormData();
  form.append("media", new Blob([bytes], { type: contentType }), filename);
  const wire = await call<WireMediaUploadResponse>(MEDIA_UPLOAD_PATH, { method: "POST", query: { type }, form });
  const mediaId = type === "thumb" ? (wire.thumb_media_id ?? wire.media_id) : wire.media_id;
  if (typeof mediaId !== "string" || mediaId === "") throw new NetworkError(MEDIA_UPLOAD_PATH, "answer has no media_id");
  const createdAt = typeof wire.created_at === "number" ? wire.created_at * 1000 : Number.NaN;
  if (!Number.isFinite(createdAt)) throw new NetworkError(MEDIA_UPLOAD_PATH, "answer has no created_at");
  return { type, mediaId, createdAt, expiresAt: createdAt + MEDIA_TTL_MS };
}
