/**
 * `wxqr dev` (the built binary, on loopback, its database in `dir`) for the browser suites, and
 * the dashboard's sign-in as a newcomer does it.
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { launchBrowser } from "./browser.ts";
import { startCli, type LongRunning } from "./cli.ts";

export interface DevForBrowser {
  process: LongRunning;
  dashboard: string;
  phone: string;
  token: string;
}

async function startDevForBrowser(dir: string): Promise<DevForBrowser> {
  const started = await startCli(
    ["dev", "--port", "0", "--emulator-port", "0", "--db", join(dir, "dev.db")],
    /admin token: (\S+)[\s\S]*phone: +(http:\/\/\S+?)\//,
    {},
  );
  const dashboard = /dashboard: +(http:\/\/\S+?)\/\s/.exec(started.output)?.[1];
  if (!dashboard) throw new Error(`no dashboard URL in:\n${started.output}`);
  return { process: started, dashboard, phone: started.match[2]!, token: started.match[1]! };
}

async function stopDevForBrowser(dev: DevForBrowser | undefined): Promise<void> {
  if (dev && dev.process.child.exitCode === null) await dev.process.stop("SIGINT");
}

export interface DevWithBrowser {
  readonly dev: DevForBrowser;
  readonly browser: Browser;
}

/**
 * `wxqr dev` in a fresh folder and a Chromium, for the suite whose `describe` calls this: started
 * before its tests, closed after them. vitest runs `afterAll` hooks in reverse order, so the
 * suite's own later hooks (a context, a page) close before the browser does.
 */
export function devWithBrowser(folderPrefix: string, timeoutMs: number): DevWithBrowser {
  let dir: string | undefined;
  let dev: DevForBrowser | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), folderPrefix));
    dev = await startDevForBrowser(dir);
    browser = await launchBrowser();
  }, timeoutMs);
  afterAll(async () => {
    await browser?.close();
    await stopDevForBrowser(dev);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dev() {
      if (!dev) throw new Error("wxqr dev is not started: read it inside a hook or a test");
      return dev;
    },
    get browser() {
      if (!browser) throw new Error("Chromium is not launched: read it inside a hook or a test");
      return browser;
    },
  };
}

export async function signIn(page: Page, dev: DevForBrowser): Promise<void> {
  await page.goto(`${dev.dashboard}/`);
  await page.getByLabel("管理令牌").fill(dev.token);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect.poll(() => page.getByRole("navigation").count(), { timeout: 10_000 }).toBeGreaterThan(0);
}
