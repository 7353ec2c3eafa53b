/**
 * The dashboard's Posters page (issue #12) in a real browser (Debian's Chromium, headless, driven
 * by playwright-core) against `wxqr dev` as a newcomer runs it, the built binary on loopback:
 * upload a background, place the code and a line of Chinese text, save, see the preview; the
 * preview's code is the sample, a follower's poster from the API carries their own code; a GIF is
 * refused with the field named; axe-core finds no serious or critical violation; screenshots.
 */
import type { Page } from "playwright-core";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { announceBrowser, screenshot, seriousAxeViolations } from "../helpers/browser.ts";
import { signIn as signInAs, devWithBrowser, type DevWithBrowser } from "../helpers/dev-browser.ts";

const TIMEOUT_MS = 120_000;
const QR = { x: 300, y: 500, size: 240 };

let suite: DevWithBrowser;

const signIn = (page: Page): Promise<void> => signInAs(page, suite.dev);

async function codeIn(png: Buffer): Promise<string> {
  return decodeQrImage(await sharp(png).extract({ left: QR.x, top: QR.y, width: QR.size, height: QR.size }).png().toBuffer());
}

describe.runIf(announceBrowser("posters browser tests"))("the Posters page in Chromium, against wxqr dev", () => {
  suite = devWithBrowser("wxqr-posters-browser-", TIMEOUT_MS);

  it(
    "uploads a background, places the code and a Chinese line, previews it; a follower's poster carries their code; a GIF is refused by field; no serious axe violation",
    async () => {
      const context = await suite.browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await signIn(page);
      await page.getByRole("link", { name: "海报" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("海报");
      expect(await page.getByText("还没有海报。先上传一张背景图。").count()).toBe(1);

      // A GIF is refused by its content, and the message names the field.
      await page
        .getByLabel("背景图（PNG 或 JPEG）")
        .setInputFiles({ name: "poster.png", mimeType: "image/png", buffer: Buffer.from("GIF89a\x01\x00\x01\x00;") });
      await page.getByRole("button", { name: "保存海报" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("(background)");
      expect(await page.getByLabel("背景图（PNG 或 JPEG）").getAttribute("aria-invalid")).toBe("true");

      const background = await sharp({ create: { width: 600, height: 800, channels: 3, background: "#f3d9a4" } })
        .png()
        .toBuffer();
      await page.getByLabel("背景图（PNG 或 JPEG）").setInputFiles({ name: "spring.png", mimeType: "image/png", buffer: background });
      const qr = page.getByRole("group", { name: "二维码" });
      await qr.getByLabel("X（像素）").fill(String(QR.x));
      await qr.getByLabel("Y（像素）").fill(String(QR.y));
      await qr.getByLabel("边长（像素）").fill(String(QR.size));
      await page.getByLabel("加一行文字").check();
      await page.getByLabel("文字", { exact: true }).fill("扫码关注，领取春季好礼");
      await page.getByLabel("字号（像素）").fill("40");
      await page.getByRole("button", { name: "保存海报" }).click();
      await expect.poll(() => page.getByRole("status").filter({ hasText: "海报已保存。" }).count(), { timeout: 10_000 }).toBe(1);

      const preview = page.getByRole("img", { name: "海报预览，二维码为示例" });
      await expect.poll(() => preview.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(600);
      const previewPng = Buffer.from(await (await context.request.get(`${suite.dev.dashboard}${await preview.getAttribute("src")}`)).body());
      expect(await codeIn(previewPng)).toBe("http://weixin.qq.com/q/wxqr-poster-preview");
      await screenshot(page, "posters-zh");

      // A follower's poster, through the same session: their own personal code.
      const code = await context.request.post(`${suite.dev.dashboard}/api/referrals/codes`, {
        data: { openId: "oSpringFan" },
        headers: { "x-wxqr-csrf": "1" },
      });
      expect(code.status()).toBe(200);
      const url = ((await code.json()) as { qrcode: { url: string } }).qrcode.url;
      const poster = await context.request.get(`${suite.dev.dashboard}/api/referrals/oSpringFan/poster.png`);
      expect(poster.status()).toBe(200);
      expect(await codeIn(Buffer.from(await poster.body()))).toBe(url);

      expect(await seriousAxeViolations(page)).toEqual([]);
      await page.setViewportSize({ width: 390, height: 900 });
      expect(await seriousAxeViolations(page)).toEqual([]);
      await context.close();
    },
    TIMEOUT_MS,
  );
});
