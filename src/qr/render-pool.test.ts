import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { renderPng } from "./png.ts";
import { createRenderPool, type RenderPool } from "./render-pool.ts";
import { renderSvg } from "./svg.ts";

// jsqr is CommonJS typed as an ES module: under NodeNext its default import is module.exports.
const jsQR = jsQRModule.default;

const texts = Array.from({ length: 50 }, (_, i) => `http://weixin.qq.com/q/02AbCdEfGhIjKlMnOp${String(i).padStart(6, "0")}`);

describe("createRenderPool", () => {
  let pool: RenderPool;
  beforeAll(() => {
    pool = createRenderPool({ workers: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("renders 50 codes concurrently, byte-identical to renderPng", async () => {
    const pngs = await Promise.all(texts.map((text, i) => pool.render(text, { size: 100 + i * 4 }, "png")));
    for (const [i, png] of pngs.entries()) {
      expect(Buffer.isBuffer(png)).toBe(true);
      expect(png.equals(renderPng(texts[i]!, { size: 100 + i * 4 }))).toBe(true);
    }
  });

  it("returns codes that decode to their own text", async () => {
    const png = await pool.render(texts[7]!, { size: 200 });
    const image = PNG.sync.read(png);
    const code = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height);
    expect(code?.data).toBe(texts[7]);
  });

  it("renders png by default and svg on request", async () => {
    const [png, svg] = await Promise.all([pool.render(texts[0]!), pool.render(texts[0]!, { margin: 2 }, "svg")]);
    expect(png.equals(renderPng(texts[0]!))).toBe(true);
    expect(svg).toBe(renderSvg(texts[0]!, { margin: 2 }));
  });

  it("rejects a bad size with the worker's ValidationError, code and field kept", async () => {
    const error: unknown = await pool.render(texts[0]!, { size: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", field: "size" });
  });

  it("rejects text too long to encode with a ValidationError on text", async () => {
    const error: unknown = await pool.render("x".repeat(3000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", field: "text" });
  });

  it("rejects only the render whose options cannot be sent to a worker", async () => {
    const bad = { size: 100, onProgress: () => undefined } as unknown as { size: number };
    const [good, rejected] = await Promise.allSettled([pool.render(texts[2]!), pool.render(texts[3]!, bad)]);
    expect(good.status).toBe("fulfilled");
    expect(rejected.status === "rejected" ? rejected.reason : undefined).toMatchObject({ code: "VALIDATION_FAILED", field: "options" });
  });

  it("keeps working after a rejected render", async () => {
    await pool.render(texts[1]!, { margin: 99 }).catch(() => undefined);
    expect((await pool.render(texts[1]!)).equals(renderPng(texts[1]!))).toBe(true);
  });
});

describe("createRenderPool lifecycle", () => {
  it("rejects a bad worker count", () => {
    for (const workers of [0, 1.5, -1]) {
      expect(() => createRenderPool({ workers })).toThrow(ValidationError);
    }
  });

  it("closes cleanly: in-flight renders reject, later renders reject, close is idempotent", async () => {
    const pool = createRenderPool({ workers: 1 });
    expect(pool.size).toBe(1);
    await pool.render(texts[0]!);
    const inFlight = pool.render(texts[1]!).then(
      () => "resolved",
      () => "rejected",
    );
    await pool.close();
    // The render may have finished just before close; it must not hang either way.
    expect(["resolved", "rejected"]).toContain(await inFlight);
    await expect(pool.render(texts[0]!)).rejects.toThrow();
    await pool.close();
  });

  it("does not keep the process alive: a closed pool, nor an idle one never closed", () => {
    const poolModule = fileURLToPath(new URL("./render-pool.ts", import.meta.url));
    const script = [
      `import { createRenderPool } from ${JSON.stringify(poolModule)};`,
      "const closed = createRenderPool({ workers: 1 });",
      "await closed.render('a');",
      "await closed.close();",
      "const idle = createRenderPool({ workers: 2 }); // one worker never gets a render",
      "await idle.render('b');",
      "console.log('done');",
    ].join("\n");
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 10_000, // a pool that keeps the process alive shows up as this timeout
    });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe("");
    expect(child.stdout.trim()).toBe("done");
    expect(child.status).toBe(0);
  });
});
