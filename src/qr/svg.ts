/**
 * SVG rendering of a QR code: one `<path>` of horizontal runs in module units, so the file
 * stays small (a few KB) and scales to any size without blurring.
 * @module
 */
import { encodeText, resolveRenderOptions, type RenderOptions } from "./png.ts";
import { checkGeometry, type QrMatrix, type RenderGeometry } from "./matrix.ts";

/**
 * Renders `text` as a QR code SVG document. The viewBox counts modules (quiet zone
 * included); `size` only sets the `width`/`height` attributes. Throws `ValidationError`
 * for the same bad input as `renderPng`.
 * @example
 * const svg = renderSvg("http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrStUv", { size: 430 });
 * // '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 41 41" width="430" height="430" …'
 */
export function renderSvg(text: string, options?: RenderOptions): string {
  const { size, margin, errorCorrectionLevel } = resolveRenderOptions(options);
  return renderSvgFromMatrix(encodeText(text, errorCorrectionLevel), { sizePx: size, margin });
}

/**
 * Renders an already encoded matrix as an SVG document.
 * @example
 * const svg = renderSvgFromMatrix(encodeQr(url, "M"), { sizePx: 430, margin: 4 });
 */
export function renderSvgFromMatrix(matrix: QrMatrix, geometry: RenderGeometry): string {
  const { sizePx, margin } = geometry;
  checkGeometry(sizePx, margin);
  const n = matrix.size;
  const total = n + 2 * margin;
  const modules = matrix.modules;
  // "M x y h len v1 h -len z" per run: a filled 1-module-high rectangle. Fill rather than a
  // stroked line keeps edges on whole units, which crispEdges then renders without seams.
  const parts: string[] = [];
  for (let y = 0; y < n; y++) {
    const base = y * n;
    let x = 0;
    while (x < n) {
      if (modules[base + x] !== 1) {
        x++;
        continue;
      }
      const start = x;
      while (x < n && modules[base + x] === 1) x++;
      const len = x - start;
      parts.push(`M${start + margin} ${y + margin}h${len}v1h-${len}z`);
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${total} ${total}" width="${sizePx}" height="${sizePx}" shape-rendering="crispEdges">` +
    `<rect width="${total}" height="${total}" fill="#fff"/>` +
    `<path fill="#000" d="${parts.join("")}"/>` +
    `</svg>\n`
  );
}
