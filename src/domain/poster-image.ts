/**
 * The pixels of a poster: checking an uploaded background and a layout against it, and
 * compositing the background, a code (rendered by `qr/png.ts`) and an optional line of text
 * with sharp (libvips). Text is drawn by librsvg through pango and fontconfig: Chinese needs a
 * CJK font installed on the machine (`POSTER_FONT_FAMILY`; README "Posters").
 * @module
 */
import sharp, { type Metadata, type OverlayOptions } from "sharp";
import { ValidationError } from "../errors.ts";
import { sniffImageFormat } from "../qr/decode.ts";
import { renderPng } from "../qr/png.ts";
import { checkPlainText } from "./plain-text.ts";

export type BackgroundType = "image/png" | "image/jpeg";

export interface PosterText {
  text: string;
  fontSizePx: number;
  /** `#rrggbb`. */
  color: string;
  /** Top-left corner of the line's box, in pixels from the image's top-left. */
  x: number;
  y: number;
}

/** Where the code and the text go, in the background's pixels. */
export interface PosterLayout {
  /** The code's square, quiet zone included: its top-left corner and side. */
  qr: { x: number; y: number; sizePx: number };
  text: PosterText | null;
}

/** What `renderPoster` needs: a background and a layout that fits it. */
export interface PosterDesign extends PosterLayout {
  background: Buffer;
  width: number;
  height: number;
}

export interface BackgroundLimits {
  /** Largest upload, in bytes of the image file. */
  maxBytes: number;
  /** Largest width and height, in pixels. */
  maxSidePx: number;
}

export const DEFAULT_BACKGROUND_LIMITS: Readonly<BackgroundLimits> = { maxBytes: 5 * 1_048_576, maxSidePx: 4096 };

/** Fonts tried in order; WenQuanYi Zen Hei is Debian's `fonts-wqy-zenhei`. */
export const POSTER_FONT_FAMILY = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif";
/** A code smaller than this scans poorly from a phone screen or a print. */
export const QR_MIN_SIZE_PX = 100;
export const TEXT_MAX_CHARS = 100;
const FONT_SIZE_MIN_PX = 8;
const FONT_SIZE_MAX_PX = 400;
// The line's box is this many font sizes high: room for CJK glyphs and Latin descenders.
const LINE_HEIGHT_EM = 1.3;
const COLOR_RE = /^#[0-9a-fA-F]{6}$/;
/** The code's quiet zone, in modules: the poster's artwork must not touch the code. */
const QR_MARGIN_MODULES = 4;
// Measured on 1080×1920 posters: level 3 writes within ~5 % of level 6's bytes in ~¾ of its time;
// levels 1-2 are barely faster and 1.3-2× larger (a poster is also uploaded to WeChat as media).
const PNG_COMPRESSION_LEVEL = 3;

/**
 * The uploaded background's format (by its bytes, never a name), width and height.
 * @throws ValidationError on `background` when it is too large, not PNG or JPEG, unreadable or too many pixels.
 * @example
 * await inspectBackground(await readFile("poster.jpg"), DEFAULT_BACKGROUND_LIMITS); // { type: "image/jpeg", width: 1080, height: 1920 }
 */
export async function inspectBackground(bytes: Buffer, limits: BackgroundLimits): Promise<{ type: BackgroundType; width: number; height: number }> {
  if (bytes.length > limits.maxBytes) throw new ValidationError("background", `must be at most ${limits.maxBytes} bytes, got ${bytes.length}`);
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new ValidationError("background", "must be a PNG or JPEG image");
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: limits.maxSidePx * limits.maxSidePx }).metadata();
  } catch {
    throw new ValidationError("background", `is not a readable ${format.toUpperCase()} image`);
  }
  const { width, height } = meta;
  if (meta.format !== format || !width || !height) throw new ValidationError("background", `is not a readable ${format.toUpperCase()} image`);
  if (width > limits.maxSidePx || height > limits.maxSidePx)
    throw new ValidationError("background", `must be at most ${limits.maxSidePx}×${limits.maxSidePx} px, got ${width}×${height}`);
  return { type: format === "png" ? "image/png" : "image/jpeg", width, height };
}

