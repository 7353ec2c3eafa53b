/**
 * PNG rendering of a QR code, written by hand: a 1-bit greyscale image is all a QR code
 * needs, and building it directly from the module matrix is ~40× faster than the `qrcode`
 * package's `toBuffer`, which paints RGBA pixels and runs them through pngjs (`npm run bench`).
 * @module
 */
import { constants as zlibConstants, crc32, deflateSync } from "node:zlib";
import { QrError, ValidationError } from "../errors.ts";
import {
  DEFAULT_MARGIN,
  DEFAULT_SIZE_PX,
  checkGeometry,
  encodeQr,
  pixelToModule,
  type ErrorCorrectionLevel,
  type QrMatrix,
  type RenderGeometry,
} from "./matrix.ts";

export interface RenderOptions {
  /** Image width and height in pixels; default 430, like WeChat's showqrcode images. */
  size?: number;
  /** Quiet zone in modules; default 4. */
  margin?: number;
  /** Default "M". */
  errorCorrectionLevel?: ErrorCorrectionLevel;
}

const EC_LEVELS: readonly ErrorCorrectionLevel[] = ["L", "M", "Q", "H"];

// Measured on a 430 px code (23.6 KB of raw rows): levels 1-3 take ~25 µs and give ~0.9-1 KB;
// level 4 jumps to ~60 µs for ~0.7 KB, level 6 ~90 µs for ~0.65 KB. Z_RLE cannot see the
// repeated rows (they are a whole row apart, not 1 byte) and gives 6.7 KB. Level 3 is the knee.
const DEFLATE_OPTIONS = { level: 3, strategy: zlibConstants.Z_DEFAULT_STRATEGY } as const;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHUNK_OVERHEAD = 12; // length, type, CRC
const EMPTY = Buffer.alloc(0);

/**
 * Fills in defaults and validates render options, so bad input fails before any encoding
 * work. Shared with the SVG renderer.
 * @example
 * resolveRenderOptions({ size: 200 }); // { size: 200, margin: 4, errorCorrectionLevel: "M" }
 */
export function resolveRenderOptions(options: RenderOptions = {}): Required<RenderOptions> {
  const size = options.size ?? DEFAULT_SIZE_PX;
  const margin = options.margin ?? DEFAULT_MARGIN;
  const errorCorrectionLevel = options.errorCorrectionLevel ?? "M";
  checkGeometry(size, margin);
  if (!EC_LEVELS.includes(errorCorrectionLevel)) {
    throw new ValidationError("errorCorrectionLevel", `must be one of L, M, Q, H, got ${String(errorCorrectionLevel)}`);
  }
  return { size, margin, errorCorrectionLevel };
}

/**
 * `encodeQr`, with the encoder's own "too much data" error turned into a `ValidationError`
 * on `text`, so callers (and the worker pool) see one typed error for every bad input.
 * @example
 * encodeText("x".repeat(3000), "M"); // throws ValidationError, field "text"
 */
