/**
 * Temporary media (`POST /cgi-bin/media/upload`, wechat-api.md §10.2): the type's format is
 * checked by the file's first bytes, never by its name or Content-Type; a `media_id` answers
 * for 3 days (configurable) on the emulator's clock. The bytes are kept past expiry, so a
 * received image can still be shown and decoded (`GET /emulator/media/:mediaId`), up to a total
 * size past which the oldest uploads are forgotten.
 * @module
 */
import type { Random } from "../deps.ts";
import type { MediaType } from "./options.ts";
import type { EmulatorState } from "./state.ts";

export type MediaFormat = "png" | "jpeg" | "gif" | "amr" | "mp3" | "mp4";

/** What each type takes (D-up: image PNG/JPEG/JPG/GIF, voice AMR/MP3, video MP4, thumb JPG). */
export const FORMATS_BY_TYPE: Readonly<Record<MediaType, readonly MediaFormat[]>> = {
  image: ["png", "jpeg", "gif"],
  voice: ["amr", "mp3"],
  video: ["mp4"],
  thumb: ["jpeg"],
};

const CONTENT_TYPES: Readonly<Record<MediaFormat, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
  amr: "audio/amr",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
};

/** Bytes of media kept in memory (and in the state file); the oldest uploads go first beyond it. */
export const MEDIA_KEPT_MAX_BYTES = 256 * 1_048_576;
const MEDIA_ID_RANDOM_BYTES = 48; // → 64 base64url characters, the length of the platform's ids

export interface MediaRecord {
  mediaId: string;
  type: MediaType;
  format: MediaFormat;
  /** The file part's name as uploaded. */
  filename: string;
  bytes: Buffer;
  /** Epoch ms, emulator clock. */
  createdAt: number;
  /** Epoch ms; from then on the platform API answers 40007 for it. */
  expiresAt: number;
}

const startsWith = (bytes: Buffer, prefix: readonly number[], at = 0): boolean => prefix.every((b, i) => bytes[at + i] === b);

/**
 * The format a file's first bytes say it has, or `undefined`.
 * @example
 * sniffMediaFormat(pngBytes); // "png"
 */
export function sniffMediaFormat(bytes: Buffer): MediaFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return "gif"; // GIF8(7|9)a
  if (startsWith(bytes, [0x23, 0x21, 0x41, 0x4d, 0x52])) return "amr"; // #!AMR
  if (startsWith(bytes, [0x49, 0x44, 0x33])) return "mp3"; // an ID3 tag…
  if (bytes.length >= 2 && bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0) return "mp3"; // …or a bare MPEG audio frame
  if (startsWith(bytes, [0x66, 0x74, 0x79, 0x70], 4)) return "mp4"; // an ISO BMFF `ftyp` box
  return undefined;
}

export const contentTypeOf = (format: MediaFormat): string => CONTENT_TYPES[format];

/**
 * Keeps an upload whose size was already checked; 40005 when its bytes are not a format of `type`.
 * @example
 * const stored = storeMedia(state, { type: "image", filename: "a.png", bytes }, now, random);
 * if (stored.ok) stored.media.mediaId;
 */
export function storeMedia(
  state: EmulatorState,
  upload: { type: MediaType; filename: string; bytes: Buffer },
  now: number,
  random: Random,
): { ok: true; media: MediaRecord } | { ok: false; errcode: 40005 } {
  const format = sniffMediaFormat(upload.bytes);
  if (format === undefined || !FORMATS_BY_TYPE[upload.type].includes(format)) return { ok: false, errcode: 40005 };
  const mediaId = Buffer.from(random.bytes(MEDIA_ID_RANDOM_BYTES)).toString("base64url");
  const media: MediaRecord = {
    mediaId,
    type: upload.type,
    format,
    filename: upload.filename,
    bytes: upload.bytes,
    createdAt: now,
    expiresAt: now + state.config.mediaTtlSeconds * 1000,
  };
  state.media.set(mediaId, media);
  forgetOldestBeyondCap(state);
  return { ok: true, media };
}

function forgetOldestBeyondCap(state: EmulatorState): void {
  let total = 0;
  for (const m of state.media.values()) total += m.bytes.length;
  // A Map iterates in insertion order: oldest first.
  for (const [id, m] of state.media) {
    if (total <= MEDIA_KEPT_MAX_BYTES || state.media.size === 1) break;
    state.media.delete(id);
    total -= m.bytes.length;
  }
}

/** The media a send may use: known, not expired, and of one of `types`. */
export function findLiveMedia(state: EmulatorState, mediaId: string, types: readonly MediaType[], now: number): MediaRecord | undefined {
  const media = state.media.get(mediaId);
  if (media === undefined || now >= media.expiresAt || !types.includes(media.type)) return undefined;
  return media;
}