/** The box the text line is drawn in: from its corner to the image's right edge, one line high. */
export function textBox(design: { width: number; text: PosterText }): { left: number; top: number; width: number; height: number } {
  const { text } = design;
  return { left: text.x, top: text.y, width: design.width - text.x, height: Math.ceil(text.fontSizePx * LINE_HEIGHT_EM) };
}

/**
 * Checks that the code and the text lie inside a `width` × `height` background.
 * @throws ValidationError naming the field at fault (`qr.x`, `qr.size`, `text.color`, …).
 * @example
 * checkLayout({ qr: { x: 700, y: 1500, sizePx: 300 }, text: null }, 1080, 1920); // fine
 * checkLayout({ qr: { x: 900, y: 0, sizePx: 300 }, text: null }, 1080, 1920); // throws, field "qr.x"
 */
export function checkLayout(layout: PosterLayout, width: number, height: number): void {
  const { qr, text } = layout;
  const whole = (field: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new ValidationError(field, `must be a whole number ≥ ${min}, got ${v}`);
  };
  whole("qr.x", qr.x, 0);
  whole("qr.y", qr.y, 0);
  whole("qr.size", qr.sizePx, QR_MIN_SIZE_PX);
  if (qr.sizePx > Math.min(width, height)) throw new ValidationError("qr.size", `must fit the ${width}×${height} px background`);
  if (qr.x + qr.sizePx > width) throw new ValidationError("qr.x", `the code would end at x = ${qr.x + qr.sizePx}, beyond the background's width ${width}`);
  if (qr.y + qr.sizePx > height) throw new ValidationError("qr.y", `the code would end at y = ${qr.y + qr.sizePx}, beyond the background's height ${height}`);
  if (text === null) return;
  if (typeof text.text !== "string" || text.text.trim() === "" || [...text.text].length > TEXT_MAX_CHARS)
    throw new ValidationError("text.text", `must be 1 to ${TEXT_MAX_CHARS} characters`);
  checkPlainText("text.text", text.text);
  whole("text.fontSize", text.fontSizePx, FONT_SIZE_MIN_PX);
  if (text.fontSizePx > FONT_SIZE_MAX_PX) throw new ValidationError("text.fontSize", `must be at most ${FONT_SIZE_MAX_PX} px`);
  if (!COLOR_RE.test(text.color)) throw new ValidationError("text.color", "must be #rrggbb");
  whole("text.x", text.x, 0);
  whole("text.y", text.y, 0);
  if (text.x >= width) throw new ValidationError("text.x", `must be inside the background's width ${width}`);
  const box = textBox({ width, text });
  if (box.top + box.height > height)
    throw new ValidationError("text.y", `the line (${box.height} px high) would end at y = ${box.top + box.height}, beyond the background's height ${height}`);
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** The text for an SVG text node: markup characters escaped, so a line can never inject SVG. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

function textOverlay(width: number, text: PosterText): { input: Buffer; left: number; top: number } {
  const box = textBox({ width, text });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${box.width}" height="${box.height}">` +
    `<text x="0" y="${text.fontSizePx}" font-family="${POSTER_FONT_FAMILY}" font-size="${text.fontSizePx}" fill="${text.color}">${escapeXml(text.text)}</text>` +
    `</svg>`;
  return { input: Buffer.from(svg), left: box.left, top: box.top };
}

/**
 * The poster as a PNG: the background, the code of `codeUrl` at the layout's square (quiet zone
 * included, so it scans on any artwork) and the text line. Pixels outside the code's square and
 * the text's box are the background's own (PNG in, PNG out: unchanged).
 * @example
 * const png = await renderPoster(design, "http://weixin.qq.com/q/02AbC…");
 */
export async function renderPoster(design: PosterDesign, codeUrl: string): Promise<Buffer> {
  checkLayout(design, design.width, design.height);
  const code = renderPng(codeUrl, { size: design.qr.sizePx, margin: QR_MARGIN_MODULES });
  const layers: OverlayOptions[] = [{ input: code, left: design.qr.x, top: design.qr.y }];
  if (design.text) layers.push(textOverlay(design.width, design.text));
  return sharp(design.background, { limitInputPixels: design.width * design.height })
    .composite(layers)
    .png({ compressionLevel: PNG_COMPRESSION_LEVEL })
    .toBuffer();
}
