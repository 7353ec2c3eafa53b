/**
 * The emulator's phone page in a real browser (Debian's Chromium, headless, driven by
 * playwright-core): built from web/phone with Vite into a temporary folder, served by a real
 * emulator on loopback that pushes to a real push receiver. A person's paths through it: create a
 * user, scan by click, url and photo, write to the account, unfollow, a failed push, the language
 * switch, customer-service messages (text and image) after the passive welcome; and axe-core at
 * phone and desktop width.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import axe from "axe-core";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSeededRandom } from "../../src/deps.ts";
import { USER_NOTICE } from "../../src/emulator/index.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { renderPng } from "../../src/qr/index.ts";
import { createWeChatClient } from "../../src/wechat/index.ts";
import { USER_NOTICE as PAGE_USER_NOTICE } from "../../web/phone/chat.ts";
import { APP_ID, APP_SECRET, START_MS, startEmulator, type Harness } from "../helpers/emulator-harness.ts";
import { announceBrowser, screenshot, seriousAxeViolations } from "../helpers/browser.ts";
import { startReceiver, type TestReceiver } from "../helpers/push-receiver.ts";

const CHROMIUM = "/usr/bin/chromium";
const PHONE_SOURCES = fileURLToPath(new URL("../../web/phone/", import.meta.url));
const PUSH_TOKEN = "phoneT0ken";
const WELCOME = "欢迎关注！回复 1 领取优惠券";
const CONFIRMED = "已确认";
const FOLLOW_UP = "这是你的专属海报，分享给好友吧";

const haveBrowser = announceBrowser("phone page browser tests");

let dir: string;
let browser: Browser;
let receiver: TestReceiver;
let h: Harness;
let poster: { ticket: string; url: string };
let flyer: { ticket: string; url: string };

describe.skipIf(!haveBrowser)("emulator phone page in Chromium", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wxqr-phone-browser-"));
    await build({ root: PHONE_SOURCES, base: "./", configFile: false, logLevel: "silent", build: { outDir: join(dir, "phone"), emptyOutDir: true } });
    receiver = await startReceiver({
      token: PUSH_TOKEN,
      appId: APP_ID,
      now: () => START_MS,
      reply: (m) => (m.kind === "scan" ? { text: WELCOME } : m.kind === "other" && m.content === "1" ? { text: CONFIRMED } : undefined),
    });
    h = await startEmulator({ phonePageDir: join(dir, "phone") });
    expect((await h.control("PUT", "/emulator/push", { url: receiver.url, token: PUSH_TOKEN, maxRetries: 0 })).status).toBe(200);
    const token = await h.classicToken();
    poster = (await h.createQr(token, { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: "poster-a" } } })) as typeof poster;
    flyer = (await h.createQr(token, { action_name: "QR_SCENE", expire_seconds: 3600, action_info: { scene: { scene_id: 42 } } })) as typeof flyer;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function openPage(width = 1280, options: { bypassCSP?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 844 }, locale: "zh-CN", ...options });
    const page = await context.newPage();
    await page.goto(`${h.base}/`);
    await page.getByRole("button", { name: /场景 poster-a/ }).waitFor();
    return page;
  }

  async function newUser(page: Page, nickname: string): Promise<string> {
    if (!(await page.getByLabel("昵称").isVisible())) await page.getByText("新建用户").click();
    await page.getByLabel("昵称").fill(nickname);
    const openId = await page.getByLabel("OpenID").inputValue();
    await page.getByRole("button", { name: "创建用户" }).click();
    await expect.poll(() => page.getByRole("combobox", { name: "当前用户" }).inputValue()).toBe(openId);
    return openId;
  }

  const chat = (page: Page) => page.getByRole("log");

  it("a new user scans a code by clicking it: the chat shows the scan and the welcome reply, and the user now follows", async () => {
    const page = await openPage();
    const openId = await newUser(page, "小红");
    await page.getByRole("button", { name: /场景 poster-a/ }).click();
    await chat(page).getByText(WELCOME).waitFor();
    await expect.poll(() => chat(page).innerText()).toContain("你扫描了场景 poster-a 的二维码并关注了公众号");
    await page.getByText("已关注公众号").waitFor();
    expect((await h.control("GET", "/emulator/users")).body["users"]).toContainEqual({ openId, nickname: "小红", subscribed: true, since: START_MS });
    await page.context().close();
  });

  it("follows, sends the 1 that confirms and sees the account's answer, then unfollows", async () => {
    const page = await openPage();
    const openId = await newUser(page, "Lee");
    await page.getByRole("button", { name: "关注", exact: true }).click();
    await page.getByText("你关注了公众号").waitFor();
    await page.getByRole("textbox", { name: "消息" }).fill("1");
    await page.getByRole("button", { name: "发送" }).click();
    await chat(page).getByText(CONFIRMED).waitFor();
    await page.getByRole("button", { name: "取消关注" }).click();
    await page.getByText("你取消了关注").waitFor();
    await page.getByText("未关注公众号").waitFor();
    expect(receiver.messages.filter((m) => m.openId === openId).map((m) => m.kind)).toEqual(["subscribe", "other", "unsubscribe"]);
    await page.context().close();
  });

  it("scans by pasting a url and by uploading a photo of the code; an unknown url is explained", async () => {
    const page = await openPage();
    const openId = await newUser(page, "王五");
    await page.getByLabel("二维码链接").fill(flyer.url);
    await page.getByRole("button", { name: "扫描链接" }).click();
    await page.getByText("你扫描了场景 42 的二维码并关注了公众号").waitFor();

    const photo = join(dir, "poster.png");
    await writeFile(photo, renderPng(poster.url, { size: 480 }));
    await page.getByLabel("上传二维码照片（PNG 或 JPEG）").setInputFiles(photo);
    await page.getByText("你扫描了场景 poster-a 的二维码").waitFor();

    await page.getByLabel("二维码链接").fill("http://weixin.qq.com/q/02unknownunknownunkno");
    await page.getByRole("button", { name: "扫描链接" }).click();
    await page.getByRole("status").getByText("模拟器不认识这个二维码", { exact: false }).waitFor();
    const scans = (await h.control("GET", `/emulator/deliveries?openId=${openId}`)).body["deliveries"] as { event: string; eventKey: string }[];
    expect(scans.map((d) => [d.event, d.eventKey])).toEqual([
      ["subscribe", "qrscene_42"],
      ["SCAN", "poster-a"],
    ]);
    await page.context().close();
  });

  it("shows WeChat's notice when the account's server fails to answer", async () => {
    expect(PAGE_USER_NOTICE).toBe(USER_NOTICE);
    const page = await openPage();
    await newUser(page, "赵六");
    receiver.failNext = 1;
    await page.getByRole("button", { name: /场景 poster-a/ }).click();
    await chat(page).getByText(USER_NOTICE).waitFor();
    await expect.poll(() => chat(page).innerText()).not.toContain(WELCOME);
    await page.context().close();
  });

  it("switches to English with the control named 语言, and keeps the choice across visits", async () => {
    const page = await openPage();
    await page.getByLabel("语言").selectOption("en");
    await page.getByRole("heading", { name: "QR codes" }).waitFor();
    expect(await page.evaluate("document.documentElement.lang")).toBe("en");
    await page.reload();
    await page.getByRole("button", { name: /scene poster-a/ }).waitFor();
    await page.getByLabel("Language").selectOption("zh");
    await page.getByRole("heading", { name: "二维码" }).waitFor();
    await page.context().close();
  });

  it("shows the passive welcome, then the account's customer-service text, then its image inline, in the order the user received them", async () => {
    const page = await openPage(390, { bypassCSP: true });
    const openId = await newUser(page, "海报用户");
    await page.getByRole("button", { name: /场景 poster-a/ }).click();
    await chat(page).getByText(WELCOME).waitFor();

    // What the service's follow-up dispatcher sends, through the same typed client, to the same emulator.
    const client = createWeChatClient(
      { appId: APP_ID, appSecret: APP_SECRET, apiBase: h.base, mpBase: h.base },
      { clock: h.clock, random: createSeededRandom(12) },
    );
    const { mediaId } = await client.uploadMedia("image", renderPng(poster.url, { size: 430 }), "poster.png", "image/png");
    await client.sendCustomMessage({ touser: openId, text: FOLLOW_UP });
    await client.sendCustomMessage({ touser: openId, image: { mediaId } });

    // The page polls: the image shows without a reload.
    const image = chat(page).getByRole("img", { name: "公众号发来的图片" });
    await image.waitFor();
    // Strings, not functions: this file is type-checked without the DOM library.
    await expect.poll(() => page.evaluate<number>(`document.querySelector("#chat img").naturalWidth`)).toBeGreaterThan(0);
    const lines = await page.evaluate<string[]>(
      `Array.from(document.getElementById("chat").children, (node) => node.querySelector("img") ? "img:" + node.querySelector("img").alt : (node.querySelector(".bubble") ?? node).textContent)`,
    );
    // The scan's own line, then what the account sent.
    expect(lines).toHaveLength(4);
    expect(lines.slice(1)).toEqual([WELCOME, FOLLOW_UP, "img:公众号发来的图片"]);
    await chat(page).getByText("公众号 · 客服消息").first().waitFor();

    const src = await image.getAttribute("src");
    const bytes = new Uint8Array(await (await fetch(new URL(src ?? "", `${h.base}/`))).arrayBuffer());
    expect(decodeQrImage(bytes)).toBe(poster.url);

    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, "phone-chat-zh-390");
    await page.context().close();
  });

  it.each([390, 1280])("at %i px: nothing overflows sideways, and axe-core finds no serious or critical violation", async (width) => {
    // The page's CSP admits no injected script; the checker is let in for the test only.
    const page = await openPage(width, { bypassCSP: true });
    await newUser(page, `宽 ${width}`);
    await page.getByRole("button", { name: /场景 poster-a/ }).click();
    await chat(page).getByText(WELCOME).waitFor();
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
    await page.addScriptTag({ content: axe.source });
    // Strings, not functions: this file is type-checked without the DOM library.
    const violations = await page.evaluate<string[]>(
      `axe.run(document).then((r) => r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`,
    );
    expect(violations).toEqual([]);
    await page.context().close();
  });
});