export function encodeText(text: string, errorCorrectionLevel: ErrorCorrectionLevel): QrMatrix {
  if (typeof text !== "string") throw new ValidationError("text", `must be a string, got ${typeof text}`);
  try {
    return encodeQr(text, errorCorrectionLevel);
  } catch (error) {
    if (error instanceof QrError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError("text", `cannot be encoded at level ${errorCorrectionLevel} (${text.length} characters): ${reason}`);
  }
}

/**
 * Renders `text` as a QR code PNG: 1-bit greyscale, exactly `size` × `size` pixels.
 * Throws `ValidationError` (field `size`, `margin`, `errorCorrectionLevel` or `text`) for bad input.
 * @example
 * const png = renderPng("http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrStUv", { size: 430 });
 * await writeFile("code.png", png);
 */
export function renderPng(text: string, options?: RenderOptions): Buffer {
  const { size, margin, errorCorrectionLevel } = resolveRenderOptions(options);
  return renderPngFromMatrix(encodeText(text, errorCorrectionLevel), { sizePx: size, margin });
}

/**
 * Renders an already encoded matrix as a PNG, for callers that need the matrix too
 * (e.g. to render PNG and SVG from one encoding).
 * @example
 * const matrix = encodeQr(url, "M");
 * const png = renderPngFromMatrix(matrix, { sizePx: 430, margin: 4 });
 */
export function renderPngFromMatrix(matrix: QrMatrix, geometry: RenderGeometry): Buffer {
  const { sizePx } = geometry;
  if (matrix.modules.length !== matrix.size * matrix.size) {
    throw new ValidationError("matrix", `expected ${matrix.size}² modules, got ${matrix.modules.length}`);
  }
  const map = pixelToModule(matrix, geometry);
  const rowBytes = (sizePx + 7) >> 3;
  const stride = 1 + rowBytes; // filter byte 0 (None), then the packed row
  const raw = Buffer.allocUnsafe(stride * sizePx);
  const columns = moduleColumns(map, matrix.size);

  // Pixel rows that show the same module row are identical, so each distinct row is
  // packed once and copied; the quiet zone is one white row copied.
  let prevModuleRow = -2;
  for (let y = 0; y < sizePx; y++) {
    const start = y * stride;
    const my = map[y]!;
    if (my === prevModuleRow) {
      raw.copyWithin(start, start - stride, start);
      continue;
    }
    prevModuleRow = my;
    raw[start] = 0;
    if (my < 0) raw.fill(0xff, start + 1, start + stride);
    else packRow(matrix, columns, my, raw, start + 1, rowBytes);
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(sizePx, 0);
  ihdr.writeUInt32BE(sizePx, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  // compression, filter and interlace methods stay 0
  const idat = deflateSync(raw, DEFLATE_OPTIONS);

  // An unpooled buffer that owns its whole ArrayBuffer: the worker pool posts it to the main
  // thread, and cloning a slice of Buffer's shared 8 KB pool (what Buffer.concat returns for
  // small outputs) would copy the whole pool.
  const png = Buffer.allocUnsafeSlow(PNG_SIGNATURE.length + 3 * CHUNK_OVERHEAD + ihdr.length + idat.length);
  let offset = PNG_SIGNATURE.copy(png, 0);
  offset = writeChunk(png, offset, "IHDR", ihdr);
  offset = writeChunk(png, offset, "IDAT", idat);
  writeChunk(png, offset, "IEND", EMPTY);
  return png;
}

/**
 * Packs one module row into bits, most significant first; 1 = white. Works in runs of dark
 * modules rather than pixels: a module is ~10 px wide at 430 px, so this does a tenth of the
 * work of a per-pixel loop, which dominated the render before the change.
 */
function packRow(matrix: QrMatrix, columns: ModuleColumns, moduleRow: number, out: Buffer, offset: number, rowBytes: number): void {
  const { start, end } = columns;
  const n = matrix.size;
  const modules = matrix.modules;
  const base = moduleRow * n;
  out.fill(0xff, offset, offset + rowBytes);
  let m = 0;
  while (m < n) {
    if (modules[base + m] !== 1) {
      m++;
      continue;
    }
    const runStart = m;
    while (m < n && modules[base + m] === 1) m++;
    clearBits(out, offset, start[runStart]!, end[m - 1]!);
  }
}

/** Sets pixels [x0, x1) of a packed row to 0 (dark). */
function clearBits(out: Buffer, offset: number, x0: number, x1: number): void {
  const b0 = offset + (x0 >> 3);
  const b1 = offset + ((x1 - 1) >> 3);
  const headMask = 0xff >> (x0 & 7); // bits from x0 to the end of its byte
  const tailMask = (0xff << (7 - ((x1 - 1) & 7))) & 0xff; // bits from the start of the byte to x1 - 1
  if (b0 === b1) {
    out[b0] = out[b0]! & ~(headMask & tailMask);
    return;
  }
  out[b0] = out[b0]! & ~headMask;
  for (let b = b0 + 1; b < b1; b++) out[b] = 0;
  out[b1] = out[b1]! & ~tailMask;
}

interface ModuleColumns {
  /** First pixel column of each module. */
  start: Int32Array;
  /** One past the last pixel column of each module. */
  end: Int32Array;
}

function moduleColumns(map: Int32Array, size: number): ModuleColumns {
  const start = new Int32Array(size).fill(-1);
  const end = new Int32Array(size);
  for (let x = 0; x < map.length; x++) {
    const m = map[x]!;
    if (m < 0) continue;
    if (start[m] === -1) start[m] = x;
    end[m] = x + 1;
  }
  return { start, end };
}

/** Writes a PNG chunk (length, type, data, CRC of type + data) at `offset`; returns the end. */
function writeChunk(out: Buffer, offset: number, type: string, data: Buffer): number {
  out.writeUInt32BE(data.length, offset);
  out.write(type, offset + 4, "latin1");
  data.copy(out, offset + 8);
  const end = offset + 8 + data.length;
  out.writeUInt32BE(crc32(out.subarray(offset + 4, end)), end);
  return end + 4;
}
