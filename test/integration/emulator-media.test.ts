/**
 * `media/upload` on the emulator, through the typed client over loopback (wechat-api.md §10.2):
 * types, formats by magic bytes, per-type sizes, the answer's shape, counting, quota and faults.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, RateLimitError, ValidationError } from "../../src/errors.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { renderPng } from "../../src/qr/png.ts";
import type { MediaType } from "../../src/wechat/index.ts";
import { START, platformPerTest, type Platform } from "../helpers/platform.ts";

const start = platformPerTest();

/** A file of `size` bytes that starts with `magic`: the emulator reads formats from the first bytes only. */
const fileOf = (magic: readonly number[], size: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  bytes.set(magic);
  return bytes;
};
const JPEG = [0xff, 0xd8, 0xff, 0xe0];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GIF = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61];
const AMR = [0x23, 0x21, 0x41, 0x4d, 0x52, 0x0a];
const MP3 = [0x49, 0x44, 0x33, 0x04];
const MP4 = [0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70];

async function errcodeOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).errcode;
  }
}

/** A hand-made upload, for what the typed client refuses to send. */
async function rawUpload(p: Platform, query: string, body: string | FormData, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const token = await p.client().accessToken.get();
  const res = await fetch(`${p.url}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&${query}`, { method: "POST", body, headers });
  return (await res.json()) as Record<string, unknown>;
}

