/**
 * QR rendering throughput, side by side in one run: the `qrcode` package's own PNG path,
 * its encoder alone, and our renderers on one core and in a worker pool (issue #2).
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import QRCode from "qrcode";
import type * as QrModule from "../../src/qr/index.ts";
import { measure, type BenchContext, type BenchRow, type Measurement } from "../lib.ts";

type QrApi = typeof QrModule;

export const name = "qr";
export const description = "QR rendering at 430 px, ops/s (higher is better)";

const URL_TEXT = "http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrStUv"; // a typical showqrcode url
const SIZE_PX = 430;
const POOL_WORKERS = 2;
const POOL_BATCH = 2_000;

// jsqr is CommonJS typed as an ES module: under NodeNext its default import is module.exports.
const jsQR = jsQRModule.default;

/**
 * The built dist when it is at least as new as the sources (what `npm run bench` measures,
 * with the pool's plain .js worker), else the sources through tsx.
 */
async function loadQr(root: string): Promise<{ api: QrApi; impl: string }> {
  const dist = join(root, "dist/qr/index.js");
  const srcDir = join(root, "src/qr");
  if (existsSync(dist)) {
    const newestSrc = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs));
    if (statSync(dist).mtimeMs >= newestSrc) {
      return { api: (await import(pathToFileURL(dist).href)) as QrApi, impl: "dist" };
    }
  }
  return { api: (await import(pathToFileURL(join(srcDir, "index.ts")).href)) as QrApi, impl: "src (dist missing or stale)" };
}

function decode(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  const data = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return jsQR(data, image.width, image.height)?.data;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const { api, impl } = await loadQr(ctx.root);
  ctx.log(`qr: measuring ${impl}`);
  const rows: { case: string; m: Measurement; bytes: number | null; note: string }[] = [];

  ctx.log("qrcode toBuffer");
  const theirs = await QRCode.toBuffer(URL_TEXT, { width: SIZE_PX, margin: 4, errorCorrectionLevel: "M" });
  const toBuffer = await measure(() => QRCode.toBuffer(URL_TEXT, { width: SIZE_PX, margin: 4, errorCorrectionLevel: "M" }), {
    minMs: 1_500,
    maxMs: 3_000,
    maxIterations: 1_000,
    warmupIterations: 5,
  });
  rows.push({ case: "qrcode toBuffer (PNG)", m: toBuffer, bytes: theirs.length, note: "RGBA + pngjs" });

  ctx.log("QRCode.create");
  const create = await measure(() => QRCode.create(URL_TEXT, { errorCorrectionLevel: "M" }), {
    minMs: 1_500,
    maxMs: 3_000,
    maxIterations: 50_000,
    warmupIterations: 200,
  });
  rows.push({ case: "QRCode.create (encode only)", m: create, bytes: null, note: "the floor for any renderer" });

  ctx.log("renderPng");
  const ours = api.renderPng(URL_TEXT, { size: SIZE_PX });
  const renderPng = await measure(() => api.renderPng(URL_TEXT, { size: SIZE_PX }), {
    minMs: 1_500,
    maxMs: 3_000,
    maxIterations: 50_000,
    warmupIterations: 200,
  });
  rows.push({ case: "renderPng (1 core)", m: renderPng, bytes: ours.length, note: "1-bit PNG" });

  ctx.log("renderPngFromMatrix");
  const matrix = api.encodeQr(URL_TEXT, "M");
  const fromMatrix = await measure(() => api.renderPngFromMatrix(matrix, { sizePx: SIZE_PX, margin: 4 }), {
    minMs: 1_000,
    maxMs: 2_000,
    maxIterations: 200_000,
    warmupIterations: 500,
  });
  rows.push({ case: "renderPngFromMatrix (no encode)", m: fromMatrix, bytes: ours.length, note: "pixels + deflate only" });

  ctx.log("renderSvg");
  const svg = api.renderSvg(URL_TEXT, { size: SIZE_PX });
  const renderSvg = await measure(() => api.renderSvg(URL_TEXT, { size: SIZE_PX }), {
    minMs: 1_500,
    maxMs: 3_000,
    maxIterations: 50_000,
    warmupIterations: 200,
  });
  rows.push({ case: "renderSvg (1 core)", m: renderSvg, bytes: Buffer.byteLength(svg), note: "one path" });

  ctx.log(`pool: ${POOL_WORKERS} workers, batches of ${POOL_BATCH}`);
  const pool = api.createRenderPool({ workers: POOL_WORKERS });
  let verified: string;
  try {
    const batch = (): Promise<Buffer[]> => Promise.all(Array.from({ length: POOL_BATCH }, () => pool.render(URL_TEXT, { size: SIZE_PX }, "png")));
    // Workers reach full speed only after a few thousand renders: with every core busy
    // rendering, V8's background compiler gets little time to optimise the hot code.
    const poolRate = await measure(batch, {
      minMs: 2_000,
      maxMs: 4_000,
      maxIterations: 10,
      minIterations: 2,
      warmupIterations: 3,
      warmupMaxMs: 2_500,
      opsPerCall: POOL_BATCH,
    });
    verified = await verifyPool(pool, api, ours);
    rows.push({ case: `pool, ${POOL_WORKERS} workers (PNG)`, m: poolRate, bytes: ours.length, note: `batch ${POOL_BATCH}; ${verified}` });
  } finally {
    await pool.close();
  }

  return rows.map(({ case: name, m, bytes, note }) => ({
    case: name,
    "ops/s": Math.round(m.opsPerSec),
    "ms/op": m.msPerOp,
    "× toBuffer": Math.round((m.opsPerSec / toBuffer.opsPerSec) * 10) / 10,
    bytes,
    calls: m.iterations,
    note,
  }));
}

/** Once, outside the timing: pool output is the single-thread output, and decodes to its own text. */
async function verifyPool(pool: ReturnType<QrApi["createRenderPool"]>, api: QrApi, reference: Buffer): Promise<string> {
  const same = await pool.render(URL_TEXT, { size: SIZE_PX });
  if (!same.equals(reference)) throw new Error("pool PNG differs from renderPng's");
  const texts = Array.from({ length: 8 }, (_, i) => `${URL_TEXT.slice(0, -2)}${String(i).padStart(2, "0")}`);
  const pngs = await Promise.all(texts.map((t) => pool.render(t, { size: SIZE_PX })));
  for (const [i, png] of pngs.entries()) {
    const decoded = decode(png);
    if (decoded !== texts[i]) throw new Error(`pool result ${i} decoded to ${JSON.stringify(decoded)}, expected ${texts[i]}`);
    if (!png.equals(api.renderPng(texts[i]!, { size: SIZE_PX }))) throw new Error(`pool result ${i} differs from renderPng's`);
  }
  if (decode(reference) !== URL_TEXT) throw new Error("renderPng output does not decode");
  return `verified: ${pngs.length + 1} decode, byte-identical`;
}
