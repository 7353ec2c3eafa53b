/**
 * The showqrcode image: a 430 px JPEG of the code's url, like the platform serves
 * (wechat-api.md §2), rendered with the library's own matrix code.
 * @module
 */
import jpeg from "jpeg-js";
import { encodeQr, rasterize } from "../qr/matrix.ts";

export const SHOWQRCODE_SIZE_PX = 430; // the platform's images are 430 × 430
export const SHOWQRCODE_MARGIN = 4; // modules of quiet zone
const JPEG_QUALITY = 90; // high enough that edges stay crisp for any decoder

/**
 * Encodes `url` as a greyscale-looking JPEG (jpeg-js writes RGB).
 * @example
 * const jpg = renderQrJpeg("http://weixin.qq.com/q/02abc"); // Buffer starting FF D8
 */
export function renderQrJpeg(url: string): Buffer {
  const { sizePx, pixels } = rasterize(encodeQr(url), { sizePx: SHOWQRCODE_SIZE_PX, margin: SHOWQRCODE_MARGIN });
  const rgba = Buffer.alloc(sizePx * sizePx * 4);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    const o = i * 4;
    rgba[o] = v;
    rgba[o + 1] = v;
    rgba[o + 2] = v;
    rgba[o + 3] = 255;
  }
  return jpeg.encode({ width: sizePx, height: sizePx, data: rgba }, JPEG_QUALITY).data;
}

export const IMAGE_CACHE_MAX = 500; // ~15 KB each; the oldest goes first

/** The JPEG for a ticket, rendered once and cached. */
export function qrJpegFor(cache: Map<string, Buffer>, ticket: string, url: string): Buffer {
  const hit = cache.get(ticket);
  if (hit !== undefined) return hit;
  const image = renderQrJpeg(url);
  if (cache.size >= IMAGE_CACHE_MAX) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(ticket, image);
  return image;
}
