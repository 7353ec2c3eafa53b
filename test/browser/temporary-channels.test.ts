/**
 * Temporary channels in the dashboard (issue #13), in Chromium against `wxqr dev`: the create
 * form's choice of a temporary code of N days that renews; the channel page shows the type, the
 * expiry and the stable image link, whose copy serves the code without a sign-in; the list shows
 * the type; axe-core finds no serious violation on the channel page at 1280 and 390 px.
 */
import { describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { announceBrowser, seriousAxeViolations } from "../helpers/browser.ts";
import { signIn, devWithBrowser, type DevWithBrowser } from "../helpers/dev-browser.ts";

const TIMEOUT_MS = 120_000;

let suite: DevWithBrowser;

describe.runIf(announceBrowser("temporary channels browser test"))("temporary channels in the dashboard, against wxqr dev", () => {
  suite = devWithBrowser("wxqr-temporary-browser-", TIMEOUT_MS);

  it(
    "creates a temporary renewing channel, shows its type, expiry and stable link, and the copied link serves the code without a sign-in",
    async () => {
      const context = await suite.browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 }, bypassCSP: true });
      await context.grantPermissions(["clipboard-read", "clipboard-write"]);
      const page = await context.newPage();
      await signIn(page, suite.dev);

      await page.goto(`${suite.dev.dashboard}/channels`);
      await page.getByRole("button", { name: "新建渠道" }).first().click();
      await page.getByLabel("名称").fill("直播间");
      await page.getByLabel("临时二维码（不占永久码额度）").check();
      await page.getByLabel("有效天数（1–30）").fill("3");
      await page.getByRole("button", { name: "创建", exact: true }).click();
      await page.waitForURL(/\/channels\/[^/?]+$/);

      const card = page.locator("section.qr-card");
      await expect.poll(() => card.textContent()).toContain("临时 3 天");
      const text = (await card.textContent())!;
      expect(text).toContain("自动续期");
      expect(text).toMatch(/到期：/);
      expect(text).toContain("将于");
      const url = (await card.locator("code").first().textContent())!.trim();

      await card.getByRole("button", { name: "复制链接" }).click();
      await expect.poll(() => card.getByRole("status").last().textContent()).toBe("已复制。");
      const link = await page.evaluate<string>("navigator.clipboard.readText()");
      expect(link).toMatch(new RegExp(`^${suite.dev.dashboard}/c/[A-Za-z0-9_-]{22}\\.png$`));
      const image = await fetch(link);
      expect(image.status).toBe(200);
      expect(decodeQrImage(Buffer.from(await image.arrayBuffer()))).toBe(url);

      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 });
        expect(await seriousAxeViolations(page), `channel page at ${width} px`).toEqual([]);
        const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        expect(overflow, `channel page overflows at ${width} px`).toBeLessThanOrEqual(0);
      }

      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${suite.dev.dashboard}/channels`);
      const row = page.getByRole("row", { name: /直播间/ });
      await expect.poll(() => row.textContent()).toContain("临时 3 天");
      await context.close();
    },
    TIMEOUT_MS,
  );
});
