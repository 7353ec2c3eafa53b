/**
 * Issue 13's browser acceptance (Debian's Chromium, headless, driven by playwright-core) against
 * `wxqr dev` as a newcomer runs it, the built binary on loopback: groups are created, renamed and
 * deleted on the Groups page; channels are grouped from the list's batch bar, the list is filtered
 * by group (kept in the URL), one channel is paused, and the group's ZIP is downloaded and read
 * back (one image per channel that decodes to its url, and the CSV); a filter's ZIP is a plain
 * link; the merged analysis counts a person who scanned two channels once. axe-core finds no
 * serious or critical violation on these pages; screenshots for the README.
 */
import { readFile } from "node:fs/promises";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { announceBrowser, screenshot, seriousAxeViolations } from "../helpers/browser.ts";
import { signIn as signInAs, devWithBrowser, type DevWithBrowser } from "../helpers/dev-browser.ts";
import { readZip } from "../helpers/zip.ts";

const TIMEOUT_MS = 120_000;
const EAST = ["南京东路店", "淮海路店", "西湖店"];
const FROM_FORM = "静安寺店";
const SOUTH_COUNT = 21; // one more than the list's first page, so that "all matching" differs from "this page"

interface ChannelJson {
  id: string;
  name: string;
  groupId: string | null;
  paused: boolean;
  status: string;
  qrcode: { url: string };
}

let suite: DevWithBrowser;
let context: BrowserContext;
let page: Page;

