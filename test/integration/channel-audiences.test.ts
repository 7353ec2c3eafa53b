/**
 * Replies by audience, schedule and pause (issue #13, deliverables 3 and 4) over real loopback
 * HTTP, on SQLite and on PostgreSQL: the emulator acts as users scanning a channel's code, and its
 * chat log (`/emulator/users/:openId/messages`) shows what each user saw. The service and the
 * emulator share one manual clock, so the schedule is crossed by moving it.
 */
import { expect, it } from "vitest";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";

const WELCOME = "欢迎关注 {channel}！";
const REPLIES = { newFollower: "新朋友你好", returningFollower: "欢迎回来", follower: "又见面了（{scene}）" };
const HOUR = 3_600_000;

async function createChannel(h: ServiceHarness, body: Json): Promise<Json> {
  const res = await h.api("POST", "/api/channels", body);
  expect(res.status).toBe(201);
  return res.body;
}

async function patch(h: ServiceHarness, id: string, body: Json): Promise<Json> {
  const res = await h.api("PATCH", `/api/channels/${id}`, body);
  expect(res.status).toBe(200);
  return res.body;
}

async function channel(h: ServiceHarness, id: string): Promise<Json> {
  return (await h.api("GET", `/api/channels/${id}`)).body;
}

/** Scans `ticket` as `openId`, a second after the push before (distinct dedupe keys). */
async function scan(h: ServiceHarness, openId: string, ticket: string): Promise<void> {
  h.clock.advance(1_000);
  expect((await h.scan(openId, ticket)).status).toBe(200);
}

async function unsubscribe(h: ServiceHarness, openId: string): Promise<void> {
  h.clock.advance(1_000);
  expect((await h.unsubscribe(openId)).status).toBe(200);
}

/** What the user saw in the chat, by the way it came. */
async function seen(h: ServiceHarness, openId: string, via: "passive_reply" | "customer_service"): Promise<string[]> {
  const res = await h.emulatorControl("GET", `/emulator/users/${encodeURIComponent(openId)}/messages`);
  expect(res.status).toBe(200);
  return (res.body.messages as Json[]).filter((m) => m.via === via).map((m) => m.text ?? m.msgType);
}

