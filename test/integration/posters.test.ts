/**
 * Posters (issue #12, deliverable 1) over real loopback HTTP, on SQLite and on PostgreSQL: an
 * operator uploads a background and a layout, the service renders each follower's poster with
 * their personal code (made on the emulator's API when they have none) and each channel's with
 * its code. The PNGs are read back with sharp (pixels) and jsQR (the code).
 */
import sharp from "sharp";
import { expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";

const WIDTH = 600;
const HEIGHT = 800;
const QR = { x: 350, y: 550, size: 200 };
const TEXT = { text: "扫码关注，领取好礼 <Gift> & more", fontSize: 32, color: "#c81e1e", x: 40, y: 60 };
// The text's box as the renderer draws it: from its corner to the right edge, 1.3 font sizes high.
const TEXT_BOX = { x: TEXT.x, y: TEXT.y, width: WIDTH - TEXT.x, height: Math.ceil(TEXT.fontSize * 1.3) };

/** An RGB background whose every pixel differs from its neighbours: nothing can pass for it by chance. */
async function background(width = WIDTH, height = HEIGHT, format: "png" | "jpeg" = "png"): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 7 + y) % 256;
      raw[i + 1] = (y * 5 + 3 * x) % 256;
      raw[i + 2] = (x * y) % 251;
    }
  }
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === "png" ? image.png().toBuffer() : image.jpeg().toBuffer();
}