async function api<T>(method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<T> {
  const res = await page.request.fetch(`${suite.dev.dashboard}${path}`, {
    method,
    headers: { "x-wxqr-csrf": "1", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { data: JSON.stringify(body) }),
  });
  expect(res.status(), `${method} ${path}: ${await res.text()}`).toBeLessThan(300);
  return (await res.json()) as T;
}

const groupId = async (name: string): Promise<string> =>
  (await api<{ groups: Array<{ id: string; name: string }> }>("GET", "/api/channel-groups")).groups.find((g) => g.name === name)!.id;

async function channelsOf(group: string): Promise<ChannelJson[]> {
  return (await api<{ channels: ChannelJson[] }>("GET", `/api/channels?groupId=${encodeURIComponent(group)}&limit=100`)).channels;
}

let signedIn = false;
/** The tests share one signed-in page; signing in needs expect, which runs only inside a test. */
async function ready(): Promise<void> {
  if (!signedIn) await signInAs(page, suite.dev);
  signedIn = true;
}

const batchStatus = (): ReturnType<Page["locator"]> => page.locator(".batch-bar [role=status]");

/** A ZIP the page downloads after `click`, read back whole. */
async function downloadZip(click: () => Promise<void>): Promise<Map<string, Buffer>> {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  return readZip(await readFile((await download.path())!));
}

function expectCodesOf(entries: Map<string, Buffer>, channels: ChannelJson[]): void {
  expect([...entries.keys()].sort()).toEqual([...channels.map((c) => `${c.name}.png`), "channels.csv"].sort());
  for (const c of channels) expect(decodeQrImage(entries.get(`${c.name}.png`)!), c.name).toBe(c.qrcode.url);
  const csv = entries.get("channels.csv")!;
  expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = csv.toString("utf8").trim().split(/\r?\n/);
  expect(lines).toHaveLength(channels.length + 1);
  for (const c of channels) expect(lines.some((l) => l.includes(c.name))).toBe(true);
}

async function expectAccessible(what: string): Promise<void> {
  await page.waitForLoadState("networkidle");
  expect(await seriousAxeViolations(page), what).toEqual([]);
}

describe.runIf(announceBrowser("channel groups browser tests"))("groups, batch operations and merged analysis in Chromium, against wxqr dev", () => {
  suite = devWithBrowser("wxqr-groups-browser-", TIMEOUT_MS);

  beforeAll(async () => {
    // bypassCSP only lets the test inject axe-core.
    context = await suite.browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 }, acceptDownloads: true, bypassCSP: true });
    page = await context.newPage();
  }, TIMEOUT_MS);

  afterAll(async () => {
    await context?.close();
  });

  it(
    "creates, renames and deletes groups on the Groups page, each change announced",
    async () => {
      await ready();
      await page.getByRole("navigation").getByRole("link", { name: "分组" }).click();
      await page.getByRole("heading", { level: 1, name: "渠道分组" }).waitFor();
      for (const name of ["华东门店", "华南门店", "临时"]) {
        await page.getByLabel("新分组名称").fill(name);
        await page.getByRole("button", { name: "创建分组" }).click();
        await expect.poll(() => page.getByRole("status").filter({ hasText: "已创建分组" }).textContent()).toContain(name);
      }
      await page.getByRole("button", { name: "重命名分组“临时”" }).click();
      await page.getByLabel("“临时”的新名称").fill("直播间");
      await page.getByRole("button", { name: "保存" }).click();
      await expect.poll(() => page.getByRole("row").filter({ hasText: "直播间" }).count()).toBe(1);
      await page.getByRole("button", { name: "删除分组“直播间”" }).click();
      await page.getByRole("button", { name: "确认删除" }).click();
      await expect.poll(() => page.getByRole("status").filter({ hasText: "已删除分组" }).textContent()).toContain("直播间");
      await expect.poll(() => page.getByRole("row").filter({ hasText: "直播间" }).count()).toBe(0);
      expect(await page.getByRole("link", { name: "华东门店" }).count()).toBe(1);
      await expectAccessible("groups page");
      await screenshot(page, "groups-zh");
    },
    TIMEOUT_MS,
  );

  it(
    "groups channels from the batch bar and with the form's group select; filters the list by group, kept in the URL",
    async () => {
      await ready();
      for (const name of [...EAST, "天河店"]) await api("POST", "/api/channels", { name });
      await page.goto(`${suite.dev.dashboard}/channels?new=1`);
      await page.getByLabel("名称").fill(FROM_FORM);
      const formGroup = page.locator("#new-channel").getByLabel("分组");
      await expect.poll(() => formGroup.locator("option", { hasText: "华东门店" }).count()).toBe(1);
      await formGroup.selectOption({ label: "华东门店" });
      await page.getByRole("button", { name: "创建", exact: true }).click();
      await page.waitForURL(/\/channels\/[^/?]+$/);
      await expect.poll(() => page.locator(".channel-group-note").textContent()).toContain("华东门店");
      await screenshot(page, "channel-in-group-zh");

      await page.goto(`${suite.dev.dashboard}/channels`);
      for (const name of EAST) await page.getByRole("checkbox", { name: `选择“${name}”` }).check();
      await expect.poll(() => page.getByRole("heading", { name: "已选择 3 个渠道" }).count()).toBe(1);
      await page.getByLabel("移动到分组").selectOption({ label: "华东门店" });
      await page.getByRole("button", { name: "移动", exact: true }).click();
      await expect.poll(() => batchStatus().textContent()).toContain("3 个渠道中有 3 个已更改");
      await expect.poll(() => page.getByRole("row").filter({ hasText: "南京东路店" }).textContent()).toContain("华东门店");

      await page.locator("#channel-group").selectOption({ label: "华东门店" });
      const east = await groupId("华东门店");
      await expect.poll(() => new URL(page.url()).searchParams.get("groupId")).toBe(east);
      await page.reload();
      await expect.poll(() => page.locator("tbody tr").count()).toBe(EAST.length + 1);
      expect(await page.locator("#channel-group").inputValue()).toBe(east);
      expect(await page.getByText("天河店").count()).toBe(0);

      await page.getByRole("checkbox", { name: "选择本页全部渠道" }).check();
      await expect.poll(() => page.getByRole("heading", { name: "已选择 4 个渠道" }).count()).toBe(1);
      await expectAccessible("channels list with the batch bar");
      await screenshot(page, "channels-batch-zh");
      await page.getByRole("button", { name: "取消选择" }).click();
    },
    TIMEOUT_MS,
  );

  it(
    "pauses one channel of the group from the batch bar",
    async () => {
      await ready();
      const east = await groupId("华东门店");
      await page.goto(`${suite.dev.dashboard}/channels?groupId=${east}`);
      await page.getByRole("checkbox", { name: "选择“西湖店”" }).check();
      await page.getByRole("button", { name: "暂停", exact: true }).click();
      await expect.poll(() => batchStatus().textContent()).toContain("1 个渠道中有 1 个已更改");
      const paused = (await channelsOf(east)).find((c) => c.name === "西湖店")!;
      expect([paused.paused, paused.status]).toEqual([true, "paused"]);
      // The list shows it too, in the row's status column.
      await expect.poll(() => page.getByRole("row", { name: /西湖店/ }).textContent()).toContain("已暂停");
      await page.getByRole("button", { name: "恢复", exact: true }).click();
      await expect.poll(() => batchStatus().textContent()).toContain("1 个渠道中有 1 个已更改");
      await page.getByRole("button", { name: "暂停", exact: true }).click();
      await expect.poll(() => batchStatus().textContent()).toContain("1 个渠道中有 1 个已更改");
    },
    TIMEOUT_MS,
  );

  it(
    "downloads the group's ZIP: one image per channel of the group, each decoding to its url, and the CSV with a BOM",
    async () => {
      await ready();
      const east = await groupId("华东门店");
      await page.goto(`${suite.dev.dashboard}/channels?groupId=${east}`);
      await page.getByRole("checkbox", { name: "选择本页全部渠道" }).check();
      const entries = await downloadZip(() => page.getByRole("button", { name: "下载 ZIP" }).click());
      expectCodesOf(entries, await channelsOf(east));
      await expect.poll(() => batchStatus().textContent()).toContain("已下载 4 个渠道的 ZIP");
    },
    TIMEOUT_MS,
  );

  it(
    "selects every channel the filter matches beyond the page; their ZIP is a plain link to GET export.zip",
    async () => {
      await ready();
      const south = await groupId("华南门店");
      for (let i = 1; i <= SOUTH_COUNT; i++) await api("POST", "/api/channels", { name: `华南${String(i).padStart(2, "0")}`, groupId: south });
      await page.goto(`${suite.dev.dashboard}/channels?groupId=${south}`);
      await page.getByRole("checkbox", { name: "选择本页全部渠道" }).check();
      await expect.poll(() => page.getByRole("heading", { name: "已选择 20 个渠道" }).count()).toBe(1);
      await page.getByRole("button", { name: `选择符合筛选条件的全部 ${SOUTH_COUNT} 个渠道` }).click();
      await expect.poll(() => page.getByRole("heading", { name: `已选择符合筛选条件的全部 ${SOUTH_COUNT} 个渠道` }).count()).toBe(1);
      const link = page.getByRole("link", { name: "下载 ZIP" });
      const href = new URL((await link.getAttribute("href"))!, suite.dev.dashboard);
      expect([href.pathname, href.searchParams.get("groupId"), href.searchParams.get("format")]).toEqual(["/api/channels/export.zip", south, "png"]);
      expectCodesOf(await downloadZip(() => link.click()), await channelsOf(south));
    },
    TIMEOUT_MS,
  );

  it(
    "the merged analysis of the group counts a person who scanned two of its channels once; the overview shows the group totals",
    async () => {
      await ready();
      const east = await groupId("华东门店");
      const channels = await channelsOf(east);
      for (const name of EAST.slice(0, 2)) {
        const res = await fetch(`${suite.dev.phone}/emulator/scan`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ openId: "oMerged", url: channels.find((c) => c.name === name)!.qrcode.url }),
        });
        expect(res.status).toBe(200);
      }
      await page.goto(`${suite.dev.dashboard}/groups`);
      await page.getByRole("row").filter({ hasText: "华东门店" }).getByRole("link", { name: "合并分析" }).click();
      await page.getByRole("heading", { level: 1, name: "合并分析：华东门店" }).waitFor();
      const figure = (label: string): Promise<string | null> =>
        page
          .locator(".figure", { has: page.getByText(label, { exact: true }) })
          .locator("dd")
          .textContent();
      await expect.poll(() => figure("扫码次数")).toBe("2");
      expect([await figure("扫码人数"), await figure("新关注")]).toEqual(["1", "1"]);
      await page.locator(".chart-canvas canvas, .chart-canvas svg").first().waitFor();
      await expectAccessible("merged analysis");
      await screenshot(page, "analysis-zh");

      // A selection's analysis: the two scanned channels ticked on the list.
      await page.goto(`${suite.dev.dashboard}/channels?groupId=${east}`);
      for (const name of EAST.slice(0, 2)) await page.getByRole("checkbox", { name: `选择“${name}”` }).check();
      await page.getByRole("link", { name: "合并分析" }).click();
      await page.getByRole("heading", { level: 1, name: "合并分析：所选的 2 个渠道" }).waitFor();
      await expect.poll(() => figure("扫码次数")).toBe("2");
      expect([await figure("扫码人数"), await page.getByText("共 2 个渠道。").count()]).toEqual(["1", 1]);

      await page.getByRole("link", { name: "概览" }).click();
      const row = page.getByRole("region", { name: "按分组" }).getByRole("row").filter({ hasText: "华东门店" });
      await expect.poll(() => row.locator("td").first().textContent()).toBe("2");
      await expectAccessible("overview with group totals");

      await page.getByLabel("语言").selectOption({ label: "English" });
      await page.goto(`${suite.dev.dashboard}/analysis?groupId=${east}`);
      await page.getByRole("heading", { level: 1, name: "Merged analysis: 华东门店" }).waitFor();
      await expectAccessible("merged analysis in English");
      await screenshot(page, "analysis-en");
      await page.getByLabel("Language").selectOption({ label: "中文" });
    },
    TIMEOUT_MS,
  );

  it(
    "at 390 px the groups, channels (with the batch bar) and analysis pages fit the width and axe-core finds no serious violation",
    async () => {
      await ready();
      const narrow = await (await suite.browser.newContext({ locale: "zh-CN", viewport: { width: 390, height: 800 }, bypassCSP: true })).newPage();
      await signInAs(narrow, suite.dev);
      const east = await groupId("华东门店");
      const check = async (name: string): Promise<void> => {
        await narrow.waitForLoadState("networkidle");
        expect(await seriousAxeViolations(narrow), `${name} at 390 px`).toEqual([]);
        const overflow = await narrow.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        expect(overflow, `${name} overflows at 390 px`).toBeLessThanOrEqual(0);
      };
      await narrow.goto(`${suite.dev.dashboard}/groups`);
      await narrow.getByRole("heading", { level: 1, name: "渠道分组" }).waitFor();
      await check("groups");
      await narrow.goto(`${suite.dev.dashboard}/channels?groupId=${east}`);
      await narrow.getByRole("checkbox", { name: "选择本页全部渠道" }).check();
      await narrow.getByRole("heading", { name: "已选择 4 个渠道" }).waitFor();
      await check("channels with the batch bar");
      await screenshot(narrow, "channels-batch-zh-390");
      await narrow.goto(`${suite.dev.dashboard}/analysis?groupId=${east}`);
      await narrow.getByRole("heading", { level: 1, name: "合并分析：华东门店" }).waitFor();
      await check("analysis");
      await narrow.context().close();
    },
    TIMEOUT_MS,
  );
});
