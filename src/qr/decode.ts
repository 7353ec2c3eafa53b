/**
 * Reading a QR code back out of an image, as a phone camera would: used by the emulator to
 * "scan" a picture and by the CLI to re-render a downloaded showqrcode JPEG as PNG or SVG.
 * @module
 */
import jpeg from "jpeg-js";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { ValidationError } from "../errors.ts";

// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is the module object.
type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR: JsQr = ((jsQRModule as unknown as { default?: JsQr }).default ?? jsQRModule) as JsQr;

const MAX_DECODE_PIXELS = 4096 * 4096; // refuse decompression bombs

export type ImageFormat = "png" | "jpeg";

export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return undefined;
}

/** RGBA pixels of a PNG or JPEG. */
export function decodeImage(bytes: Uint8Array): { width: number; height: number; rgba: Uint8ClampedArray } {
  const format = sniffImageFormat(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === "png") {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (format === "jpeg") {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_DECODE_PIXELS / 1e6 });
      return { width: img.width, height: img.height, rgba: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
    }
  } catch (cause) {
    throw new ValidationError("image", `could not decode the ${format} image: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  throw new ValidationError("image", "is neither PNG nor JPEG");
}

/**
 * The text a QR code in the image holds.
 * @example
 * const url = decodeQrImage(await readFile("code.png")); // "http://weixin.qq.com/q/…"
 */
export function decodeQrImage(bytes: Uint8Array): string {
  const { width, height, rgba } = decodeImage(bytes);
  const found = jsQR(rgba, width, height);
  if (!found) throw new ValidationError("image", "no QR code found in the image");
  return found.data;
}