describeOnBothEngines("channel replies by audience, schedule and pause", (makeFactory: () => DatabaseFactory) => {
  const { start } = serviceHarnesses(makeFactory);

  it("answers a new follower, a returning follower and a follower who scans each with their own text", async () => {
    const h = await start();
    const c = await createChannel(h, { name: "门店 A", welcome: WELCOME, replies: REPLIES });
    expect(c).toMatchObject({ replies: REPLIES, status: "active", paused: false, startsAt: null, endsAt: null });
    const scene = String(c.qrcode.sceneId);

    await scan(h, "oNew", c.qrcode.ticket); // subscribe: never seen
    await scan(h, "oNew", c.qrcode.ticket); // SCAN: follows already
    await unsubscribe(h, "oNew");
    await scan(h, "oNew", c.qrcode.ticket); // subscribe again: returning
    expect(await seen(h, "oNew", "passive_reply")).toEqual(["新朋友你好", `又见面了（${scene}）`, "欢迎回来"]);

    // The counters are those of any channel: three scans, one new follower, two others, one unfollow.
    expect((await channel(h, c.id)).today).toEqual({ scans: 3, uniqueScanners: 1, newFollowers: 1, returningFollowers: 2, unfollows: 1 });
    // A change names only the audiences it changes; the others keep their texts.
    expect((await patch(h, c.id, { replies: { follower: null } })).replies).toEqual({ ...REPLIES, follower: null });
  });

  it("falls back to the welcome, placeholders filled, for an audience without its own text", async () => {
    const h = await start();
    const c = await createChannel(h, { name: "海报 B", welcome: WELCOME, replies: { follower: "{x} {scene} @ {channel}" } });
    expect(c.replies).toEqual({ newFollower: null, returningFollower: null, follower: "{x} {scene} @ {channel}" });
    await scan(h, "oB", c.qrcode.ticket);
    await unsubscribe(h, "oB");
    await scan(h, "oB", c.qrcode.ticket);
    await scan(h, "oB", c.qrcode.ticket);
    expect(await seen(h, "oB", "passive_reply")).toEqual(["欢迎关注 海报 B！", "欢迎关注 海报 B！", `{x} ${c.qrcode.sceneId} @ 海报 B`]);

    // Cleared texts (null or "") fall back again; with no welcome either, nothing is said.
    const cleared = await patch(h, c.id, { welcome: null, replies: { follower: "" } });
    expect(cleared.replies).toEqual({ newFollower: null, returningFollower: null, follower: null });
    await scan(h, "oB", c.qrcode.ticket);
    await scan(h, "oOther", c.qrcode.ticket);
    expect(await seen(h, "oB", "passive_reply")).toHaveLength(3);
    expect(await seen(h, "oOther", "passive_reply")).toEqual([]);
  });

  it("counts a paused channel's scans and tags its scanners, but sends no reply and no follow-up; resumed, it answers again", async () => {
    const h = await start({ followUps: {} });
    const c = await createChannel(h, { name: "暂停", welcome: "你好", followUp: { text: "送您一张优惠券" }, tag: "暂停渠道" });
    const paused = await patch(h, c.id, { paused: true });
    expect(paused).toMatchObject({ paused: true, status: "paused" });

    await scan(h, "oP1", c.qrcode.ticket);
    await scan(h, "oP2", c.qrcode.ticket);
    await h.service.followUps!.dispatcher.settle();
    for (const openId of ["oP1", "oP2"]) {
      expect(await seen(h, openId, "passive_reply")).toEqual([]);
      expect(await seen(h, openId, "customer_service")).toEqual([]);
    }
    expect((await channel(h, c.id)).today).toMatchObject({ scans: 2, uniqueScanners: 2, newFollowers: 2 });
    const events = (await h.api("GET", "/api/events")).body.events as Json[];
    expect(events.filter((e) => e.openId === "oP1" || e.openId === "oP2")).toHaveLength(2);
    // The tag records where they came from: attribution, not a message.
    const tags = (await h.emulatorControl("GET", "/emulator/tags")).body.tags as Json[];
    expect(tags.find((t) => t.id === c.tag.id)).toMatchObject({ name: "暂停渠道", count: 2 });

    expect(await patch(h, c.id, { paused: false })).toMatchObject({ paused: false, status: "active" });
    await scan(h, "oP1", c.qrcode.ticket);
    await h.service.followUps!.dispatcher.settle();
    expect(await seen(h, "oP1", "passive_reply")).toEqual(["你好"]);
    expect(await seen(h, "oP1", "customer_service")).toEqual(["送您一张优惠券"]);
    expect((await channel(h, c.id)).today.scans).toBe(3);
  });

  it("is scheduled before its start and ended from its end, answering only in between, and counts every scan", async () => {
    const h = await start();
    const startsAt = h.clock.now() + 2 * HOUR;
    const endsAt = startsAt + 24 * HOUR;
    const c = await createChannel(h, { name: "活动", welcome: "活动进行中", startsAt, endsAt });
    expect(c).toMatchObject({ startsAt, endsAt, status: "scheduled" });

    await scan(h, "oEarly", c.qrcode.ticket);
    expect(await seen(h, "oEarly", "passive_reply")).toEqual([]);

    h.clock.set(startsAt);
    expect((await channel(h, c.id)).status).toBe("active");
    await scan(h, "oOnTime", c.qrcode.ticket);
    expect(await seen(h, "oOnTime", "passive_reply")).toEqual(["活动进行中"]);

    h.clock.set(endsAt - 1_000);
    expect((await channel(h, c.id)).status).toBe("active");
    await scan(h, "oLate", c.qrcode.ticket); // at endsAt: the end is exclusive
    expect(await seen(h, "oLate", "passive_reply")).toEqual([]);
    expect((await channel(h, c.id)).status).toBe("ended");
    // A pause does not hide the end, nor does resuming bring it back.
    expect((await patch(h, c.id, { paused: true })).status).toBe("ended");
    expect((await patch(h, c.id, { paused: false })).status).toBe("ended");

    const stats = (await h.api("GET", `/api/channels/${c.id}/stats`)).body;
    expect(stats).toMatchObject({ scans: 3, uniqueScanners: 3, newFollowers: 3 });
    // Clearing the end makes it active again.
    expect((await patch(h, c.id, { endsAt: null })).status).toBe("active");
  });

  it("lists each channel with its status, and sends the follow-up only to the audiences it names", async () => {
    const h = await start({ followUps: {} });
    const now = h.clock.now();
    await createChannel(h, { name: "c1" });
    await createChannel(h, { name: "c2", startsAt: now + HOUR });
    await patch(h, (await createChannel(h, { name: "c3" })).id, { paused: true });
    await createChannel(h, { name: "c4", startsAt: now - 2 * HOUR, endsAt: now - HOUR });
    const list = (await h.api("GET", "/api/channels?sort=name")).body.channels as Json[];
    expect(list.map((c) => [c.name, c.status])).toEqual([
      ["c1", "active"],
      ["c2", "scheduled"],
      ["c3", "paused"],
      ["c4", "ended"],
    ]);

    const c = await createChannel(h, { name: "新人礼", followUp: { text: "新人券" }, followUpAudiences: ["newFollower"] });
    expect(c.followUpAudiences).toEqual(["newFollower"]);
    await scan(h, "oF", c.qrcode.ticket);
    await scan(h, "oF", c.qrcode.ticket);
    await h.service.followUps!.dispatcher.settle();
    expect(await seen(h, "oF", "customer_service")).toEqual(["新人券"]);
    expect((await patch(h, c.id, { followUpAudiences: null })).followUpAudiences).toBeNull();
    await scan(h, "oF", c.qrcode.ticket);
    await h.service.followUps!.dispatcher.settle();
    expect(await seen(h, "oF", "customer_service")).toEqual(["新人券", "新人券"]);
  });

  it("refuses a reply text, a schedule or a pause that breaks the rules, naming the field", async () => {
    const h = await start();
    const refused = async (method: string, path: string, body: Json, field: string): Promise<void> => {
      const res = await h.api(method, path, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: "VALIDATION_FAILED", field });
    };
    await refused("POST", "/api/channels", { name: "x", replies: { newFollower: "tab\there" } }, "replies.newFollower");
    await refused("POST", "/api/channels", { name: "x", replies: { follower: "长".repeat(601) } }, "replies.follower");
    await refused("POST", "/api/channels", { name: "x", startsAt: 2_000, endsAt: 1_000 }, "endsAt");
    await refused("POST", "/api/channels", { name: "x", followUpAudiences: [] }, "followUpAudiences");
    const c = await createChannel(h, { name: "x", startsAt: h.clock.now() + HOUR });
    await refused("PATCH", `/api/channels/${c.id}`, { endsAt: h.clock.now() }, "endsAt");
    await refused("PATCH", `/api/channels/${c.id}`, { paused: "yes" }, "paused");
    expect(await h.api("PATCH", `/api/channels/${c.id}`, { replies: { everyone: "hi" } })).toMatchObject({ status: 400, body: { error: "VALIDATION_FAILED" } });
    // Nothing of the refused changes was stored.
    expect(await channel(h, c.id)).toMatchObject({ endsAt: null, paused: false, replies: { newFollower: null, returningFollower: null, follower: null } });
  });
});
