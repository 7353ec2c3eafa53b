/**
 * `wxqr followers import`, run as the built binary against `wxqr emulator` (both on the system
 * clock): the emulator's followers are read page by page from `/cgi-bin/user/get` into a SQLite file.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli, type LongRunning } from "../helpers/cli.ts";

const APP_ID = "wxe2e0000000000005";
const APP_SECRET = "e2e-secret-followers-0123456789";

let emulator: LongRunning & { match: RegExpMatchArray };
let url: string;
let dir: string;

async function control(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-followers-"));
  emulator = await startCli(["emulator", "--port", "0", "--app-id", APP_ID, "--app-secret", APP_SECRET], /listening on (http:\/\/\S+)/);
  url = emulator.match[1]!;
});

afterAll(async () => {
  expect(await emulator?.stop("SIGINT")).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

describe("wxqr followers import", () => {
  it("records the account's followers page by page, and finds them known the second time", async () => {
    await control("POST", "/emulator/followers", { openIds: ["o1", "o2", "o3", "o4", "o5"] });
    await control("PUT", "/emulator/user-list", { pageSize: 2 });
    const env = {
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_API_BASE: url,
      WECHAT_MP_BASE: url,
      WXQR_DATABASE: `sqlite:${join(dir, "wxqr.db")}`,
    };

    const first = await runCli(["followers", "import", "--json"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ imported: 5, alreadyKnown: 0, total: 5, pages: 4, importedAt: expect.any(String), newMeans: "new-to-account" });

    const second = await runCli(["followers", "import"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^imported 0 followers \(5 already known; the platform lists 5\) in 4 pages\n/);
    expect(await control("GET", "/emulator/user-list")).toEqual({ pageSize: 2, calls: 8 });
  });

  it("needs the app secret: one line naming it", async () => {
    const result = await runCli(["followers", "import"], { WECHAT_APP_ID: APP_ID, WXQR_DATABASE: `sqlite:${join(dir, "none.db")}` });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("WECHAT_APP_SECRET");
  });
});
