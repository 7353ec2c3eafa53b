/**
 * Issue #8 item 7 through the built binary: the emulator's control API is not exposed beyond
 * loopback unless a flag says so (`wxqr emulator`, `wxqr dev`), and `wxqr serve` keeps /metrics and
 * /docs behind a token. No test here listens on anything but 127.0.0.1.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneLine, runCli, startCli } from "../helpers/cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-listen-safety-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the emulator's control API stays on loopback", () => {
  it.each(["0.0.0.0", "::"])("wxqr emulator --host %s refuses to start: exit 2, one line naming --unsafe-expose-control-api", async (host) => {
    const result = await runCli(["emulator", "--port", "0", "--host", host]);
    expect(result.code).toBe(2);
    const line = oneLine(result.stderr);
    expect(line).toMatch(/^wxqr: --host: /);
    expect(line).toContain("--unsafe-expose-control-api");
    expect(result.stdout).toBe("");
  });

  it("wxqr dev --host 0.0.0.0 refuses too, before creating its database", async () => {
    const db = join(dir, "dev.db");
    const result = await runCli(["dev", "--port", "0", "--emulator-port", "0", "--host", "0.0.0.0", "--db", db]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain("--unsafe-expose-control-api");
    expect(existsSync(db)).toBe(false);
  });

  it("with --unsafe-expose-control-api the emulator starts (here on loopback)", async () => {
    const emulator = await startCli(["emulator", "--port", "0", "--host", "127.0.0.1", "--unsafe-expose-control-api"], /listening on (http:\/\/\S+)/);
    try {
      const counters = await fetch(`${emulator.match[1]}/emulator/counters`);
      expect(counters.status).toBe(200);
    } finally {
      expect(await emulator.stop("SIGINT")).toBe(0);
    }
  });
});

describe("wxqr serve: /metrics and /docs need a token", () => {
  it("401 without one, 200 with the admin token, /metrics 200 with WXQR_METRICS_TOKEN", async () => {
    const admin = "admin-token-listen-safety-012345";
    const scraper = "metrics-token-listen-safety-0123";
    const serve = await startCli(["serve"], /wxqr serving on (http:\/\/\S+) /, {
      WECHAT_APP_ID: "wxe2e0000000000008",
      WECHAT_APP_SECRET: "e2e-secret-listen-0123456789",
      WECHAT_TOKEN: "listenToken2026",
      WXQR_DATABASE: `sqlite:${join(dir, "serve.db")}`,
      WXQR_ADMIN_TOKEN: admin,
      WXQR_METRICS_TOKEN: scraper,
      WXQR_PORT: "0",
    });
    try {
      const url = serve.match[1]!;
      const status = async (path: string, token?: string): Promise<number> => {
        const res = await fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        await res.arrayBuffer();
        return res.status;
      };
      expect(await status("/metrics")).toBe(401);
      expect(await status("/docs")).toBe(401);
      expect(await status("/metrics", admin)).toBe(200);
      expect(await status("/docs", admin)).toBe(200);
      expect(await status("/metrics", scraper)).toBe(200);
      expect(await status("/docs", scraper)).toBe(401);
      expect(await status("/healthz")).toBe(200);
    } finally {
      expect(await serve.stop("SIGINT")).toBe(0);
    }
  });
});
