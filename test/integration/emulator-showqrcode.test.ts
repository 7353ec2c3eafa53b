import jpeg from "jpeg-js";
import jsQRModule from "jsqr";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countsToday, startEmulator, type Harness } from "../helpers/emulator-harness.ts";

// jsqr is CommonJS with `exports.default`; under NodeNext the default import may be the module object.
type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = ((jsQRModule as unknown as { default?: JsQr }).default ?? jsQRModule) as JsQr;

function decodeJpegQr(bytes: Buffer): { width: number; height: number; text: string | undefined } {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  const rgba = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { width: image.width, height: image.height, text: jsQR(rgba, image.width, image.height)?.data };
}

describe("emulator: GET /cgi-bin/showqrcode", () => {
  let h: Harness;
  let token: string;
  const show = (ticket: string) => h.get(`/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`);

  beforeEach(async () => {
    h = await startEmulator();
    token = await h.classicToken();
  });
  afterEach(async () => {
    await h.close();
  });

  it("serves a 430 px JPEG whose QR code decodes to the exact url", async () => {
    const code = await h.createQr(token, {
      action_name: "QR_STR_SCENE",
      expire_seconds: 600,
      action_info: { scene: { scene_str: "login-1" } },
    });
    const res = await show(String(code["ticket"]));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpg");
    expect(res.headers.get("cache-control")).toBe("max-age=604800");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(decodeJpegQr(bytes)).toEqual({ width: 430, height: 430, text: code["url"] });
  });

  it("serves the same bytes again (rendered once per ticket)", async () => {
    const code = await h.createQr(token, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 3 } } });
    const a = Buffer.from(await (await show(String(code["ticket"]))).arrayBuffer());
    const b = Buffer.from(await (await show(String(code["ticket"]))).arrayBuffer());
    expect(b.equals(a)).toBe(true);
    expect((await countsToday(h))["showqrcode"]).toBe(2);
  });

  it("answers 404 for an unknown ticket and for none", async () => {
    expect((await show("gQH+/EAAAAAAAAAAAS5odHRwOi8vd2VpeGluLnFxLmNvbS9xLzAyeHh4==")).status).toBe(404);
    expect((await h.get("/cgi-bin/showqrcode")).status).toBe(404);
  });

  it("answers 404 when the ticket was not URL-encoded (its '+' arrives as a space)", async () => {
    const code = await h.createQr(token, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 8 } } });
    const res = await h.get(`/cgi-bin/showqrcode?ticket=${String(code["ticket"])}`);
    expect(res.status).toBe(404);
  });

  it("answers 404 once a temporary code has expired; permanent codes never expire", async () => {
    const temp = await h.createQr(token, { action_name: "QR_SCENE", expire_seconds: 120, action_info: { scene: { scene_id: 77 } } });
    const perm = await h.createQr(token, { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: "forever" } } });
    h.advanceSeconds(119);
    expect((await show(String(temp["ticket"]))).status).toBe(200);
    h.advanceSeconds(1);
    expect((await show(String(temp["ticket"]))).status).toBe(404);
    h.advanceSeconds(365 * 86400);
    expect((await show(String(perm["ticket"]))).status).toBe(200);
  });

  it("needs no access token, and an expired token does not matter", async () => {
    const code = await h.createQr(token, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 11 } } });
    await h.control("POST", "/emulator/tokens/revoke");
    expect((await show(String(code["ticket"]))).status).toBe(200);
  });
});
