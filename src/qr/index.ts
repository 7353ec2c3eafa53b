/**
 * Local QR rendering: a code's `url` to PNG or SVG without a round trip to showqrcode.
 * @module
 */
export { encodeQr, DEFAULT_MARGIN, DEFAULT_SIZE_PX, MAX_SIZE_PX } from "./matrix.ts";
export type { ErrorCorrectionLevel, QrMatrix, RenderGeometry } from "./matrix.ts";
export { renderPng, renderPngFromMatrix } from "./png.ts";
export type { RenderOptions } from "./png.ts";
export { renderSvg, renderSvgFromMatrix } from "./svg.ts";
export { createRenderPool } from "./render-pool.ts";
export type { RenderFormat, RenderPool, RenderPoolOptions } from "./render-pool.ts";
