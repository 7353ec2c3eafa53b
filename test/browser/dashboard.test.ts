/**
 * Issue 10's acceptance in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against `wxqr dev` as a newcomer runs it — the built binary, its dashboard and its emulator's
 * phone page, on loopback:
 * - sign in → create a channel with a welcome → a new user scans it on the phone page → the chat
 *   shows the welcome → the channel's figures and chart change without reload → English → the
 *   downloaded PNG decodes back to the code's url;
 * - the login demo shows a code; the phone page scans it; the demo shows the openId;
 * - signed out, nothing of the admin's shows and /api answers 401; the token is in no URL or
 *   storage; the cookie is HttpOnly and SameSite=Strict; a cross-site form post is refused;
 * - axe-core finds no serious or critical violation on the overview, channel, phone and demo pages;
 * - screenshots for the README (zh and en, 1280 and 390 px).
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { announceBrowser, screenshot, seriousAxeViolations } from "../helpers/browser.ts";
import { signIn as signInAs, devWithBrowser, type DevWithBrowser } from "../helpers/dev-browser.ts";

const WELCOME = "欢迎光临！扫码关注有礼";
const TIMEOUT_MS = 120_000;

let suite: DevWithBrowser;

const signIn = (page: Page): Promise<void> => signInAs(page, suite.dev);

async function newContext(options: { width?: number } = {}): Promise<BrowserContext> {
  // bypassCSP only lets the test inject axe-core; the pages' own policy is tested over HTTP (dashboard-pages.test.ts).
  return suite.browser.newContext({ locale: "zh-CN", viewport: { width: options.width ?? 1280, height: 900 }, acceptDownloads: true, bypassCSP: true });
}

/** On the phone page: a new user, who then scans the code with this url. */
async function scanOnPhone(phone: Page, openId: string, url: string): Promise<void> {
  await phone.goto(`${suite.dev.phone}/`);
  const details = phone.locator("details", { hasText: "新建用户" });
  if (!(await details.evaluate((d) => (d as unknown as { open: boolean }).open))) await details.locator("summary").click();
  await phone.getByLabel("昵称").fill("小王");
  await phone.getByLabel("OpenID").fill(openId);
  await phone.getByRole("button", { name: "创建用户" }).click();
  await phone.getByLabel("二维码链接").fill(url);
  await phone.getByRole("button", { name: "扫描链接" }).click();
}

