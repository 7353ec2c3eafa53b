/** The formats a code is served in, each with its content type and renderer, for the image routes. */
import { renderPng } from "../../qr/png.ts";
import { renderSvg } from "../../qr/svg.ts";

export const IMAGE_RENDERERS = {
  png: { type: "image/png", render: renderPng },
  svg: { type: "image/svg+xml", render: renderSvg },
} as const;
