/**
 * Replies by audience, schedule and pause (issue #13) in a real browser (Debian's Chromium,
 * headless) against `wxqr dev`: a channel created with a start tomorrow shows 未开始 on its page
 * and in the list; with the start cleared it is 进行中, and a new follower scanning on the phone
 * page sees the new follower's text with the channel's name filled in; paused (已暂停), a scan
 * counts without reply; resumed, it is 进行中 again. Screenshot of the channel page with its status.
 */
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { toZoneInput } from "../../web/dashboard/zone-time.ts";
import { announceBrowser, screenshot } from "../helpers/browser.ts";
import { signIn, devWithBrowser, type DevWithBrowser } from "../helpers/dev-browser.ts";

const TIMEOUT_MS = 120_000;
const DAY_MS = 86_400_000;

let suite: DevWithBrowser;

function newContext(width = 1280): Promise<BrowserContext> {
  return suite.browser.newContext({ locale: "zh-CN", viewport: { width, height: 900 } });
}

/** On the phone page: a new user, who then scans the code with this url; resolves with the chat log. */
async function scanOnPhone(openId: string, url: string): Promise<Page> {
  const phone = await (await newContext(390)).newPage();
  await phone.goto(`${suite.dev.phone}/`);
  const details = phone.locator("details", { hasText: "新建用户" });
  if (!(await details.evaluate((d) => (d as unknown as { open: boolean }).open))) await details.locator("summary").click();
  await phone.getByLabel("昵称").fill(openId);
  await phone.getByLabel("OpenID").fill(openId);
  await phone.getByRole("button", { name: "创建用户" }).click();
  await phone.getByLabel("二维码链接").fill(url);
  await phone.getByRole("button", { name: "扫描链接" }).click();
  return phone;
}

describe.runIf(announceBrowser("channel status browser tests"))("a channel's replies by audience, schedule and pause in Chromium", () => {
  suite = devWithBrowser("wxqr-channel-status-browser-", TIMEOUT_MS);

  it(
    "scheduled, then active with the new follower's text, paused without reply, resumed",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signIn(page, suite.dev);
      const heading = page.getByRole("heading", { level: 1 });

      await page.goto(`${suite.dev.dashboard}/channels`);
      await page.getByRole("button", { name: "新建渠道" }).first().click();
      await page.getByLabel("名称").fill("限时活动");
      await page.getByLabel("欢迎语").fill("欢迎关注");
      await page.getByLabel("新关注用户（首次关注）").fill("新朋友你好，这里是{channel}");
      // `wxqr dev` runs on the system clock, so "tomorrow" is the test's own.
      await page.getByLabel("开始时间").fill(toZoneInput(Date.now() + DAY_MS));
      await page.getByRole("button", { name: "创建", exact: true }).click();
      await page.waitForURL(/\/channels\/[^/?]+$/);
      await expect.poll(() => heading.textContent()).toContain("未开始");
      const channelUrl = page.url();
      const url = (await page.locator("code").first().textContent())!.trim();

      await page.goto(`${suite.dev.dashboard}/channels`);
      await expect.poll(() => page.getByRole("row", { name: /限时活动/ }).textContent()).toContain("未开始");

      await page.goto(channelUrl);
      await page.getByLabel("开始时间").fill("");
      await page.getByRole("button", { name: "保存", exact: true }).click();
      await expect.poll(() => heading.textContent()).toContain("进行中");

      const first = await scanOnPhone("oFirst", url);
      await expect.poll(() => first.getByRole("log").textContent(), { timeout: 5_000 }).toContain("新朋友你好，这里是限时活动");

      await page.getByRole("button", { name: "暂停渠道" }).click();
      await expect.poll(() => heading.textContent()).toContain("已暂停");
      await screenshot(page, "channel-status-zh");
      const second = await scanOnPhone("oSecond", url);
      const todayScans = page
        .locator("section", { has: page.locator("#today-title") })
        .locator(".figure", { hasText: "扫码" })
        .first()
        .locator("dd");
      await expect.poll(async () => (await todayScans.textContent())!.trim(), { timeout: 5_000 }).toBe("2");
      // The emulator's record of the push: delivered, and the user saw nothing (answered "success").
      const delivered = async (): Promise<Array<{ outcome: string; userSaw: string | null }>> =>
        (
          (await (await fetch(`${suite.dev.phone}/emulator/deliveries?openId=oSecond`)).json()) as {
            deliveries: Array<{ outcome: string; userSaw: string | null }>;
          }
        ).deliveries;
      await expect.poll(async () => (await delivered()).map((d) => d.outcome), { timeout: 5_000 }).toEqual(["delivered"]);
      expect((await delivered())[0]!.userSaw).toBeNull();
      expect(await second.getByRole("log").textContent()).not.toContain("新朋友你好");

      await page.getByRole("button", { name: "恢复渠道" }).click();
      await expect.poll(() => heading.textContent()).toContain("进行中");
      await context.close();
    },
    TIMEOUT_MS,
  );
});
