/**
 * `wxqr dev` (the built binary, on loopback, its database in `dir`) for the browser suites, and
 * the dashboard's sign-in as a newcomer does it.
 * @module
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { startCli, type LongRunning } from "./cli.ts";

export interface DevForBrowser {
  process: LongRunning;
  dashboard: string;
  phone: string;
  token: string;
}

export async function startDevForBrowser(dir: string): Promise<DevForBrowser> {
  const started = await startCli(
    ["dev", "--port", "0", "--emulator-port", "0", "--db", join(dir, "dev.db")],
    /admin token: (\S+)[\s\S]*phone: +(http:\/\/\S+?)\//,
    {},
  );
  const dashboard = /dashboard: +(http:\/\/\S+?)\/\s/.exec(started.output)?.[1];
  if (!dashboard) throw new Error(`no dashboard URL in:\n${started.output}`);
  return { process: started, dashboard, phone: started.match[2]!, token: started.match[1]! };
}

export async function stopDevForBrowser(dev: DevForBrowser | undefined): Promise<void> {
  if (dev && dev.process.child.exitCode === null) await dev.process.stop("SIGINT");
}

export async function signIn(page: Page, dev: DevForBrowser): Promise<void> {
  await page.goto(`${dev.dashboard}/`);
  await page.getByLabel("管理令牌").fill(dev.token);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect.poll(() => page.getByRole("navigation").count(), { timeout: 10_000 }).toBeGreaterThan(0);
}
