/**
 * The service commands run as the built binary: `wxqr dev` (emulator + service on one SQLite
 * file), `wxqr scan` against it, `wxqr serve`'s configuration check, `wxqr migrate` and
 * `wxqr stats` on the file `wxqr dev` left behind. Both processes use the system clock.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { oneLine, runCli, startCli, type LongRunning } from "../helpers/cli.ts";

const APP_ID = "wxe2e0000000000003";
const WELCOME = "Welcome to poster A!";
const FOLLOW_UP = "Here is your coupon.";

let dir: string;
let devDb: string;
let dev: (LongRunning & { match: RegExpMatchArray }) | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-cli-service-"));
  devDb = join(dir, "dev.db");
});

afterAll(async () => {
  if (dev && dev.child.exitCode === null) await dev.stop("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

describe("wxqr dev", () => {
  it("runs the emulator and the service together: a channel, a scan by `wxqr scan`, its statistics; Ctrl-C stops it", async () => {
    dev = await startCli(["dev", "--port", "0", "--emulator-port", "0", "--db", devDb], /admin token: (\S+)/, {
      WECHAT_APP_ID: APP_ID,
      WXQR_SITE_NAME: "Example Shop",
    });
    const adminToken = dev.match[1]!;
    const serviceUrl = /service: +(http:\/\/\S+)/.exec(dev.output)?.[1];
    const emulatorUrl = /emulator: +(http:\/\/\S+)/.exec(dev.output)?.[1];
    expect(serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dev.output).toContain("safe mode");
    const auth = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };

    expect((await fetch(`${serviceUrl}/api/channels`)).status).toBe(401);
    // On loopback, dev opens /docs and /metrics: only this machine's user reaches them.
    expect((await fetch(`${serviceUrl}/docs`)).status).toBe(200);
    expect((await fetch(`${serviceUrl}/metrics`)).status).toBe(200);
    const created = await fetch(`${serviceUrl}/api/channels`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "poster A", welcome: WELCOME, followUp: { text: FOLLOW_UP } }),
    });
    expect(created.status).toBe(201);
    const channel = (await created.json()) as { id: string; qrcode: { ticket: string } };

    const scanned = await runCli(["scan", "--openid", "u1", "--ticket", channel.qrcode.ticket, "--emulator", emulatorUrl!]);
    expect(scanned.stderr).toBe("");
    expect(scanned.code).toBe(0);
    expect(scanned.stdout).toContain("pushed subscribe for u1");
    expect(scanned.stdout).toMatch(/delivery: +delivered to .*\/wechat \(safe mode\) after 1 attempt: #1 HTTP 200/);
    expect(scanned.stdout).toMatch(new RegExp(`user saw: +"${WELCOME}"`));
    // The follow-up dispatcher runs in the background: the user's chat gets the channel's follow-up after the welcome.
    let chat: Array<{ via: string; text?: string }> = [];
    for (let i = 0; i < 100 && chat.length < 2; i++) {
      chat = ((await (await fetch(`${emulatorUrl}/emulator/users/u1/messages`)).json()) as { messages: typeof chat }).messages;
      if (chat.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(chat.map((m) => [m.via, m.text])).toEqual([
      ["passive_reply", WELCOME],
      ["customer_service", FOLLOW_UP],
    ]);

    const again = await runCli(["scan", "--openid", "u1", "--ticket", channel.qrcode.ticket, "--emulator", emulatorUrl!, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ pushed: true, event: "SCAN", delivery: { outcome: "delivered", userSaw: WELCOME } });

    // A login that asks for confirmation names the site from WXQR_SITE_NAME.
    const session = await fetch(`${serviceUrl}/api/scan-sessions`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ purpose: "login", confirm: true }),
    });
    expect(session.status).toBe(201);
    const login = (await session.json()) as { qrcode: { ticket: string } };
    const loginScan = await runCli(["scan", "--openid", "u1", "--ticket", login.qrcode.ticket, "--emulator", emulatorUrl!, "--json"]);
    expect(loginScan.code).toBe(0);
    expect((JSON.parse(loginScan.stdout) as { delivery: { userSaw: string } }).delivery.userSaw).toContain("Example Shop");

    const stats = await fetch(`${serviceUrl}/api/channels/${channel.id}/stats`, { headers: auth });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ scans: 2, uniqueScanners: 1, newFollowers: 1, returningFollowers: 1, unfollows: 0, days: [expect.any(Object)] });

    expect(await dev.stop("SIGINT")).toBe(0);
    expect(dev.output).toMatch(/stopped\n$/);
  });

  it("leaves its statistics in the file: `wxqr stats --json` shows the channel, with no WECHAT_APP_ID needed", async () => {
    expect(existsSync(devDb)).toBe(true);
    const result = await runCli(["stats", "--json"], { WXQR_DATABASE: `sqlite:${devDb}` });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as unknown[];
    expect(rows).toEqual([expect.objectContaining({ name: "poster A", scans: 2, uniqueScanners: 1, newFollowers: 1, returningFollowers: 1, unfollows: 0 })]);
  });
});

describe("wxqr serve, migrate", () => {
  it("refuses to serve without WXQR_ADMIN_TOKEN: one line naming it, exit 2", async () => {
    const db = join(dir, "serve.db");
    const result = await runCli(["serve", "--port", "0"], {
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: "e2e-secret-serve-0123456789",
      WECHAT_TOKEN: "serveToken2026",
      WXQR_DATABASE: `sqlite:${db}`,
    });
    expect(result.code).toBe(2);
    const line = oneLine(result.stderr);
    expect(line).toContain("WXQR_ADMIN_TOKEN");
    expect(line).not.toMatch(/WECHAT_/);
    expect(result.stdout).toBe("");
    expect(existsSync(db)).toBe(false);
  });

  it("migrates a fresh SQLite file once, then says it is up to date", async () => {
    const env = { WXQR_DATABASE: `sqlite:${join(dir, "fresh.db")}` };
    const first = await runCli(["migrate"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe(`applied migrations ${MIGRATIONS.map((m) => m.version).join(", ")}`);
    const second = await runCli(["migrate"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
  });
});
