/**
 * The emulator serves its phone page at `/` from the built folder (here a stand-in folder, so
 * the test does not depend on a web build), with a helpful answer when it is not built, and the
 * platform and control routes unchanged.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Harness } from "../helpers/emulator-harness.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-phone-page-"));
  await mkdir(join(dir, "built", "assets"), { recursive: true });
  await writeFile(join(dir, "built", "index.html"), '<!doctype html><title>phone</title><script type="module" src="./assets/main-abc123.js"></script>');
  await writeFile(join(dir, "built", "assets", "main-abc123.js"), "console.log('phone');");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("emulator phone page", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEmulator({ phonePageDir: join(dir, "built") });
  });
  afterAll(async () => {
    await h.close();
  });

  it("serves index.html at / with no-cache and a policy that keeps it to its own origin", async () => {
    const res = await h.get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain("<title>phone</title>");
  });

  it("serves the hashed assets as immutable", async () => {
    const res = await h.get("/assets/main-abc123.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("leaves the platform and control routes as they were, and an unknown path is still a plain 404", async () => {
    expect((await h.getJson("/emulator/users"))["users"]).toEqual([]);
    expect((await h.getJson("/cgi-bin/token?grant_type=client_credential&appid=x&secret=y"))["errcode"]).toBe(40013);
    const missing = await h.get("/no/such/file.js");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("Not Found");
  });
});

describe("emulator phone page, not built", () => {
  it("answers / with 404 and how to build it; the rest works", async () => {
    const h = await startEmulator({ phonePageDir: join(dir, "missing") });
    try {
      const res = await h.get("/");
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("npm run build");
      expect((await h.getJson("/emulator/qrcodes"))["qrcodes"]).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