describe("emulator: POST /cgi-bin/media/upload", () => {
  it("keeps an image and answers its media_id, created_at on the emulator's clock, valid 3 days; the bytes come back unchanged", async () => {
    const p = await start();
    const png = renderPng("http://weixin.qq.com/q/poster-test");
    const uploaded = await p.client().uploadMedia("image", png, "poster.png", "image/png");
    expect(uploaded).toEqual({ type: "image", mediaId: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/), createdAt: START, expiresAt: START + 3 * 86_400_000 });
    const res = await fetch(`${p.url}/emulator/media/${uploaded.mediaId}`);
    expect(res.headers.get("content-type")).toBe("image/png");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(bytes).equals(png)).toBe(true);
    expect(decodeQrImage(bytes)).toBe("http://weixin.qq.com/q/poster-test");
    expect((await p.counters())["media/upload"]).toBe(1);
  });

  it("answers a thumb with thumb_media_id (and item: []), which the client returns as mediaId", async () => {
    const p = await start();
    const form = new FormData();
    form.append("media", new Blob([fileOf(JPEG, 100)], { type: "image/jpeg" }), "t.jpg");
    const wire = await rawUpload(p, "type=thumb", form);
    expect(wire).toEqual({ type: "thumb", thumb_media_id: expect.any(String), created_at: START / 1000, item: [] });
    expect(wire).not.toHaveProperty("media_id");
    const uploaded = await p.client().uploadMedia("thumb", fileOf(JPEG, 100), "t.jpg", "image/jpeg");
    expect(uploaded.type).toBe("thumb");
    expect((await fetch(`${p.url}/emulator/media/${uploaded.mediaId}`)).status).toBe(200);
  });

  it.each<[MediaType, readonly number[], string]>([
    ["image", PNG, "png"],
    ["image", JPEG, "jpeg"],
    ["image", GIF, "gif"],
    ["voice", AMR, "amr"],
    ["voice", MP3, "mp3"],
    ["video", MP4, "mp4"],
    ["thumb", JPEG, "jpeg"],
  ])("takes %s as %s by its first bytes", async (type, magic) => {
    const p = await start();
    await expect(p.client().uploadMedia(type, fileOf(magic, 64), "f", "application/octet-stream")).resolves.toMatchObject({ type });
  });

  it.each<[string, MediaType, readonly number[]]>([
    ["text as an image", "image", [0x68, 0x65, 0x6c, 0x6c, 0x6f]],
    ["a PNG as a thumb (JPG only)", "thumb", PNG],
    ["a GIF as a voice", "voice", GIF],
    ["an MP3 as a video", "video", MP3],
    ["an MP4 as an image", "image", MP4],
  ])("refuses %s with 40005, whatever the name and Content-Type say", async (_case, type, magic) => {
    const p = await start();
    expect(await errcodeOf(p.client().uploadMedia(type, fileOf(magic, 64), "looks.png", "image/png"))).toBe(40005);
  });

  it("takes a thumb of exactly 64 KB and refuses one byte more with 40006", async () => {
    const p = await start();
    await expect(p.client().uploadMedia("thumb", fileOf(JPEG, 65_536), "t.jpg", "image/jpeg")).resolves.toMatchObject({ type: "thumb" });
    expect(await errcodeOf(p.client().uploadMedia("thumb", fileOf(JPEG, 65_537), "t.jpg", "image/jpeg"))).toBe(40006);
  });

  it("takes an image of exactly 10 MB by default and refuses one byte more with 40006", async () => {
    const p = await start();
    const tenMb = 10 * 1_048_576;
    await expect(p.client().uploadMedia("image", fileOf(PNG, tenMb), "big.png", "image/png")).resolves.toMatchObject({ type: "image" });
    expect(await errcodeOf(p.client().uploadMedia("image", fileOf(PNG, tenMb + 1), "big.png", "image/png"))).toBe(40006);
  });

  it("takes other size limits from its options (the older 2 MB image rule) and from PUT /emulator/config", async () => {
    const p = await start({ mediaMaxBytes: { image: 2 * 1_048_576 } });
    expect(await errcodeOf(p.client().uploadMedia("image", fileOf(PNG, 2 * 1_048_576 + 1), "a.png", "image/png"))).toBe(40006);
    await p.control("PUT", "/emulator/config", { mediaMaxBytes: { image: 100 } });
    await expect(p.client().uploadMedia("image", fileOf(PNG, 100), "a.png", "image/png")).resolves.toMatchObject({ type: "image" });
    expect(await errcodeOf(p.client().uploadMedia("image", fileOf(PNG, 101), "a.png", "image/png"))).toBe(40006);
  });

  it("refuses another type with 40004 (the client refuses it before sending)", async () => {
    const p = await start();
    const form = new FormData();
    form.append("media", new Blob([fileOf(PNG, 10)]), "a.png");
    expect((await rawUpload(p, "type=file", form))["errcode"]).toBe(40004);
    expect((await rawUpload(p, "", form))["errcode"]).toBe(40004);
    await expect(p.client().uploadMedia("file" as MediaType, fileOf(PNG, 10), "a.png", "image/png")).rejects.toBeInstanceOf(ValidationError);
  });

  it("refuses with 41005 a body that is not multipart, a multipart body without a `media` file, and an empty form", async () => {
    const p = await start();
    expect((await rawUpload(p, "type=image", "not multipart", { "content-type": "application/octet-stream" }))["errcode"]).toBe(41005);
    const wrongName = new FormData();
    wrongName.append("file", new Blob([fileOf(PNG, 10)]), "a.png");
    expect((await rawUpload(p, "type=image", wrongName))["errcode"]).toBe(41005);
    const fieldOnly = new FormData();
    fieldOnly.append("media", "just text");
    expect((await rawUpload(p, "type=image", fieldOnly))["errcode"]).toBe(41005);
    expect((await rawUpload(p, "type=image", new FormData()))["errcode"]).toBe(41005);
  });

  it("counts every upload, failed ones too, and answers 45009 past its daily quota", async () => {
    const p = await start({ dailyQuota: { "media/upload": 2 } });
    const client = p.client();
    await client.uploadMedia("image", fileOf(PNG, 10), "a.png", "image/png");
    expect(await errcodeOf(client.uploadMedia("thumb", fileOf(GIF, 10), "a.gif", "image/gif"))).toBe(40005);
    const over = client.uploadMedia("image", fileOf(PNG, 10), "a.png", "image/png");
    await expect(over).rejects.toBeInstanceOf(RateLimitError);
    await expect(over).rejects.toMatchObject({ errcode: 45009 });
    expect((await p.counters())["media/upload"]).toBe(3);
  });

  it("answers an armed fault, and the client's retry sends the same file again", async () => {
    const p = await start();
    await p.fault("/cgi-bin/media/upload", -1, 1);
    const png = renderPng("http://weixin.qq.com/q/retry");
    const uploaded = await p.client().uploadMedia("image", png, "r.png", "image/png");
    expect((await p.counters())["media/upload"]).toBe(2);
    const kept = new Uint8Array(await (await fetch(`${p.url}/emulator/media/${uploaded.mediaId}`)).arrayBuffer());
    expect(Buffer.from(kept).equals(png)).toBe(true);
  });

  it("answers 404 for media it never kept", async () => {
    const p = await start();
    expect((await fetch(`${p.url}/emulator/media/nope`)).status).toBe(404);
  });
});
