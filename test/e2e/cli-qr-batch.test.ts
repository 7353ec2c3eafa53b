/**
 * `wxqr qr batch`, run as the built binary against `wxqr emulator` with a permanent quota of 25.
 * Stderr is a pipe here, so progress comes as plain lines, not a bar.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { BIN, cleanEnv, ROOT, runCli, startCli, type LongRunning } from "../helpers/cli.ts";

const APP_ID = "wxe2e0000000000009";
const APP_SECRET = "e2e-secret-batch-0123456789";
const PERMANENT_QUOTA = 25;

let emulator: LongRunning & { match: RegExpMatchArray };
let url: string;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-batch-"));
  emulator = await startCli(
    ["emulator", "--port", "0", "--app-id", APP_ID, "--app-secret", APP_SECRET, "--permanent-quota", String(PERMANENT_QUOTA)],
    /listening on (http:\/\/\S+)/,
  );
  url = emulator.match[1]!;
  env = { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: APP_SECRET, WECHAT_API_BASE: url, WECHAT_MP_BASE: url };
});

afterAll(async () => {
  expect(await emulator?.stop("SIGINT")).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

async function ndjson(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function counters(): Promise<unknown> {
  const res = await fetch(`${url}/emulator/counters`);
  return ((await res.json()) as { totals: unknown }).totals;
}

/**
 * Reads an SVG the way a browser would draw it: the `<path>` runs (`M x y h len v1 h -len z`, in
 * modules) are painted onto a PNG, which the same decoder as the other tests then scans.
 */
function svgToPng(svg: string): Buffer {
  const viewBox = /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) \1" width="(\d+)" height="\2"/.exec(svg);
  expect(viewBox, "an <svg> root with a square viewBox").not.toBeNull();
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  const modules = Number(viewBox![1]);
  const d = /<path fill="#000" d="([^"]*)"\/>/.exec(svg)![1]!;
  expect(d).toMatch(/^(M\d+ \d+h\d+v1h-\d+z)+$/);
  const scale = 4;
  const png = new PNG({ width: modules * scale, height: modules * scale });
  png.data.fill(255);
  for (const [, x, y, len] of d.matchAll(/M(\d+) (\d+)h(\d+)/g)) {
    for (let py = Number(y) * scale; py < (Number(y) + 1) * scale; py++) {
      for (let px = Number(x) * scale; px < (Number(x) + Number(len)) * scale; px++) {
        const i = (py * png.width + px) * 4;
        png.data[i] = png.data[i + 1] = png.data[i + 2] = 0;
      }
    }
  }
  return PNG.sync.write(png);
}

