import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { cleanEnv, ROOT, runCli, startCli, type LongRunning } from "../helpers/cli.ts";

const APP_ID = "wxe2e0000000000001";
const APP_SECRET = "e2e-secret-0123456789abcdef";

let emulator: LongRunning & { match: RegExpMatchArray };
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-cli-"));
  emulator = await startCli(["emulator", "--port", "0", "--app-id", APP_ID, "--app-secret", APP_SECRET], /listening on (http:\/\/\S+)/);
  const url = emulator.match[1]!;
  env = { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: APP_SECRET, WECHAT_API_BASE: url, WECHAT_MP_BASE: url };
});

afterAll(async () => {
  const code = await emulator?.stop("SIGINT");
  expect(code).toBe(0);
  expect(emulator.output).toContain("emulator stopped");
  await rm(dir, { recursive: true, force: true });
});

describe("wxqr CLI against `wxqr emulator`", () => {
  it("never prints an app secret it was given, only one it generated", async () => {
    expect(emulator.output).not.toContain(APP_SECRET);
    expect(emulator.output).toContain("app secret: (from --app-secret/WECHAT_APP_SECRET)");

    const fromEnv = await startCli(["emulator", "--port", "0"], /listening on (http:\/\/\S+)/, { WECHAT_APP_SECRET: APP_SECRET });
    expect(await fromEnv.stop("SIGINT")).toBe(0);
    expect(fromEnv.output).not.toContain(APP_SECRET);

    const generated = await startCli(["emulator", "--port", "0"], /app secret: +([0-9a-f]{32})\n/);
    expect(await generated.stop("SIGINT")).toBe(0);
    expect(generated.output).toContain(`WECHAT_APP_SECRET=${generated.match[1]!} `);
  });

  it("creates a temporary code and writes its image from the ticket", async () => {
    const created = await runCli(["qr", "create", "--temporary", "--scene-id", "123", "--expire", "1h", "--json"], env);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const code = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(code).toMatchObject({ type: "temporary", sceneId: 123, expireSeconds: 3600 });
    expect(code.ticket).toEqual(expect.any(String));
    expect(code.url).toMatch(/^http:\/\/weixin\.qq\.com\/q\//);
    expect(Date.parse(code.expiresAt as string)).toBeGreaterThan(0);

    const out = join(dir, "x.png");
    const image = await runCli(["qr", "image", code.ticket as string, "--out", out], env);
    expect(image.code).toBe(0);
    expect(decodeQrImage(await readFile(out))).toBe(code.url);

    const jpg = join(dir, "x.jpg");
    expect((await runCli(["qr", "image", code.ticket as string, "--out", jpg], env)).code).toBe(0);
    expect(decodeQrImage(await readFile(jpg))).toBe(code.url);
  });

  it("renders a url locally as PNG and SVG at the asked size", async () => {
    const url = "http://weixin.qq.com/q/02localRenderCheck0000";
    const png = join(dir, "local.png");
    const result = await runCli(["qr", "image", url, "--out", png, "--size", "300"], env);
    expect(result.code).toBe(0);
    const bytes = await readFile(png);
    expect(bytes.readUInt32BE(16)).toBe(300); // IHDR width
    expect(decodeQrImage(bytes)).toBe(url);
    const svg = join(dir, "local.svg");
    expect((await runCli(["qr", "image", url, "--out", svg], env)).code).toBe(0);
    expect(await readFile(svg, "utf8")).toMatch(/^<svg [^>]*viewBox=/);
  });

  it("creates a permanent string-scene code with a human-readable summary", async () => {
    const result = await runCli(["qr", "create", "--permanent", "--scene-str", "shop-12"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('permanent code, scene "shop-12"');
    expect(result.stdout).toMatch(/url: +http:\/\/weixin\.qq\.com\/q\//);
  });

  it.each([
    [["qr", "create", "--temporary", "--scene-id", "0", "--expire", "1h"], /--scene-id/],
    [["qr", "create", "--permanent", "--scene-id", "100001"], /--scene-id/],
    [["qr", "create", "--temporary", "--scene-id", "abc"], /--scene-id/],
    [["qr", "create", "--temporary", "--scene-str", "x".repeat(65)], /--scene-str/],
    [["qr", "create", "--temporary", "--scene-id", "5", "--expire", "30s"], /--expire/],
    [["qr", "create", "--scene-id", "5"], /--temporary\/--permanent/],
    [["qr", "create", "--permanent"], /--scene-id\/--scene-str/],
    [["qr", "image", "http://weixin.qq.com/q/x", "--out", "x.gif"], /--out/],
    [["qr", "image", "http://weixin.qq.com/q/x", "--out", "x.png", "--size", "5"], /--size/],
    [["qr", "image", "gQnotaticket==", "--out", "x.png"], /TICKET_NOT_FOUND/],
  ])("%j fails with one line and a non-zero exit", async (args, pattern) => {
    const result = await runCli(args, env, dir);
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("names the missing credentials", async () => {
    const result = await runCli(["qr", "create", "--permanent", "--scene-id", "1"], { WECHAT_API_BASE: env.WECHAT_API_BASE! });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/WECHAT_APP_ID.*WECHAT_APP_SECRET/);
    // Bad input is named before missing configuration.
    const bad = await runCli(["qr", "create", "--permanent", "--scene-id", "0"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^wxqr: --scene-id: /);
  });

  it("reports a wrong secret as one line without echoing it", async () => {
    const result = await runCli(["qr", "create", "--permanent", "--scene-id", "1"], { ...env, WECHAT_APP_SECRET: "wrong-secret-value" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/40125/);
    expect(result.stderr).not.toContain("wrong-secret-value");
  });

  it("rejects an unknown WXQR_ variable", async () => {
    const result = await runCli(["qr", "create", "--permanent", "--scene-id", "1"], { ...env, WXQR_PROT: "1" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/WXQR_PROT/);
  });
});

describe("the package", () => {
  it('can be imported as "wxqr" from the project root', async () => {
    const script = `import { createWeChatClient, renderPng, createEmulator, createPushReceiver, registerPushRoute, ValidationError } from "wxqr";
      const png = renderPng("http://weixin.qq.com/q/pkg");
      const receiver = createPushReceiver({ token: "pamtest", appId: "wxb11529c136998cb6" });
      console.log(typeof createWeChatClient, typeof createEmulator, typeof receiver.open, typeof registerPushRoute, png.subarray(1, 4).toString(), new ValidationError("f", "m").code);`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, env: cleanEnv() }, (error, out, err) =>
        error ? reject(new Error(err)) : resolve(out),
      ),
    );
    expect(stdout.trim()).toBe("function function function function PNG VALIDATION_FAILED");
  });
});
