/**
 * Poster renders per second (issue #12): compositing a 1080×1920 background, a 300 px code and a
 * line of Chinese text with sharp, each render with a new code url (cold: what a new follower
 * costs), and the service's answer for a poster already rendered (cached: a database read of the
 * design's version and the follower's code, then the in-memory LRU). The service runs on a
 * temporary SQLite file with the emulator in the same process, as in the tests.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { silentLogger, systemDeps } from "../../src/deps.ts";
import { createWxqrService } from "../../src/domain/index.ts";
import { renderPoster, type PosterDesign } from "../../src/domain/poster-image.ts";
import { createEmulator } from "../../src/emulator/index.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { migrate, SqliteDatabase } from "../../src/store/index.ts";
import { createWeChatClient } from "../../src/wechat/client.ts";
import { measure, type BenchContext, type BenchRow, type Measurement } from "../lib.ts";

export const name = "poster";
export const description = "Poster renders (1080×1920, 300 px code, one line of Chinese text), renders/s (higher is better)";

const WIDTH = 1080;
const HEIGHT = 1920;
const QR = { x: 700, y: 1540, sizePx: 300 };
const TEXT = { text: "扫码关注，和我一起领好礼", fontSizePx: 56, color: "#ffffff", x: 80, y: 120 };
const APP = { appId: "wxbench00poster01", appSecret: "benchsecret0123456789abcdef01234" };

/** A background with some texture, so that PNG compression has real work to do. */
async function background(format: "png" | "jpeg"): Promise<Buffer> {
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      raw[i] = (x >> 2) & 0xff;
      raw[i + 1] = (y >> 3) & 0xff;
      raw[i + 2] = ((x + y) >> 4) & 0xff;
    }
  }
  const image = sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } });
  return format === "png" ? image.png().toBuffer() : image.jpeg({ quality: 85 }).toBuffer();
}

function row(label: string, m: Measurement, bytes: number, note: string): BenchRow {
  return { case: label, "renders/s": Math.round(m.opsPerSec * 10) / 10, "ms/render": Math.round(m.msPerOp * 100) / 100, bytes, calls: m.iterations, note };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const bounds = { minMs: 3_000, maxMs: 5_000, maxIterations: 500, minIterations: 3, warmupIterations: 3, warmupMaxMs: 2_000 };
  let n = 0;
  const nextUrl = (): string => `http://weixin.qq.com/q/02bench${String(n++).padStart(16, "0")}`;

  for (const format of ["jpeg", "png"] as const) {
    ctx.log(`poster: cold renders, ${format.toUpperCase()} background`);
    const bg = await background(format);
    const design: PosterDesign = { background: bg, width: WIDTH, height: HEIGHT, qr: QR, text: TEXT };
    const sampleUrl = nextUrl();
    const sample = await renderPoster(design, sampleUrl);
    const square = await sharp(sample).extract({ left: QR.x, top: QR.y, width: QR.sizePx, height: QR.sizePx }).png().toBuffer();
    if (decodeQrImage(square) !== sampleUrl) throw new Error("the poster's code does not decode to its url");
    const m = await measure(() => renderPoster(design, nextUrl()), bounds);
    rows.push(row(`cold, ${format.toUpperCase()} background (${Math.round(bg.length / 1024)} KB)`, m, sample.length, "renderPoster, a new code url each time"));
  }

  ctx.log("poster: the service's cached answer");
  const dir = mkdtempSync(join(tmpdir(), "wxqr-bench-poster-"));
  const emulator = createEmulator(APP, { logger: silentLogger });
  const db = new SqliteDatabase({ file: join(dir, "bench.db") });
  try {
    const emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
    await migrate(db);
    const deps = systemDeps({ logger: silentLogger });
    const client = createWeChatClient({ ...APP, apiBase: emulatorUrl, mpBase: emulatorUrl }, deps);
    const service = await createWxqrService({ db, qrcodes: client.qrcodes, wechat: client, accountId: APP.appId }, deps);
    await service.posters.save({ kind: "referral" }, { background: await background("jpeg"), qr: QR, text: TEXT });
    const first = await service.posters.referralPoster("oBenchPoster");
    if (first.cached || first.png === null) throw new Error("the first render should be a miss");
    const m = await measure(
      async () => {
        const p = await service.posters.referralPoster("oBenchPoster");
        if (!p.cached) throw new Error("expected a cache hit");
      },
      { minMs: 2_000, maxMs: 3_000, maxIterations: 50_000, warmupIterations: 50 },
    );
    rows.push(row("cached, through the service (SQLite)", m, first.png.length, "design version + code read, LRU hit"));
    await service.drain();
  } finally {
    await db.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
