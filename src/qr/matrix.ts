/**
 * The QR module matrix, taken from the `qrcode` package's encoder (well kept, spec-complete),
 * and the pixel geometry shared by every renderer. Rendering itself is ours because the
 * package's own PNG path is ~40× slower than encoder + zlib (issue #2, `npm run bench`).
 * @module
 */
import QRCode from "qrcode";
import { ValidationError } from "../errors.ts";
import { applyBestMask } from "./best-mask.ts";

export type ErrorCorrectionLevel = "L" | "M" | "Q" | "H";

export interface QrMatrix {
  /** Modules per side. */
  size: number;
  /** size × size, row-major; 1 = dark. */
  modules: Uint8Array;
}

export interface RenderGeometry {
  /** Image width and height in pixels. */
  sizePx: number;
  /** Quiet zone, in modules. */
  margin: number;
}

export const DEFAULT_SIZE_PX = 430; // WeChat's showqrcode images are 430 px
export const DEFAULT_MARGIN = 4; // the quiet zone ISO/IEC 18004 asks for
export const MAX_SIZE_PX = 4096;

/**
 * Encodes `text` into a module matrix.
 * @example
 * const m = encodeQr("http://weixin.qq.com/q/abc", "M"); // m.size === 25
 */
export function encodeQr(text: string, errorCorrectionLevel: ErrorCorrectionLevel = "M"): QrMatrix {
  if (text.length === 0) throw new ValidationError("text", "cannot encode an empty string");
  // Mask 0 skips the package's own mask search, the slowest part of a render; applyBestMask then
  // makes the same choice faster, so the matrix is the one the package gives (best-mask.test.ts).
  const qr = QRCode.create(text, { errorCorrectionLevel, maskPattern: 0 });
  const modules = Uint8Array.from(qr.modules.data as unknown as ArrayLike<number>);
  applyBestMask(modules, qr.modules.reservedBit, qr.modules.size, errorCorrectionLevel, 0);
  return { size: qr.modules.size, modules };
}

export function checkGeometry(sizePx: number, margin: number): void {
  if (!Number.isInteger(sizePx) || sizePx < 21 || sizePx > MAX_SIZE_PX) {
    throw new ValidationError("size", `must be a whole number of pixels from 21 to ${MAX_SIZE_PX}, got ${sizePx}`);
  }
  if (!Number.isInteger(margin) || margin < 0 || margin > 16) {
    throw new ValidationError("margin", `must be a whole number of modules from 0 to 16, got ${margin}`);
  }
}

/**
 * For each pixel column (and row: the image is square), the module it shows, or -1 for the
 * quiet zone. Modules are `sizePx / (size + 2·margin)` pixels wide, fractional when it does
 * not divide, so the image is exactly `sizePx` wide (as the `qrcode` package does).
 */
export function pixelToModule(matrix: QrMatrix, geometry: RenderGeometry): Int32Array {
  const { sizePx, margin } = geometry;
  checkGeometry(sizePx, margin);
  const total = matrix.size + 2 * margin;
  if (sizePx < total) {
    throw new ValidationError("size", `${sizePx} px is too small for this code: it needs at least ${total} px (1 px per module)`);
  }
  const scale = sizePx / total;
  const map = new Int32Array(sizePx);
  for (let p = 0; p < sizePx; p++) {
    const m = Math.floor(p / scale) - margin;
    map[p] = m >= 0 && m < matrix.size ? m : -1;
  }
  return map;
}

/** An 8-bit greyscale bitmap (0 = black, 255 = white), for encoders that want pixels. */
export function rasterize(matrix: QrMatrix, geometry: RenderGeometry): { sizePx: number; pixels: Uint8Array } {
  const map = pixelToModule(matrix, geometry);
  const { sizePx } = geometry;
  const pixels = new Uint8Array(sizePx * sizePx).fill(255);
  for (let y = 0; y < sizePx; y++) {
    const my = map[y]!;
    if (my < 0) continue;
    const rowBase = my * matrix.size;
    const out = y * sizePx;
    for (let x = 0; x < sizePx; x++) {
      const mx = map[x]!;
      if (mx >= 0 && matrix.modules[rowBase + mx] === 1) pixels[out + x] = 0;
    }
  }
  return { sizePx, pixels };
}