describe.runIf(announceBrowser("dashboard browser tests"))("the dashboard in Chromium, against wxqr dev", () => {
  suite = devWithBrowser("wxqr-dashboard-browser-", TIMEOUT_MS);

  it(
    "sign in, create a channel, a user scans it on the phone page and sees the welcome; the figures change without reload; English; the PNG decodes to the code",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signIn(page);

      await page.goto(`${suite.dev.dashboard}/channels`);
      await page.getByRole("button", { name: "新建渠道" }).first().click();
      await page.getByLabel("名称").fill("春季海报");
      await page.getByLabel("欢迎语").fill(WELCOME);
      await page.getByRole("button", { name: "创建", exact: true }).click();
      await page.waitForURL(/\/channels\/[^/?]+$/);
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain("春季海报");
      const url = (await page.locator("code").first().textContent())!.trim();
      expect(url).toMatch(/^http/);
      const todayScans = page
        .locator("section", { has: page.locator("#today-title") })
        .locator(".figures")
        .first()
        .locator(".figure", { hasText: "扫码" })
        .first()
        .locator("dd");
      expect((await todayScans.textContent())!.trim()).toBe("0");

      const phone = await (await newContext({ width: 390 })).newPage();
      await scanOnPhone(phone, "oSpring", url);
      await expect.poll(() => phone.getByRole("log").textContent(), { timeout: 5_000 }).toContain(WELCOME);
      await screenshot(phone, "phone-zh");

      // The dashboard learns of the scan from the live feed: no reload.
      const scanned = Date.now();
      await expect.poll(async () => (await todayScans.textContent())!.trim(), { timeout: 2_000, interval: 50 }).toBe("1");
      expect(Date.now() - scanned).toBeLessThan(2_000);
      await page.getByText("以表格查看").first().click();
      await expect.poll(() => page.locator(".chart-table table").first().textContent(), { timeout: 2_000 }).toMatch(/1/);
      await screenshot(page, "channel-zh");

      await page.getByLabel("语言").selectOption({ label: "English" });
      await expect
        .poll(() =>
          page
            .getByRole("button", { name: "Download PNG" })
            .or(page.getByRole("link", { name: "Download PNG" }))
            .count(),
        )
        .toBeGreaterThan(0);
      await screenshot(page, "channel-en");
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page
          .getByRole("link", { name: "Download PNG" })
          .or(page.getByRole("button", { name: "Download PNG" }))
          .first()
          .click(),
      ]);
      const png = await readFile((await download.path())!);
      expect(decodeQrImage(png)).toBe(url);
      await page.goto(`${suite.dev.dashboard}/`);
      await page.getByRole("heading", { name: "Today", exact: true }).waitFor();
      await screenshot(page, "overview-en");
      await context.close();
    },
    TIMEOUT_MS,
  );

  it(
    "the login demo shows a code; scanned on the phone page, the demo shows the openId within 1 s",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signIn(page);
      await page.goto(`${suite.dev.dashboard}/login-demo`);
      await page.getByRole("button", { name: "生成登录二维码" }).click();
      const img = page.getByRole("img", { name: "登录二维码，请用微信扫码" });
      await expect.poll(() => img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
      const url = (await page.locator("code").first().textContent())!.trim();
      await screenshot(page, "login-demo-zh");

      const phone = await (await newContext({ width: 390 })).newPage();
      await scanOnPhone(phone, "oLogin", url);
      const scanned = Date.now();
      await expect.poll(() => page.getByRole("status").filter({ hasText: "已登录" }).textContent(), { timeout: 1_000, interval: 25 }).toContain("oLogin");
      expect(Date.now() - scanned).toBeLessThanOrEqual(1_000);
      await context.close();
    },
    TIMEOUT_MS,
  );

  it(
    "signed out nothing of the admin's shows and /api is 401; the token is in no URL or storage; the cookie is HttpOnly, SameSite=Strict; a cross-site form post is refused",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      const urls: string[] = [];
      page.on("request", (r) => urls.push(r.url()));
      await page.goto(`${suite.dev.dashboard}/channels`);
      await expect.poll(() => page.getByLabel("管理令牌").count()).toBe(1);
      expect(await page.getByText("春季海报").count()).toBe(0);
      expect(await page.evaluate(async () => (await fetch("/api/channels")).status)).toBe(401);

      await signIn(page);
      await page.goto(`${suite.dev.dashboard}/channels`);
      await expect.poll(() => page.getByText("春季海报").count()).toBeGreaterThan(0);
      expect(urls.filter((u) => u.includes(suite.dev.token))).toEqual([]);
      // Evaluated in the page (a string: the test runs under Node's types, without the DOM's).
      const storage = await page.evaluate<string>("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])");
      expect(storage).not.toContain(suite.dev.token);
      const cookie = (await context.cookies()).find((c) => c.name === "wxqr_session");
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });

      // Another site's page posts a form to the dashboard's API with the operator's browser.
      const evil: Server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(
          `<form method="post" action="${suite.dev.dashboard}/api/channels" enctype="text/plain"><input name='{"name":"evil","x":"' value='"}'></form><script>document.forms[0].submit()</script>`,
        );
      });
      await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
      const evilUrl = `http://localhost:${(evil.address() as { port: number }).port}/`;
      const answer = page.waitForResponse((r) => r.url() === `${suite.dev.dashboard}/api/channels` && r.request().method() === "POST");
      await page.goto(evilUrl);
      expect([401, 403]).toContain((await answer).status());
      evil.close();
      await page.goto(`${suite.dev.dashboard}/channels`);
      await expect.poll(() => page.getByText("春季海报").count()).toBeGreaterThan(0);
      expect(await page.getByText("evil", { exact: true }).count()).toBe(0);
      await context.close();
    },
    TIMEOUT_MS,
  );

  it(
    "axe-core finds no serious or critical violation on the overview, channel, phone and login-demo pages, at 1280 and 390 px",
    async () => {
      for (const width of [1280, 390]) {
        const context = await newContext({ width });
        const page = await context.newPage();
        await signIn(page);
        const pages: Array<[string, string]> = [["overview", `${suite.dev.dashboard}/`]];
        await page.goto(`${suite.dev.dashboard}/channels`);
        const first = page.locator("a[href^='/channels/'], a[href^='channels/']").first();
        pages.push(["channel", new URL((await first.getAttribute("href"))!, `${suite.dev.dashboard}/`).toString()]);
        pages.push(["login demo", `${suite.dev.dashboard}/login-demo`], ["phone", `${suite.dev.phone}/`]);
        for (const [name, url] of pages) {
          await page.goto(url);
          await page.waitForLoadState("networkidle");
          expect(await seriousAxeViolations(page), `${name} at ${width} px`).toEqual([]);
          const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
          expect(overflow, `${name} overflows at ${width} px`).toBeLessThanOrEqual(0);
        }
        await page.goto(`${suite.dev.dashboard}/`);
        await page.getByRole("heading", { name: "今日", exact: true }).waitFor();
        await screenshot(page, width === 390 ? "overview-zh-390" : "overview-zh");
        await context.close();
      }
    },
    TIMEOUT_MS,
  );
});
