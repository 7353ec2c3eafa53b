/**
 * `wxqr channels …` (issue #13), run as the built binary against `wxqr emulator` and a SQLite file:
 * groups created, channels created into them, listed by group as a table and as JSON, moved,
 * ungrouped and archived; a group that does not exist is one line on stderr and exit code 2.
 * Temporary channels: created with `--temporary DAYS [--renew]`, switched with `--permanent`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli, type LongRunning } from "../helpers/cli.ts";

const APP_ID = "wxe2e0000000000013";
const APP_SECRET = "e2e-secret-channels-0123456789";

let emulator: LongRunning & { match: RegExpMatchArray };
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-channels-"));
  emulator = await startCli(["emulator", "--port", "0", "--app-id", APP_ID, "--app-secret", APP_SECRET], /listening on (http:\/\/\S+)/);
  const url = emulator.match[1]!;
  env = { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: APP_SECRET, WECHAT_API_BASE: url, WECHAT_MP_BASE: url, WXQR_DATABASE: `sqlite:${join(dir, "wxqr.db")}` };
});

afterAll(async () => {
  expect(await emulator?.stop("SIGINT")).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const result = await runCli(args, env);
  expect([args, result.stderr, result.code]).toEqual([args, "", 0]);
  return result.stdout;
}

const jsonLines = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .trimEnd()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("wxqr channels", () => {
  it("creates channels into groups, lists them by group, moves, ungroups and archives them", async () => {
    const north = jsonLines(await ok(["channels", "groups", "create", "north", "--json"]))[0]!;
    expect(north).toEqual({ id: expect.stringMatching(/^cg_/), name: "north", createdAt: expect.any(String) });
    expect(await ok(["channels", "groups", "create", "south"])).toMatch(/^created group cg_\S+ "south"\n$/);

    const a = jsonLines(await ok(["channels", "create", "poster A", "--group", "north", "--welcome", "hello", "--json"]))[0]!;
    expect(a).toMatchObject({ name: "poster A", welcome: "hello", groupId: north.id, group: "north", archived: false, url: expect.stringContaining("http") });
    const b = jsonLines(await ok(["channels", "create", "poster B", "--group", String(north.id), "--json"]))[0]!;
    expect(b.groupId).toBe(north.id);
    expect(await ok(["channels", "create", "poster C"])).toMatch(/^created channel ch_\S+ "poster C"\n/);

    const byGroup = jsonLines(await ok(["channels", "list", "--group", "north", "--json"]));
    expect(byGroup.map((c) => c.name)).toEqual(["poster A", "poster B"]);
    expect(jsonLines(await ok(["channels", "list", "--group", "none", "--json"])).map((c) => c.name)).toEqual(["poster C"]);
    const table = (await ok(["channels", "list", "--group", "north"])).trimEnd().split("\n");
    expect(table[0]).toMatch(/^ID\s+NAME\s+GROUP\s+TODAY\s+TOTAL\s+CODE\s+EXPIRES\s+URL$/);
    expect(table.slice(1).map((l) => l.split(/\s{2,}/).slice(1, 5))).toEqual([
      ["poster A", "north", "0", "0"],
      ["poster B", "north", "0", "0"],
    ]);

    const moved = jsonLines(await ok(["channels", "update", String(b.id), "--group", "south", "--name", "poster B2", "--json"]))[0]!;
    expect(moved).toMatchObject({ id: b.id, name: "poster B2", group: "south" });
    expect(jsonLines(await ok(["channels", "update", String(a.id), "--group", "none", "--welcome", "", "--json"]))[0]).toMatchObject({
      groupId: null,
      welcome: null,
    });
    expect(jsonLines(await ok(["channels", "archive", String(a.id), "--json"]))[0]).toMatchObject({ id: a.id, archived: true });
    expect(jsonLines(await ok(["channels", "list", "--json"])).map((c) => c.name)).toEqual(["poster B2", "poster C"]);
    expect(jsonLines(await ok(["channels", "list", "--archived", "--json"])).map((c) => c.name)).toEqual(["poster A"]);

    expect(jsonLines(await ok(["channels", "groups", "list", "--json"])).map((g) => [g.name, g.channels])).toEqual([
      ["north", 0],
      ["south", 1],
    ]);
    const south = jsonLines(await ok(["channels", "groups", "list", "--json"]))[1]!;
    expect(await ok(["channels", "groups", "rename", String(south.id), "west"])).toContain('"west"');
    await ok(["channels", "groups", "delete", String(south.id)]);
    expect(jsonLines(await ok(["channels", "list", "--group", "none", "--json"])).map((c) => c.name)).toEqual(["poster B2", "poster C"]);
  });

  it("names the problem in one line: an unknown group is a usage error (2), an unknown channel a failure (1), a taken name a conflict", async () => {
    const unknownGroup = await runCli(["channels", "list", "--group", "nowhere"], env);
    expect([unknownGroup.code, unknownGroup.stdout]).toEqual([2, ""]);
    expect(unknownGroup.stderr).toMatch(/^wxqr: --group: .*"nowhere"\n$/);

    const unknownChannel = await runCli(["channels", "archive", "ch_nothing"], env);
    expect(unknownChannel.code).toBe(1);
    expect(unknownChannel.stderr).toMatch(/\[NOT_FOUND\]\n$/);

    await ok(["channels", "groups", "create", "east"]);
    const taken = await runCli(["channels", "groups", "create", "east"], env);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/\[NAME_CONFLICT\]\n$/);

    const nothing = await runCli(["channels", "update", "ch_x"], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("creates a temporary channel with --temporary DAYS --renew, lists its code and expiry, changes it with --no-renew and --permanent", async () => {
    const created = jsonLines(await ok(["channels", "create", "live stream", "--temporary", "3", "--renew", "--json"]))[0]!;
    expect(created).toMatchObject({
      name: "live stream",
      code: { type: "temporary", days: 3, renew: true, expiresAt: expect.any(String) },
      imageLink: expect.stringMatching(/^\/c\/[A-Za-z0-9_-]{22}\.png$/),
    });
    const expiresAt = Date.parse((created.code as { expiresAt: string }).expiresAt);
    expect(Math.abs(expiresAt - Date.now() - 3 * 86_400_000)).toBeLessThan(600_000);

    const listed = jsonLines(await ok(["channels", "list", "--json"])).find((c) => c.id === created.id)!;
    expect(listed.code).toEqual(created.code);
    const row = (await ok(["channels", "list"])).split("\n").find((l) => l.startsWith(String(created.id)))!;
    expect(row.split(/\s{2,}/).slice(5, 7)).toEqual(["temporary 3d renew", (created.code as { expiresAt: string }).expiresAt]);

    const noRenew = jsonLines(await ok(["channels", "update", String(created.id), "--temporary", "7", "--no-renew", "--json"]))[0]!;
    expect(noRenew.code).toEqual({ type: "temporary", days: 7, renew: false, expiresAt: (created.code as { expiresAt: string }).expiresAt });
    const permanent = jsonLines(await ok(["channels", "update", String(created.id), "--permanent", "--json"]))[0]!;
    expect(permanent).toMatchObject({ code: { type: "permanent" }, imageLink: created.imageLink });
    expect(permanent.url).not.toBe(created.url);

    const bad = await runCli(["channels", "create", "too long", "--temporary", "31"], env);
    expect([bad.code, bad.stdout]).toEqual([2, ""]);
    expect(bad.stderr).toMatch(/^wxqr: --temporary: must be a whole number from 1 to 30\n$/);
  });
});
