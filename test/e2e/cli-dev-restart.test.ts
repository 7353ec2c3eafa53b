/**
 * `wxqr dev` continues after a restart (issue 10): the built binary on a database in a temporary
 * folder, stopped with Ctrl-C and started again; `--fresh`; a port already taken; a broken state
 * file. Both processes use the system clock.
 */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneLine, runCli, startCli, type LongRunning } from "../helpers/cli.ts";

const WELCOME = "欢迎来到海报 A";
const READY = /admin token: (\S+)/;

let dir: string;
let db: string;
const running: LongRunning[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-dev-restart-"));
  db = join(dir, "dev.db");
});

afterAll(async () => {
  for (const dev of running) if (dev.child.exitCode === null) await dev.stop("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

interface Dev {
  process: LongRunning;
  adminToken: string;
  serviceUrl: string;
  emulatorUrl: string;
  /** The `export …` line's variables. */
  exported: Record<string, string>;
}

async function startDev(extra: string[] = []): Promise<Dev> {
  const dev = await startCli(["dev", "--db", db, "--port", "0", "--emulator-port", "0", ...extra], READY);
  running.push(dev);
  const serviceUrl = /service: +(http:\/\/\S+)/.exec(dev.output)?.[1];
  const emulatorUrl = /emulator: +(http:\/\/\S+)/.exec(dev.output)?.[1];
  const exportLine = /^ {2}export (.+)$/m.exec(dev.output)?.[1];
  if (serviceUrl === undefined || emulatorUrl === undefined || exportLine === undefined) throw new Error(`unexpected banner:\n${dev.output}`);
  const exported = Object.fromEntries(exportLine.split(" ").map((pair) => pair.split("=", 2) as [string, string]));
  return { process: dev, adminToken: dev.match[1]!, serviceUrl, emulatorUrl, exported };
}

async function api(dev: Dev, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${dev.serviceUrl}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${dev.adminToken}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe("wxqr dev across restarts", () => {
  let ticket: string;
  let channelId: string;
  let firstToken: string;

  it("prints the dashboard URL, the admin token on its own line and an export line that points the other commands at it", async () => {
    const dev = await startDev();
    firstToken = dev.adminToken;
    expect(dev.process.output).toMatch(new RegExp(`^ +dashboard: +${dev.serviceUrl}/$`, "m"));
    expect(dev.process.output).toMatch(new RegExp(`^ +admin token: ${dev.adminToken}$`, "m"));
    expect(dev.process.output).toMatch(new RegExp(`^ +phone: +${dev.emulatorUrl}/ `, "m"));
    expect(dev.exported).toEqual({
      WECHAT_APP_ID: expect.stringMatching(/^wx/),
      WECHAT_APP_SECRET: expect.stringMatching(/^[A-Za-z0-9]{32}$/),
      WECHAT_API_BASE: dev.emulatorUrl,
      WECHAT_MP_BASE: dev.emulatorUrl,
      WXQR_EMULATOR_URL: dev.emulatorUrl,
      WXQR_DATABASE: `sqlite:${db}`,
    });

    const created = await api(dev, "/api/channels", { method: "POST", body: { name: "poster A", welcome: WELCOME } });
    expect(created.status).toBe(201);
    ({
      id: channelId,
      qrcode: { ticket },
    } = created.body as { id: string; qrcode: { ticket: string } });
    // With nothing but the exported variables, `wxqr scan` finds the emulator.
    const scanned = await runCli(["scan", "--openid", "u1", "--ticket", ticket, "--json"], dev.exported);
    expect(scanned.code).toBe(0);
    expect(JSON.parse(scanned.stdout)).toMatchObject({ event: "subscribe", delivery: { outcome: "delivered", userSaw: WELCOME } });

    expect(await dev.process.stop("SIGINT")).toBe(0);
    for (const file of [`${db}.dev.json`, `${db}.emulator.json`]) expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("starts again where it stopped: the same admin token, the old code scans and counts, the follower still follows", async () => {
    const dev = await startDev();
    expect(dev.adminToken).toBe(firstToken);
    expect(dev.process.output).toMatch(/continued: \d+ codes, 1 followers/);

    const newcomer = await runCli(["scan", "--openid", "u2", "--ticket", ticket, "--emulator", dev.emulatorUrl, "--json"]);
    expect(newcomer.code).toBe(0);
    expect(JSON.parse(newcomer.stdout)).toMatchObject({ event: "subscribe", delivery: { outcome: "delivered", userSaw: WELCOME } });
    // u1 followed in the first run: their scan is a SCAN, not a new subscribe.
    const returning = await runCli(["scan", "--openid", "u1", "--ticket", ticket, "--emulator", dev.emulatorUrl, "--json"]);
    expect(JSON.parse(returning.stdout)).toMatchObject({ event: "SCAN", delivery: { outcome: "delivered" } });

    const stats = await api(dev, `/api/channels/${channelId}/stats`);
    expect(stats.status).toBe(200);
    // As in a single run, a follower scanning again counts as returning.
    expect(stats.body).toMatchObject({ scans: 3, uniqueScanners: 2, newFollowers: 2, returningFollowers: 1, unfollows: 0 });
    expect(await dev.process.stop("SIGINT")).toBe(0);
  });

  it("--fresh starts over: the database and both state files go, a new admin token, the old code is unknown", async () => {
    const dev = await startDev(["--fresh"]);
    expect(dev.process.output).toContain(`starting over: removed ${db}`);
    expect(dev.process.output).toMatch(/\(new; --fresh starts over\)/);
    expect(dev.adminToken).not.toBe(firstToken);
    expect((await api(dev, "/api/channels")).body).toMatchObject({ channels: [] });
    const old = await runCli(["scan", "--openid", "u3", "--ticket", ticket, "--emulator", dev.emulatorUrl, "--json"]);
    expect(old.code).toBe(1);
    expect(JSON.parse(old.stdout)).toMatchObject({ pushed: false, reason: "unknown_code" });
    expect(await dev.process.stop("SIGINT")).toBe(0);
  });
});

describe("wxqr dev refusals", () => {
  let blocker: Server;
  let takenPort: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    takenPort = (blocker.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  it.each([
    ["--port", ["--port", "TAKEN", "--emulator-port", "0"]],
    ["--emulator-port", ["--port", "0", "--emulator-port", "TAKEN"]],
  ])("a port already taken: one line naming %s, exit 2", async (flag, args) => {
    const other = join(dir, `taken${flag}.db`);
    const result = await runCli(["dev", "--db", other, ...args.map((a) => (a === "TAKEN" ? String(takenPort) : a))]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(new RegExp(`^wxqr: ${flag}: 127\\.0\\.0\\.1:${takenPort} is already in use.* ${flag} `));
  });

  it("a state file that is not one: one line naming the file and --fresh, exit 2; --fresh gets past it", async () => {
    const broken = join(dir, "broken.db");
    await writeFile(`${broken}.emulator.json`, "{ half a file");
    const result = await runCli(["dev", "--db", broken, "--port", "0", "--emulator-port", "0"]);
    expect(result.code).toBe(2);
    const line = oneLine(result.stderr);
    expect(line).toContain(`${broken}.emulator.json`);
    expect(line).toContain("--fresh");

    const fresh = await startCli(["dev", "--db", broken, "--port", "0", "--emulator-port", "0", "--fresh"], READY);
    running.push(fresh);
    expect(await fresh.stop("SIGINT")).toBe(0);
    expect(existsSync(`${broken}.emulator.json`)).toBe(true);
  });
});
