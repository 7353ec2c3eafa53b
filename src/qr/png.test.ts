import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { encodeQr, rasterize, type ErrorCorrectionLevel } from "./matrix.ts";
import { renderPng, renderPngFromMatrix } from "./png.ts";

// jsqr is CommonJS typed as an ES module: under NodeNext its default import is module.exports.
const jsQR = jsQRModule.default;

const URL_TEXT = "http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrStUv";

function decodePng(png: Buffer): { width: number; height: number; text: string | undefined } {
  const image = PNG.sync.read(png);
  const data = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const code = jsQR(data, image.width, image.height);
  return { width: image.width, height: image.height, text: code?.data };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("renderPng", () => {
  it("writes a 1-bit greyscale PNG", () => {
    const png = renderPng(URL_TEXT);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.toString("latin1", 12, 16)).toBe("IHDR");
    expect(png.readUInt32BE(16)).toBe(430);
    expect(png.readUInt32BE(20)).toBe(430);
    expect(png[24]).toBe(1); // bit depth
    expect(png[25]).toBe(0); // colour type
    expect(png.toString("latin1", png.length - 8, png.length - 4)).toBe("IEND");
  });

  it.each([100, 200, 430, 1000])("decodes back to the text at %i px, exactly that size", (size) => {
    const decoded = decodePng(renderPng(URL_TEXT, { size }));
    expect(decoded).toEqual({ width: size, height: size, text: URL_TEXT });
  });

  it.each([1, 2, 4, 10])("decodes with a margin of %i modules", (margin) => {
    expect(decodePng(renderPng(URL_TEXT, { size: 300, margin })).text).toBe(URL_TEXT);
  });

  it("keeps the requested size with no margin, the code touching the edges", () => {
    const png = renderPng(URL_TEXT, { size: 250, margin: 0 });
    const image = PNG.sync.read(png);
    expect([image.width, image.height]).toEqual([250, 250]);
    expect(image.data[0]).toBe(0); // top-left pixel is the finder pattern's dark corner
  });

  it.each(["L", "M", "Q", "H"] as const)("decodes at error correction level %s", (level: ErrorCorrectionLevel) => {
    expect(decodePng(renderPng(URL_TEXT, { errorCorrectionLevel: level })).text).toBe(URL_TEXT);
  });

  it("decodes Chinese and other unicode text", () => {
    const text = "扫码关注公众号 · 带参数二维码 ✓ café";
    expect(decodePng(renderPng(text, { size: 430 })).text).toBe(text);
  });

  it("decodes a 64-character string", () => {
    const text = "qrscene_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST";
    expect(text).toHaveLength(64);
    expect(decodePng(renderPng(text, { size: 430 })).text).toBe(text);
  });

  it.each([
    [97, 4],
    [430, 4],
    [431, 0],
    [1000, 3],
  ])("draws exactly the pixels rasterize() computes at %i px, margin %i", (sizePx, margin) => {
    const matrix = encodeQr(URL_TEXT, "M");
    const image = PNG.sync.read(renderPngFromMatrix(matrix, { sizePx, margin }));
    const expected = rasterize(matrix, { sizePx, margin }).pixels;
    const grey = new Uint8Array(sizePx * sizePx);
    for (let i = 0; i < grey.length; i++) grey[i] = image.data[i * 4]!;
    expect(Buffer.from(grey).equals(Buffer.from(expected))).toBe(true);
  });

  it("is deterministic", () => {
    expect(renderPng(URL_TEXT).equals(renderPng(URL_TEXT))).toBe(true);
  });

  it.each([
    ["size 0", { size: 0 }, "size"],
    ["size 20", { size: 20 }, "size"],
    ["size 4097", { size: 4097 }, "size"],
    ["a fractional size", { size: 100.5 }, "size"],
    ["a NaN size", { size: Number.NaN }, "size"],
    ["fewer pixels than modules", { size: 30 }, "size"],
    ["margin -1", { margin: -1 }, "margin"],
    ["margin 17", { margin: 17 }, "margin"],
    ["a fractional margin", { margin: 1.5 }, "margin"],
    ["an unknown level", { errorCorrectionLevel: "X" as ErrorCorrectionLevel }, "errorCorrectionLevel"],
  ])("rejects %s with a ValidationError on %s", (_label, options, field) => {
    const error = catchError(() => renderPng(URL_TEXT, options));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", field });
  });

  it.each([
    ["empty", ""],
    ["too long for any QR version", "x".repeat(3000)],
  ])("rejects %s text with a ValidationError on text", (_label, text) => {
    const error = catchError(() => renderPng(text));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", field: "text" });
  });

  it("rejects a matrix whose modules do not match its size", () => {
    const error = catchError(() => renderPngFromMatrix({ size: 21, modules: new Uint8Array(10) }, { sizePx: 100, margin: 4 }));
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", field: "matrix" });
  });
});