describe("wxqr qr batch against `wxqr emulator --permanent-quota 25`", () => {
  it("creates permanent codes up to the quota, records the rest as errors and exits 1", async () => {
    const out = join(dir, "permanent");
    const result = await runCli(["qr", "batch", "--permanent", "--count", "30", "--scene-start", "1", "--out-dir", out], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^25 created, 5 failed, in \d+\.\d+ s \(\d+(\.\d)? codes\/s\)\n$/);

    const stderr = result.stderr.trimEnd().split("\n");
    expect(stderr.at(-1)).toBe(`wxqr: 5 of 30 codes failed (WECHAT_QR_QUOTA_EXCEEDED ×5): see ${join(out, "errors.ndjson")}`);
    const progress = stderr.slice(0, -1);
    expect(progress).toHaveLength(10); // one line every 10 %
    expect(progress.at(-1)).toMatch(/^30\/30 \(100%\): 25 created, 5 failed, \d+\.\d s$/);

    const codes = await ndjson(join(out, "codes.ndjson"));
    const errors = await ndjson(join(out, "errors.ndjson"));
    expect(codes).toHaveLength(25);
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toMatchObject({ type: "permanent", stage: "create", code: "WECHAT_QR_QUOTA_EXCEEDED", errcode: 45029 });
    // Every scene is accounted for exactly once, in one file or the other.
    const scenes = [...codes, ...errors].map((line) => line.scene as number).sort((a, b) => a - b);
    expect(scenes).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    const files = (await readdir(out)).filter((f) => f.endsWith(".png"));
    expect(files).toHaveLength(25);
    for (const code of codes) {
      expect(code).toMatchObject({ type: "permanent", expiresAt: null, file: `${String(code.scene)}.png` });
      expect(files).toContain(code.file);
    }
    const sample = codes[7]!;
    const png = await readFile(join(out, sample.file as string));
    expect(png.readUInt32BE(16)).toBe(430); // IHDR width: the default --size
    expect(decodeQrImage(png)).toBe(sample.url);
  });

  it("creates temporary codes by scene prefix as SVG, with --json", async () => {
    const out = join(dir, "temporary");
    const result = await runCli(
      [
        "qr",
        "batch",
        "--temporary",
        "--expire",
        "1h",
        "--count",
        "20",
        "--scene-prefix",
        "poster-",
        "--format",
        "svg",
        "--size",
        "300",
        "--concurrency",
        "4",
        "--out-dir",
        out,
        "--json",
      ],
      env,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      type: "temporary",
      scenes: "poster-01..poster-20",
      count: 20,
      created: 20,
      failed: 0,
      notStarted: 0,
      stoppedBy: null,
      errorsFile: null,
    });
    expect(summary.codesPerSecond).toEqual(expect.any(Number));

    const codes = await ndjson(join(out, "codes.ndjson"));
    expect(codes).toHaveLength(20);
    expect(new Set(codes.map((c) => c.url)).size).toBe(20);
    expect(new Set(codes.map((c) => c.ticket)).size).toBe(20);
    expect(codes.map((c) => c.scene).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `poster-${String(i + 1).padStart(2, "0")}`));
    for (const code of codes) {
      expect(code).toMatchObject({ type: "temporary", file: `${String(code.scene)}.svg` });
      expect(Date.parse(code.expiresAt as string) - Date.now()).toBeGreaterThan(3_500_000);
    }

    const svgs = (await readdir(out)).filter((f) => f.endsWith(".svg"));
    expect(svgs).toHaveLength(20);
    expect((await readdir(out)).filter((f) => !f.endsWith(".svg"))).toEqual(["batch.json", "codes.ndjson"]);
    for (const code of codes) {
      const svg = await readFile(join(out, code.file as string), "utf8");
      expect(svg).toContain('width="300" height="300"');
      expect(decodeQrImage(svgToPng(svg))).toBe(code.url);
    }
  });

  it("refuses a range past the permanent limit before any API call, naming --scene-start", async () => {
    const before = await counters();
    const out = join(dir, "refused");
    const result = await runCli(["qr", "batch", "--permanent", "--scene-start", "99990", "--count", "20", "--out-dir", out], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^wxqr: --scene-start: 20 permanent codes from 99990 would end at scene 100009[^\n]*\n$/);
    // Bad input comes before missing configuration, as with `qr create`.
    const noConfig = await runCli(["qr", "batch", "--permanent", "--scene-start", "99990", "--count", "20", "--out-dir", out]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toMatch(/^wxqr: --scene-start: /);
    expect(await counters()).toEqual(before);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it.each([
    [["--temporary", "--count", "3", "--scene-prefix", "a/b"], /^wxqr: --scene-prefix: /],
    [["--temporary", "--count", "100", "--scene-prefix", "x".repeat(62)], /^wxqr: --scene-prefix: .*65 characters/],
    [["--temporary", "--count", "3"], /^wxqr: --scene-start\/--scene-prefix: /],
    [["--count", "3", "--scene-start", "1"], /^wxqr: --temporary\/--permanent: /],
    [["--permanent", "--expire", "1h", "--count", "3", "--scene-start", "1"], /^wxqr: --expire: /],
    [["--temporary", "--count", "3", "--scene-start", "1", "--format", "gif"], /^wxqr: --format: /],
    [["--temporary", "--count", "3", "--scene-start", "1", "--concurrency", "0"], /^wxqr: --concurrency: /],
  ])("%j exits 2 with one line", async (args, pattern) => {
    const result = await runCli(["qr", "batch", ...args, "--out-dir", join(dir, "never")], env);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  });

  it("names missing credentials before any call", async () => {
    const result = await runCli(["qr", "batch", "--temporary", "--count", "3", "--scene-start", "1", "--out-dir", join(dir, "never")], {
      WECHAT_API_BASE: url,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^wxqr: configuration: WECHAT_APP_ID .*WECHAT_APP_SECRET/);
  });

  it("on Ctrl-C finishes the codes in flight, writes them down and the summary, and exits 130", async () => {
    const out = join(dir, "interrupted");
    const child = spawn(process.execPath, [BIN, "qr", "batch", "--temporary", "--count", "10000", "--scene-start", "1", "--format", "png", "--out-dir", out], {
      env: cleanEnv(env),
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Interrupt once the first 10 % is reported: mid-batch, with codes in flight.
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("\n")) resolve();
      });
    });
    child.kill("SIGINT");
    expect(await exited).toBe(130);

    const summary = /^(\d+) created, 0 failed, in [\d.]+ s \([\d.]+ codes\/s\); (\d+) not started\n$/.exec(stdout);
    expect(summary, stdout).not.toBeNull();
    const created = Number(summary![1]);
    expect(created + Number(summary![2])).toBe(10_000);
    expect(created).toBeGreaterThanOrEqual(1_000);
    expect(stderr.trimEnd().split("\n").at(-1)).toBe(`wxqr: stopped by SIGINT: ${summary![2]} of 10000 codes not started`);
    // Every code created is in the log with its image: none was left half done.
    const codes = await ndjson(join(out, "codes.ndjson"));
    expect(codes).toHaveLength(created);
    expect((await readdir(out)).filter((f) => f.endsWith(".png"))).toHaveLength(created);
  });
});