async function rgb(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

type Box = { x: number; y: number; width: number; height: number };
const inside = (b: Box, x: number, y: number): boolean => x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height;

/** Pixels that differ between two images of one size, counted inside and outside the boxes given. */
async function differences(a: Buffer, b: Buffer, boxes: Box[]): Promise<{ inside: number; outside: number }> {
  const [pa, pb] = [await rgb(a), await rgb(b)];
  expect([pa.width, pa.height]).toEqual([pb.width, pb.height]);
  const out = { inside: 0, outside: 0 };
  for (let y = 0; y < pa.height; y++) {
    for (let x = 0; x < pa.width; x++) {
      const i = (y * pa.width + x) * 3;
      if (pa.data[i] === pb.data[i] && pa.data[i + 1] === pb.data[i + 1] && pa.data[i + 2] === pb.data[i + 2]) continue;
      if (boxes.some((box) => inside(box, x, y))) out.inside++;
      else out.outside++;
    }
  }
  return out;
}

async function getPng(h: ServiceHarness, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; png: Buffer }> {
  const res = await fetch(`${h.serviceUrl}${path}`, { headers: { authorization: `Bearer ${h.adminToken}`, ...headers }, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, headers: res.headers, png: Buffer.from(await res.arrayBuffer()) };
}

/** The code in the poster's square, as a phone would read it from the poster. */
async function codeIn(png: Buffer, qr = QR): Promise<string> {
  const square = await sharp(png).extract({ left: qr.x, top: qr.y, width: qr.size, height: qr.size }).png().toBuffer();
  return decodeQrImage(square);
}

function describePosters(makeFactory: () => DatabaseFactory): void {
  const { start } = serviceHarnesses(makeFactory);

  async function design(h: ServiceHarness, path: string, body: Json): Promise<Json> {
    const res = await h.api("PUT", path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  it("stores an uploaded background and layout, lists it without the image, and serves the image back unchanged", async () => {
    const h = await start();
    const bg = await background();
    const saved = await design(h, "/api/posters/referral", { background: bg.toString("base64"), qr: QR, text: TEXT });
    expect(saved).toMatchObject({ target: "referral", backgroundType: "image/png", width: WIDTH, height: HEIGHT, qr: QR, text: TEXT });

    const list = await h.api("GET", "/api/posters");
    expect(list.status).toBe(200);
    expect(list.body.posters).toHaveLength(1);
    expect(list.body.posters[0]).toMatchObject({ target: "referral", version: saved.version, backgroundUrl: "/api/posters/referral/background" });
    expect(JSON.stringify(list.body)).not.toContain(bg.toString("base64").slice(0, 64));

    const image = await getPng(h, "/api/posters/referral/background");
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(image.png.equals(bg)).toBe(true);
  });

  it("renders a follower's poster with their personal code, made for them, on the background's own pixels", async () => {
    const h = await start();
    const bg = await background();
    await design(h, "/api/posters/referral", { background: bg.toString("base64"), qr: QR });

    const poster = await getPng(h, "/api/referrals/oPosterA/poster.png");
    expect(poster.status).toBe(200);
    expect(poster.headers.get("content-type")).toBe("image/png");
    // The poster endpoint made the follower's code; asking for it now gives that same code.
    const code = (await h.api("POST", "/api/referrals/codes", { openId: "oPosterA" })).body.qrcode;
    expect(await codeIn(poster.png)).toBe(code.url);
    expect(decodeQrImage(poster.png)).toBe(code.url);

    const qrBox = { x: QR.x, y: QR.y, width: QR.size, height: QR.size };
    const diff = await differences(poster.png, bg, [qrBox]);
    expect(diff.outside).toBe(0);
    expect(diff.inside).toBeGreaterThan(QR.size * QR.size * 0.5);

    // Another follower: another code on the same artwork.
    const other = await getPng(h, "/api/referrals/oPosterB/poster.png");
    const otherCode = (await h.api("POST", "/api/referrals/codes", { openId: "oPosterB" })).body.qrcode;
    expect(otherCode.url).not.toBe(code.url);
    expect(await codeIn(other.png)).toBe(otherCode.url);
  });

  it("draws a line of Chinese text inside its box and nowhere else, with markup characters as text", async () => {
    const h = await start();
    const bg = await background();
    await design(h, "/api/posters/referral", { background: bg.toString("base64"), qr: QR });
    const plain = await getPng(h, "/api/referrals/oText/poster.png");
    await design(h, "/api/posters/referral", { qr: QR, text: TEXT });
    const withText = await getPng(h, "/api/referrals/oText/poster.png");

    const diff = await differences(withText.png, plain.png, [TEXT_BOX]);
    expect(diff.outside).toBe(0);
    // And against the upload itself: only the code's square and the text's line differ.
    expect((await differences(withText.png, bg, [TEXT_BOX, { x: QR.x, y: QR.y, width: QR.size, height: QR.size }])).outside).toBe(0);
    // Glyphs of a 32 px line cover far more than a few stray pixels.
    expect(diff.inside).toBeGreaterThan(2_000);
    // Ink in the line's colour: the red channel well above the others somewhere in the box.
    const { data } = await rgb(withText.png);
    let red = 0;
    for (let y = TEXT_BOX.y; y < TEXT_BOX.y + TEXT_BOX.height; y++) {
      for (let x = TEXT_BOX.x; x < WIDTH; x++) {
        const i = (y * WIDTH + x) * 3;
        if (data[i] === 0xc8 && data[i + 1] === 0x1e && data[i + 2] === 0x1e) red++;
      }
    }
    expect(red).toBeGreaterThan(200);
    // Chinese characters each get a glyph of their own: two lines of different characters differ.
    await design(h, "/api/posters/referral", { qr: QR, text: { ...TEXT, text: "扫码关注" } });
    const a = await getPng(h, "/api/referrals/oText/poster.png");
    await design(h, "/api/posters/referral", { qr: QR, text: { ...TEXT, text: "邀请好友" } });
    const b = await getPng(h, "/api/referrals/oText/poster.png");
    expect((await differences(a.png, b.png, [TEXT_BOX])).inside).toBeGreaterThan(500);
  });

  it("renders from a JPEG background too", async () => {
    const h = await start();
    const bg = await background(WIDTH, HEIGHT, "jpeg");
    const saved = await design(h, "/api/posters/referral", { background: bg.toString("base64"), qr: QR });
    expect(saved.backgroundType).toBe("image/jpeg");
    const poster = await getPng(h, "/api/referrals/oJpeg/poster.png");
    const code = (await h.api("POST", "/api/referrals/codes", { openId: "oJpeg" })).body.qrcode;
    expect(await codeIn(poster.png)).toBe(code.url);
  });

  async function refused(h: ServiceHarness, body: Json, field: string): Promise<void> {
    const res = await h.api("PUT", "/api/posters/referral", body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: "VALIDATION_FAILED", field });
  }

  it("refuses a background that is not PNG or JPEG by its content, or too large, with 400 naming the field", async () => {
    const h = await start({ posters: { maxBytes: 200_000, maxSidePx: 1_000 } });
    // A first design needs its image.
    await refused(h, { qr: QR }, "background");
    // By content, not by name: a GIF, a text file, a PNG signature followed by garbage.
    await refused(h, { background: Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;").toString("base64"), qr: QR }, "background");
    await refused(h, { background: Buffer.from("hello, not an image").toString("base64"), qr: QR }, "background");
    const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await refused(h, { background: Buffer.concat([pngSignature, Buffer.alloc(64, 7)]).toString("base64"), qr: QR }, "background");
    await refused(h, { background: "not base64!", qr: QR }, "background");
    // Too many bytes (the limit is 200 kB here), too many pixels (1,000 px a side here).
    const noisy = (side: number): Promise<Buffer> =>
      sharp(
        Buffer.alloc(side * side * 3).map((_, i) => (i * 2_654_435_761) >>> 24),
        { raw: { width: side, height: side, channels: 3 } },
      )
        .png({ compressionLevel: 0 })
        .toBuffer();
    const large = await noisy(300);
    expect(large.length).toBeGreaterThan(200_000);
    await refused(h, { background: large.toString("base64"), qr: QR }, "background");
    // Far beyond the limit: refused unread, by the body's size.
    const huge = await h.api("PUT", "/api/posters/referral", { background: (await noisy(600)).toString("base64"), qr: QR });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toBe("BODY_TOO_LARGE");
    const wide = await sharp({ create: { width: 1_200, height: 300, channels: 3, background: "#336699" } })
      .png()
      .toBuffer();
    await refused(h, { background: wide.toString("base64"), qr: { x: 0, y: 0, size: 200 } }, "background");
    expect((await h.api("GET", "/api/posters")).body).toEqual({ posters: [], limits: { maxBytes: 200_000, maxSidePx: 1_000 } });
  });

  it("refuses a code or a text line outside the image, or a bad colour, with 400 naming the field", async () => {
    const h = await start();
    const bg = (await background()).toString("base64");
    // The code or the text outside the image.
    await refused(h, { background: bg, qr: { ...QR, x: WIDTH - QR.size + 1 } }, "qr.x");
    await refused(h, { background: bg, qr: { ...QR, y: HEIGHT - 10 } }, "qr.y");
    await refused(h, { background: bg, qr: { ...QR, size: 50 } }, "qr.size");
    await refused(h, { background: bg, qr: QR, text: { ...TEXT, y: HEIGHT - 20 } }, "text.y");
    await refused(h, { background: bg, qr: QR, text: { ...TEXT, x: WIDTH } }, "text.x");
    await refused(h, { background: bg, qr: QR, text: { ...TEXT, color: "red" } }, "text.color");
    await refused(h, { background: bg, qr: QR, text: { ...TEXT, text: "two\nlines" } }, "text.text");
    expect((await h.api("GET", "/api/posters")).body.posters).toEqual([]);
    // Nothing to render yet.
    const missing = await h.api("GET", "/api/referrals/oNobody/poster.png");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe("NOT_FOUND");
  });

  it("serves the second render from its cache, answers a matching ETag with 304, and renders anew once the design changes", async () => {
    const h = await start();
    const bg = await background();
    await design(h, "/api/posters/referral", { background: bg.toString("base64"), qr: QR });

    const first = await getPng(h, "/api/referrals/oCache/poster.png");
    expect(first.headers.get("x-poster-cache")).toBe("miss");
    const second = await getPng(h, "/api/referrals/oCache/poster.png");
    expect(second.headers.get("x-poster-cache")).toBe("hit");
    expect(second.png.equals(first.png)).toBe(true);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(second.headers.get("etag")).toBe(etag);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    const revalidated = await getPng(h, "/api/referrals/oCache/poster.png", { "if-none-match": etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.png.length).toBe(0);

    // The code moves: the next request renders the new design, with a new ETag.
    const moved = { x: 20, y: 20, size: 240 };
    await design(h, "/api/posters/referral", { qr: moved });
    const after = await getPng(h, "/api/referrals/oCache/poster.png", { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(after.headers.get("x-poster-cache")).toBe("miss");
    expect(after.headers.get("etag")).not.toBe(etag);
    const code = (await h.api("POST", "/api/referrals/codes", { openId: "oCache" })).body.qrcode;
    expect(await codeIn(after.png, moved)).toBe(code.url);
    expect((await differences(after.png, bg, [{ x: 20, y: 20, width: 240, height: 240 }])).outside).toBe(0);
    expect((await getPng(h, "/api/referrals/oCache/poster.png")).headers.get("x-poster-cache")).toBe("hit");
    // The old design's posters left the cache with it.
    expect(h.service.posters.cache.size).toBe(1);
  });

  it("renders a channel's poster with the channel's code: its own design, else the campaign's", async () => {
    const h = await start();
    const channel = (await h.api("POST", "/api/channels", { name: "Shop 12" })).body;
    expect((await h.api("GET", `/api/channels/${channel.id}/poster.png`)).status).toBe(404);

    const campaignBg = await background();
    await design(h, "/api/posters/referral", { background: campaignBg.toString("base64"), qr: QR });
    const fallback = await getPng(h, `/api/channels/${channel.id}/poster.png`);
    expect(fallback.status).toBe(200);
    expect(await codeIn(fallback.png)).toBe(channel.qrcode.url);

    const ownBg = await background(400, 400);
    const own = { x: 100, y: 100, size: 200 };
    const saved = await design(h, `/api/posters/channels/${channel.id}`, { background: ownBg.toString("base64"), qr: own });
    expect(saved).toMatchObject({ target: "channel", channelId: channel.id, width: 400, height: 400 });
    const poster = await getPng(h, `/api/channels/${channel.id}/poster.png`);
    expect((await sharp(poster.png).metadata()).width).toBe(400);
    expect(await codeIn(poster.png, own)).toBe(channel.qrcode.url);
    expect((await differences(poster.png, ownBg, [{ ...own, width: own.size, height: own.size }])).outside).toBe(0);
    expect((await h.api("GET", "/api/posters")).body.posters.map((p: Json) => p.target)).toEqual(["channel", "referral"]);

    // The dashboard's preview: the channel's own design, a sample code, no code made for anyone.
    const preview = await getPng(h, `/api/posters/channels/${channel.id}/preview.png`);
    expect(preview.status, preview.png.toString()).toBe(200);
    expect(await codeIn(preview.png, own)).toBe("http://weixin.qq.com/q/wxqr-poster-preview");
    const quota = (await h.api("GET", "/api/quota")).body.permanent.used;
    expect(await codeIn((await getPng(h, "/api/posters/referral/preview.png")).png)).toBe("http://weixin.qq.com/q/wxqr-poster-preview");
    expect((await h.api("GET", "/api/quota")).body.permanent.used).toBe(quota);

    // Removed: back to the campaign's design.
    expect((await h.api("DELETE", `/api/posters/channels/${channel.id}`)).status).toBe(204);
    expect((await sharp((await getPng(h, `/api/channels/${channel.id}/poster.png`)).png).metadata()).width).toBe(WIDTH);
    expect((await h.api("DELETE", `/api/posters/channels/${channel.id}`)).status).toBe(404);
    // No such channel.
    expect((await h.api("PUT", "/api/posters/channels/ch_nosuchchannel", { background: ownBg.toString("base64"), qr: own })).status).toBe(404);
    expect((await h.api("GET", "/api/channels/ch_nosuchchannel/poster.png")).status).toBe(404);
    // The preview of a channel without a design of its own: none to show.
    expect((await h.api("GET", `/api/posters/channels/${channel.id}/preview.png`)).status).toBe(404);
  });

  it("keeps the design routes behind the admin token", async () => {
    const h = await start();
    for (const [method, path] of [
      ["GET", "/api/posters"],
      ["PUT", "/api/posters/referral"],
      ["GET", "/api/referrals/oA/poster.png"],
    ] as const) {
      expect((await h.api(method, path, method === "PUT" ? { qr: QR } : undefined, { token: null })).status).toBe(401);
    }
  });
}

describeOnBothEngines("posters suite", describePosters);
