/**
 * Follow-up customer-service messages and tags by channel (issue #12, deliverables 2 and 3) over
 * real loopback HTTP, on SQLite and on PostgreSQL: pushes from the emulator commit rows of the
 * follow-up outbox, and the dispatcher (driven round by round on the shared manual clock) sends
 * them to the emulator, whose message log and counters show what the user and the platform saw.
 */
import sharp from "sharp";
import { expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { createWeChatClient } from "../../src/wechat/client.ts";
import { createSeededRandom, silentLogger } from "../../src/deps.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { startPushProxy } from "../helpers/push-proxy.ts";
import { type Json, SERVICE_APP_ID, SERVICE_APP_SECRET, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";

const WELCOME = "欢迎关注！";

async function messagesOf(h: ServiceHarness, openId: string): Promise<Json[]> {
  const res = await h.emulatorControl("GET", `/emulator/users/${encodeURIComponent(openId)}/messages`);
  expect(res.status).toBe(200);
  return res.body.messages as Json[];
}

async function followUps(h: ServiceHarness, query = ""): Promise<Json> {
  const res = await h.api("GET", `/api/follow-ups${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function counter(h: ServiceHarness, endpoint: string): Promise<number> {
  return (await h.emulatorControl("GET", "/emulator/counters")).body.totals[endpoint] as number;
}

const dispatcher = (h: ServiceHarness) => h.service.followUps!.dispatcher;

async function createChannel(h: ServiceHarness, body: Json): Promise<Json> {
  const res = await h.api("POST", "/api/channels", body);
  expect(res.status).toBe(201);
  return res.body;
}

/** Scans `ticket` as `openId`, a second later than the push before (distinct dedupe keys). */
async function scan(h: ServiceHarness, openId: string, ticket: string): Promise<void> {
  h.clock.advance(1_000);
  const res = await h.scan(openId, ticket);
  expect(res.status).toBe(200);
}

describeOnBothEngines("follow-ups and channel tags", (makeFactory: () => DatabaseFactory) => {
  const { start, closeAfter } = serviceHarnesses(makeFactory);

  it("sends a new follower brought by A's personal code the welcome, then a poster whose code is their own", async () => {
    const h = await start({ followUps: { referralWelcome: WELCOME } });
    const background = await sharp({ create: { width: 500, height: 700, channels: 3, background: "#f4d8a8" } })
      .png()
      .toBuffer();
    const design = await h.api("PUT", "/api/posters/referral", { background: background.toString("base64"), qr: { x: 150, y: 400, size: 220 } });
    expect(design.status).toBe(200);
    const codeA = (await h.api("POST", "/api/referrals/codes", { openId: "oInviterA" })).body.qrcode;
    await scan(h, "oNewB", codeA.ticket);
    const scannedAt = h.clock.now();

    const round = await dispatcher(h).settle();
    expect(round).toMatchObject({ sent: 1, failed: 0 });
    const messages = await messagesOf(h, "oNewB");
    expect(messages.map((m) => [m.via, m.msgType])).toEqual([
      ["passive_reply", "text"],
      ["customer_service", "image"],
    ]);
    expect(messages[0].text).toBe(WELCOME);
    // Within 5 s of the scan on the shared clock: nothing waited for a poll or a backoff.
    expect(messages[1].at - scannedAt).toBeLessThanOrEqual(5_000);
    const image = await fetch(`${h.emulatorUrl}/emulator/media/${encodeURIComponent(messages[1].mediaId)}`);
    expect(image.status).toBe(200);
    const codeB = (await h.api("POST", "/api/referrals/codes", { openId: "oNewB" })).body.qrcode;
    expect(codeB.url).not.toBe(codeA.url);
    const received = Buffer.from(await image.arrayBuffer());
    expect(decodeQrImage(received)).toBe(codeB.url);
    // The campaign's poster, as the API renders it for B.
    const poster = await fetch(`${h.serviceUrl}/api/referrals/oNewB/poster.png`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(received.equals(Buffer.from(await poster.arrayBuffer()))).toBe(true);

    const listed = await followUps(h, "?kind=poster");
    expect(listed.followUps).toMatchObject([{ kind: "poster", openId: "oNewB", status: "sent", attempts: 1, errcode: null }]);
    expect(await counter(h, "media/upload")).toBe(1);
    // Nothing more to do: another round sends nothing.
    expect((await dispatcher(h).runOnce()).attempted).toBe(0);
  });

  it("uploads a channel's follow-up image once and reuses its media_id until it nears its 3 days' expiry", async () => {
    const h = await start();
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#2a7" } })
      .png()
      .toBuffer();
    const channel = await createChannel(h, { name: "图片", followUp: { imageBase64: png.toString("base64") } });
    expect(channel.followUp).toEqual({ imageId: expect.any(String) });
    const notImage = await h.api("PATCH", `/api/channels/${channel.id}`, { followUp: { imageBase64: Buffer.from("GIF89a....").toString("base64") } });
    expect(notImage).toMatchObject({ status: 400, body: { error: "VALIDATION_FAILED", field: "followUp.imageBase64" } });

    for (const openId of ["oImg1", "oImg2"]) await scan(h, openId, channel.qrcode.ticket);
    await dispatcher(h).settle();
    const sent = [...(await messagesOf(h, "oImg1")), ...(await messagesOf(h, "oImg2"))].filter((m) => m.via === "customer_service");
    expect(sent.map((m) => m.msgType)).toEqual(["image", "image"]);
    expect(sent[0].mediaId).toBe(sent[1].mediaId);
    expect(await counter(h, "media/upload")).toBe(1);
    const image = await fetch(`${h.emulatorUrl}/emulator/media/${encodeURIComponent(sent[0].mediaId)}`);
    expect(Buffer.from(await image.arrayBuffer()).equals(png)).toBe(true);

    // Three days on, the id is near its end (the platform's 3 days): the image is uploaded again.
    h.clock.advance(3 * 86_400_000 - 1_800_000);
    await scan(h, "oImg3", channel.qrcode.ticket);
    await dispatcher(h).settle();
    const third = (await messagesOf(h, "oImg3")).filter((m) => m.via === "customer_service");
    expect(third).toHaveLength(1);
    expect(third[0].mediaId).not.toBe(sent[0].mediaId);
    expect(await counter(h, "media/upload")).toBe(2);
  });

  it("sends a channel's follow-up text exactly once when the push's first delivery timed out and the retry got success", async () => {
    const proxy = closeAfter(await startPushProxy());
    // The first attempt's answer is held past the emulator's deadline: WeChat's retry is a duplicate, answered "success".
    proxy.onServiceAnswer = async (push) => {
      if (push.attempt === 1) await new Promise((resolve) => setTimeout(resolve, 600));
    };
    const h = await start({
      push: { timeoutMs: 250 },
      pushUrl: (servicePushUrl) => {
        proxy.target = new URL(servicePushUrl).origin;
        return proxy.pushUrl;
      },
    });
    const channel = await createChannel(h, { name: "门店 A", welcome: WELCOME, followUp: { text: "送您一张优惠券" } });
    expect(channel.followUp).toEqual({ text: "送您一张优惠券" });
    await scan(h, "oLost", channel.qrcode.ticket);
    const delivery = (await h.deliveries("oLost")).at(-1)!;
    expect(delivery.attempts.map((a: Json) => a.error ?? a.status)).toEqual(["timeout", 200]);

    await dispatcher(h).settle();
    await dispatcher(h).settle();
    const messages = await messagesOf(h, "oLost");
    expect(messages.filter((m) => m.via === "passive_reply" && m.msgType === "text")).toEqual([]);
    expect(messages.filter((m) => m.via === "customer_service").map((m) => m.text)).toEqual(["送您一张优惠券"]);
    expect((await followUps(h)).followUps).toMatchObject([{ kind: "text", status: "sent", channelId: channel.id }]);
  });

  it("records 45015 once the window has passed and never retries; a fourth follow-up in one window records 45047", async () => {
    const h = await start();
    const channel = await createChannel(h, { name: "海报", followUp: { text: "谢谢扫码" } });
    await scan(h, "oLate", channel.qrcode.ticket);
    h.clock.advance(120_000);
    expect(await dispatcher(h).settle()).toMatchObject({ attempted: 1, sent: 0, failed: 1 });
    expect((await followUps(h, "?status=failed")).followUps).toMatchObject([{ openId: "oLate", status: "failed", errcode: 45015, attempts: 1 }]);
    h.clock.advance(600_000);
    expect((await dispatcher(h).settle()).attempted).toBe(0);
    expect((await messagesOf(h, "oLate")).filter((m) => m.via === "customer_service")).toEqual([]);
    expect(await counter(h, "message/custom/send")).toBe(1);

    for (let i = 0; i < 4; i++) await scan(h, "oEager", channel.qrcode.ticket);
    await dispatcher(h).settle();
    const rows = (await followUps(h, "?openId=oEager")).followUps.reverse();
    expect(rows.map((r: Json) => [r.status, r.errcode])).toEqual([
      ["sent", null],
      ["sent", null],
      ["sent", null],
      ["failed", 45047],
    ]);
    expect((await dispatcher(h).settle()).attempted).toBe(0);
    const metrics = await h.api("GET", "/metrics");
    expect(metrics.body).toContain('wxqr_follow_up_failures_total{errcode="45047"} 1');
    expect(metrics.body).toContain('wxqr_follow_up_failures_total{errcode="45015"} 1');
    expect(metrics.body).toContain('wxqr_follow_ups_sent_total{kind="text"} 3');
    expect(metrics.body).toContain('wxqr_follow_ups{status="failed"} 2');
  });

  it("retries a transient failure inside the window, and gives up when the next try would fall past it", async () => {
    const h = await start();
    const channel = await createChannel(h, { name: "活动", followUp: { text: "活动详情" } });
    // -1 "system busy" four times: the client's own four attempts of the first try.
    expect((await h.emulatorControl("POST", "/emulator/faults", { path: "/cgi-bin/message/custom/send", errcode: -1, count: 4 })).status).toBe(200);
    await scan(h, "oBusy", channel.qrcode.ticket);
    expect(await dispatcher(h).settle()).toMatchObject({ attempted: 1, failed: 1 });
    const [waiting] = (await followUps(h, "?openId=oBusy")).followUps;
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, errcode: -1 });
    h.clock.advance(Date.parse(waiting.nextAttemptAt) - h.clock.now());
    expect(await dispatcher(h).settle()).toMatchObject({ attempted: 1, sent: 1 });
    expect((await messagesOf(h, "oBusy")).filter((m) => m.via === "customer_service").map((m) => m.text)).toEqual(["活动详情"]);

    // Busy for good: tries follow the backoff until the next would fall past the window, then stop.
    expect((await h.emulatorControl("POST", "/emulator/faults", { path: "/cgi-bin/message/custom/send", errcode: -1, count: 10_000 })).status).toBe(200);
    await scan(h, "oBusy2", channel.qrcode.ticket);
    let row: Json;
    for (let round = 0; round < 20; round++) {
      await dispatcher(h).settle();
      [row] = (await followUps(h, "?openId=oBusy2")).followUps;
      if (row.status !== "pending") break;
      expect(Date.parse(row.nextAttemptAt)).toBeLessThan(Date.parse(row.deadlineAt));
      h.clock.advance(Date.parse(row.nextAttemptAt) - h.clock.now());
    }
    expect(row).toMatchObject({ status: "failed", errcode: -1 });
    expect(row.attempts).toBeGreaterThan(2);
    expect(Date.parse(row.doneAt)).toBeLessThanOrEqual(Date.parse(row.deadlineAt));
    h.clock.advance(3_600_000);
    expect((await dispatcher(h).settle()).attempted).toBe(0);
  });

  it("tags 120 followers of a channel in 3 batchtagging calls, refuses a 101st tag, and re-runs tagging for the missing followers only", async () => {
    const h = await start();
    const channel = await createChannel(h, { name: "广东", tag: "广东门店" });
    expect(channel.tag).toMatchObject({ name: "广东门店", id: expect.any(Number) });
    const openIds = Array.from({ length: 120 }, (_, i) => `oTag${String(i).padStart(3, "0")}`);
    for (const openId of openIds) await scan(h, openId, channel.qrcode.ticket);
    // A second scan by one of them adds no second tagging.
    await scan(h, openIds[0]!, channel.qrcode.ticket);

    expect(await dispatcher(h).settle()).toMatchObject({ sent: 120, failed: 0, tagCalls: 3 });
    expect(await counter(h, "tags/members/batchtagging")).toBe(3);
    const tags = (await h.emulatorControl("GET", "/emulator/tags")).body.tags as Json[];
    expect(tags.find((t) => t.id === channel.tag.id)).toMatchObject({ name: "广东门店", count: 120 });

    // Names are limited in bytes: 11 CJK characters are 33.
    const tooLong = await h.api("PATCH", `/api/channels/${channel.id}`, { tag: "一二三四五六七八九十一" });
    expect(tooLong).toMatchObject({ status: 400, body: { error: "VALIDATION_FAILED", field: "tag" } });
    // The account's other 99 tags, made elsewhere; the 101st is refused with a clear error.
    const client = createWeChatClient(
      { appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET, apiBase: h.emulatorUrl },
      { clock: h.clock, random: createSeededRandom(5), logger: silentLogger, fetch: globalThis.fetch.bind(globalThis) },
    );
    for (let i = 0; i < 99; i++) await client.createTag(`tag ${i}`);
    const other = await createChannel(h, { name: "深圳" });
    const refused = await h.api("PATCH", `/api/channels/${other.id}`, { tag: "第101个" });
    expect(refused).toMatchObject({ status: 409, body: { error: "TAG_LIMIT_REACHED", field: "tag", errcode: 45056 } });
    expect((await h.api("GET", `/api/channels/${other.id}`)).body.tag).toBeNull();
    // An existing tag's name is reused, not created again.
    const shared = await h.api("PATCH", `/api/channels/${other.id}`, { tag: "广东门店" });
    expect(shared.body.tag).toEqual({ name: "广东门店", id: channel.tag.id });

    // Followers who came before the channel had a tag: a re-run tags them, and only them.
    const later = await createChannel(h, { name: "北京" });
    for (const openId of ["oOld1", "oOld2", "oOld3"]) await scan(h, openId, later.qrcode.ticket);
    const tagged = await h.api("PATCH", `/api/channels/${later.id}`, { tag: "tag 7" });
    expect(tagged.status).toBe(200);
    await scan(h, "oNew1", later.qrcode.ticket);
    await dispatcher(h).settle();
    const tagOf = async (): Promise<Json> => ((await h.emulatorControl("GET", "/emulator/tags")).body.tags as Json[]).find((t) => t.name === "tag 7");
    expect((await tagOf()).openIds).toEqual(["oNew1"]);
    const calls = await counter(h, "tags/members/batchtagging");
    const rerun = await h.api("POST", `/api/channels/${later.id}/tag/rerun`);
    expect(rerun).toMatchObject({ status: 202, body: { followers: 4, queued: 3 } });
    expect(await dispatcher(h).settle()).toMatchObject({ sent: 3, tagCalls: 1 });
    expect([...(await tagOf()).openIds].sort()).toEqual(["oNew1", "oOld1", "oOld2", "oOld3"]);
    expect(await counter(h, "tags/members/batchtagging")).toBe(calls + 1);
    // Once more: nobody is missing, nothing is sent.
    expect((await h.api("POST", `/api/channels/${later.id}/tag/rerun`)).body).toMatchObject({ followers: 4, queued: 0 });
    expect((await dispatcher(h).settle()).attempted).toBe(0);
  });

  it("tags the others of a batch when one follower already has 20 tags (45059 recorded on that follower only)", async () => {
    const h = await start();
    const channel = await createChannel(h, { name: "满标签", tag: "新客" });
    for (const openId of ["oFull", "oFine1", "oFine2"]) await scan(h, openId, channel.qrcode.ticket);
    const client = createWeChatClient(
      { appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET, apiBase: h.emulatorUrl },
      { clock: h.clock, random: createSeededRandom(6), logger: silentLogger, fetch: globalThis.fetch.bind(globalThis) },
    );
    for (let i = 0; i < 20; i++) await client.batchTag((await client.createTag(`full ${i}`)).id, ["oFull"]);

    // One refused batch, then one call per follower.
    expect(await dispatcher(h).settle()).toMatchObject({ sent: 2, failed: 1, tagCalls: 4 });
    const rows = (await followUps(h, "?kind=tag")).followUps;
    expect(Object.fromEntries(rows.map((r: Json) => [r.openId, [r.status, r.errcode]]))).toEqual({
      oFull: ["failed", 45059],
      oFine1: ["sent", null],
      oFine2: ["sent", null],
    });
  });

  it("sends in the background as soon as a push commits, with no poll in between", async () => {
    // A poll of an hour: only the wake-up after the commit can send within the test.
    const h = await start({ followUps: { pollMs: 3_600_000 } });
    const channel = await createChannel(h, { name: "即时", followUp: { text: "马上到" } });
    dispatcher(h).start();
    try {
      await scan(h, "oLive", channel.qrcode.ticket);
      // The send follows the wake-up's short pause (100 ms) on the system timer; a busy machine may
      // take longer, so this waits for the effect, bounded well inside the poll of an hour.
      let sent: Json[] = [];
      const deadline = performance.now() + 10_000;
      while (sent.length === 0 && performance.now() < deadline) {
        sent = (await messagesOf(h, "oLive")).filter((m) => m.via === "customer_service");
        if (sent.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(sent.map((m) => m.text)).toEqual(["马上到"]);
    } finally {
      await dispatcher(h).stop();
    }
  });
});
