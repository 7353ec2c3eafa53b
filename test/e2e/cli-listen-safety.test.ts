/**
 * Issue #8 item 7 through the built binary: the emulator's control API is not exposed beyond
 * loopback unless a flag says so (`wxqr emulator`, `wxqr dev`). No test here listens on anything
 * but 127.0.0.1.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-listen-safety-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

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
