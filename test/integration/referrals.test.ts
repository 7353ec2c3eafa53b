/**
 * Referrals and the import of existing followers (issue #5, items 1 and 4) over real loopback
 * HTTP, on SQLite and on PostgreSQL: the emulator pushes signed, encrypted events to the
 * service, the service creates personal codes on the emulator's API and reads its follower list
 * (`/cgi-bin/user/get`), and the test reads the results through the REST API. One manual clock
 * is shared by both sides; nothing waits on real time.
 */
import { expect, it } from "vitest";
import { createManualClock, createSeededRandom } from "../../src/deps.ts";
import { pushBatch } from "../../src/domain/push-batch.ts";
import type { AttributedEvent, PushSettings } from "../../src/domain/push-hooks.ts";
import type { PushMessage } from "../../src/push/events.ts";
import { referralHooks } from "../../src/domain/referral-hooks.ts";
import { createReferralService } from "../../src/domain/referrals.ts";
import { createCodeService } from "../../src/domain/codes.ts";
import * as codes from "../../src/store/codes.ts";
import { migrate } from "../../src/store/migrations.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { followPush, scanPush } from "../helpers/pushes.ts";
import { startPushProxy } from "../helpers/push-proxy.ts";
import { AES_KEY, PUSH_TOKEN, type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";

const DAY_MS = 86_400_000;

interface Story {
  a: Json;
  b: Json;
  c: Json;
  d: Json;
}

function describeReferrals(makeFactory: () => DatabaseFactory): void {
  const { start, closeAfter, factory } = serviceHarnesses(makeFactory);

  /** The emulator's user follows the account without a code (a plain subscribe push). */
  async function follow(h: ServiceHarness, openId: string): Promise<void> {
    h.clock.advance(1_000);
    const res = await h.emulatorControl("POST", "/emulator/subscribe", { openId });
    expect(res.body).toMatchObject({ pushed: true, event: "subscribe", delivery: { outcome: "delivered" } });
  }

  async function scan(h: ServiceHarness, openId: string, ticket: string, event: "subscribe" | "SCAN"): Promise<void> {
    h.clock.advance(1_000);
    const res = await h.scan(openId, ticket);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pushed: true, event, delivery: { outcome: "delivered" } });
  }

  async function unsubscribe(h: ServiceHarness, openId: string): Promise<void> {
    h.clock.advance(1_000);
    const res = await h.unsubscribe(openId);
    expect(res.body).toMatchObject({ pushed: true, event: "unsubscribe", delivery: { outcome: "delivered" } });
  }

  async function personalCode(h: ServiceHarness, openId: string): Promise<Json> {
    const res = await h.api("POST", "/api/referrals/codes", { openId });
    expect(res.status).toBe(200);
    expect(res.body.openId).toBe(openId);
    return res.body.qrcode;
  }

  async function follower(h: ServiceHarness, openId: string): Promise<Json> {
    const res = await h.api("GET", `/api/followers/${openId}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function leaders(h: ServiceHarness, query = ""): Promise<Json> {
    const res = await h.api("GET", `/api/referrals/leaderboard${query}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** A → B → C; then B leaves and comes back through C's code; A scans A's own code; D, new, scans D's own code. */
  async function referralStory(h: ServiceHarness): Promise<Story> {
    await follow(h, "oA");
    const a = await personalCode(h, "oA");
    await scan(h, "oB", a.ticket, "subscribe");
    const b = await personalCode(h, "oB");
    await scan(h, "oC", b.ticket, "subscribe");
    const c = await personalCode(h, "oC");
    await unsubscribe(h, "oB");
    await scan(h, "oB", c.ticket, "subscribe");
    await scan(h, "oA", a.ticket, "SCAN");
    const d = await personalCode(h, "oD");
    await scan(h, "oD", d.ticket, "subscribe");
    return { a, b, c, d };
  }

  async function expectReferralStory(h: ServiceHarness, { a, b, d }: Story): Promise<void> {
    expect(await leaders(h)).toEqual({
      leaders: [
        { openId: "oA", invitees: 1 },
        { openId: "oB", invitees: 1 },
      ],
      newMeans: "new-to-wxqr",
    });
    const base = { subscribed: true, imported: false, newMeans: "new-to-wxqr" };
    expect(await follower(h, "oA")).toEqual({ ...base, openId: "oA", source: null, inviter: null, invitees: ["oB"] });
    expect(await follower(h, "oB")).toEqual({ ...base, openId: "oB", source: a.id, inviter: "oA", invitees: ["oC"] });
    expect(await follower(h, "oC")).toEqual({ ...base, openId: "oC", source: b.id, inviter: "oB", invitees: [] });
    expect(await follower(h, "oD")).toEqual({ ...base, openId: "oD", source: d.id, inviter: null, invitees: [] });
  }

  it("counts the chain A → B → C end to end; B's return through C's code, and scans of one's own code, change nothing", async () => {
    const h = await start();
    const story = await referralStory(h);
    expect(story.a).toMatchObject({ type: "permanent", sceneId: expect.any(Number), expiresAt: null, label: "referral: oA" });
    await expectReferralStory(h, story);

    // The personal code is the same on every request.
    expect(await personalCode(h, "oA")).toEqual(story.a);
    expect((await h.api("GET", "/api/followers/nobody")).status).toBe(404);
    expect((await h.api("POST", "/api/referrals/codes", { openId: "not an openid!" })).status).toBe(400);

    // Time filters: the referrals happened within SERVICE_START's day, so the day before holds none.
    const now = h.clock.now();
    expect((await leaders(h, `?from=${now - DAY_MS * 2}&to=${now - DAY_MS}`)).leaders).toEqual([]);
    expect((await leaders(h, "?from=2026-11-25&to=2026-11-25&limit=1")).leaders).toEqual([{ openId: "oA", invitees: 1 }]);
    expect((await leaders(h, "?from=2026-11-26")).leaders).toEqual([]);
    expect((await h.api("GET", "/api/referrals/leaderboard?from=yesterday")).status).toBe(400);
    for (const [query, field] of [
      ["from=2026-13-45", "from"],
      ["to=2026-02-30", "to"],
      ["from=2026-11-25T10:00:00Z&to=2026-02-30T10:00:00Z", "to"],
      ["from=1%202%203", "from"],
    ]) {
      expect(await h.api("GET", `/api/referrals/leaderboard?${query}`)).toMatchObject({ status: 400, body: { error: "VALIDATION_FAILED", field } });
    }
  });

  it("gives the same result when every push is delivered three times", async () => {
    const proxy = await startPushProxy({ failFirst: 2 });
    closeAfter(proxy);
    const h = await start({
      pushUrl: (servicePushUrl) => {
        proxy.target = new URL(servicePushUrl).origin;
        return proxy.pushUrl;
      },
    });
    const story = await referralStory(h);
    // 7 pushes (a follow, 4 subscribes through codes, an unfollow, a SCAN), each answered 3 times by the service.
    expect(proxy.pushes).toHaveLength(21);
    expect(proxy.pushes.every((p) => p.serviceStatus === 200)).toBe(true);
    await expectReferralStory(h, story);

    // And once more, byte for byte, straight to the service.
    for (const push of proxy.pushes.filter((p) => p.attempt === 1)) expect((await proxy.replay(push)).status).toBe(200);
    await expectReferralStory(h, story);
  });

  it("makes one personal code per follower when 20 followers ask twice at once", async () => {
    const h = await start();
    const openIds = Array.from({ length: 20 }, (_, i) => `oF${i}`);
    const asked = await Promise.all([...openIds, ...openIds].map((openId) => h.api("POST", "/api/referrals/codes", { openId })));
    expect(asked.map((r) => r.status)).toEqual(asked.map(() => 200));
    const first = asked.slice(0, 20).map((r) => r.body.qrcode);
    const second = asked.slice(20).map((r) => r.body.qrcode);
    expect(second).toEqual(first);
    expect(new Set(first.map((q) => q.sceneId)).size).toBe(20);
    expect(new Set(first.map((q) => q.id)).size).toBe(20);
    expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"]).toBe(20);

    // Later requests, concurrent again, still get the same codes and ask the platform for nothing.
    const again = await Promise.all(openIds.map((openId) => personalCode(h, openId)));
    expect(again).toEqual(first);
    expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"]).toBe(20);
  });

  it("hands out 30-day temporary codes once the permanent quota is down to the reserve, and renews them when they expire", async () => {
    const h = await start({ permanentQuota: 5, referralPermanentReserve: 3 });
    expect(await personalCode(h, "oP1")).toMatchObject({ type: "permanent", expiresAt: null });
    expect(await personalCode(h, "oP2")).toMatchObject({ type: "permanent", expiresAt: null });
    const temporary = await personalCode(h, "oT");
    expect(temporary).toMatchObject({ type: "temporary", sceneId: expect.any(Number), expiresAt: new Date(h.clock.now() + 30 * DAY_MS).toISOString() });
    expect((await h.api("GET", "/api/quota")).body.permanent).toMatchObject({ used: 2, remaining: 3 });

    // A new follower through the temporary code is a referral like any other.
    await follow(h, "oT");
    await scan(h, "oN", temporary.ticket, "subscribe");
    expect((await follower(h, "oN")).inviter).toBe("oT");

    h.clock.advance(20 * DAY_MS);
    expect(await personalCode(h, "oT")).toEqual(temporary);
    h.clock.advance(10 * DAY_MS);
    const renewed = await personalCode(h, "oT");
    expect(renewed).toMatchObject({ type: "temporary", expiresAt: new Date(h.clock.now() + 30 * DAY_MS).toISOString() });
    expect(renewed.id).not.toBe(temporary.id);
    expect(renewed.ticket).not.toBe(temporary.ticket);
    expect(await personalCode(h, "oT")).toEqual(renewed);
    // Permanent codes never need renewing.
    expect((await personalCode(h, "oP1")).type).toBe("permanent");

    await scan(h, "oN2", renewed.ticket, "subscribe");
    expect((await follower(h, "oT")).invitees).toEqual(["oN", "oN2"]);
  });

  it("imports the followers the account had before, page by page, so they never count as new followers or referrals", async () => {
    const h = await start();
    await follow(h, "oKnown");
    const seeded = Array.from({ length: 7 }, (_, i) => `oOld${i}`);
    expect((await h.emulatorControl("POST", "/emulator/followers", { openIds: seeded })).status).toBe(200);
    expect((await h.emulatorControl("PUT", "/emulator/user-list", { pageSize: 3 })).status).toBe(200);

    expect((await h.api("GET", "/api/followers/oOld0")).status).toBe(404);
    expect((await leaders(h)).newMeans).toBe("new-to-wxqr");

    const imported = await h.api("POST", "/api/followers/import");
    expect(imported.status).toBe(200);
    // 8 followers in pages of 3: 3 + 3 + 2, then the empty page that ends the list.
    expect(imported.body).toEqual({
      imported: 7,
      alreadyKnown: 1,
      total: 8,
      pages: 4,
      importedAt: new Date(h.clock.now()).toISOString(),
      newMeans: "new-to-account",
    });
    expect((await h.emulatorControl("GET", "/emulator/user-list")).body).toEqual({ pageSize: 3, calls: 4 });
    expect(await follower(h, "oOld0")).toEqual({
      openId: "oOld0",
      subscribed: true,
      source: null,
      inviter: null,
      invitees: [],
      imported: true,
      newMeans: "new-to-account",
    });
    expect(await follower(h, "oKnown")).toMatchObject({ imported: false, newMeans: "new-to-account" });
    // A second import finds everyone known.
    expect((await h.api("POST", "/api/followers/import")).body).toMatchObject({ imported: 0, alreadyKnown: 8, total: 8, pages: 4 });

    // Someone who followed after the import but before wxqr saw them, as a control.
    expect((await h.emulatorControl("POST", "/emulator/followers", { openIds: ["oLate"] })).status).toBe(200);

    // The worst case for "new": wxqr misses their unfollows (the pushes go nowhere), then they
    // come back through a channel's code and through a referral code.
    const channel = await h.api("POST", "/api/channels", { name: "poster" });
    expect(channel.status).toBe(201);
    const inviter = await personalCode(h, "oKnown");
    await missPushes(h, async () => {
      for (const openId of ["oOld0", "oOld1", "oLate"]) {
        h.clock.advance(1_000);
        expect((await h.unsubscribe(openId)).body).toMatchObject({ pushed: true, delivery: { outcome: "failed" } });
      }
    });
    await scan(h, "oOld0", channel.body.qrcode.ticket, "subscribe");
    await scan(h, "oOld1", inviter.ticket, "subscribe");
    await scan(h, "oOld2", channel.body.qrcode.ticket, "SCAN");
    const stats = await h.api("GET", `/api/channels/${channel.body.id}/stats`);
    expect(stats.body).toMatchObject({ scans: 2, newFollowers: 0, returningFollowers: 2 });
    expect((await leaders(h)).leaders).toEqual([]);
    expect(await follower(h, "oOld1")).toMatchObject({ subscribed: true, inviter: null, imported: true });

    // The control was not imported, so wxqr takes them for new.
    await scan(h, "oLate", inviter.ticket, "subscribe");
    expect(await follower(h, "oLate")).toMatchObject({ inviter: "oKnown", imported: false });
    expect((await leaders(h)).leaders).toEqual([{ openId: "oKnown", invitees: 1 }]);
  });

  it("records the referral and emits its attributed event in the push's transaction, once", async () => {
    const { db } = await factory().create();
    const clock = createManualClock(Date.UTC(2026, 10, 25, 4));
    const random = createSeededRandom(5);
    await migrate(db);
    await db.transaction((sql) => codes.ensureAccount(sql, { id: "wxR", timeZone: "Asia/Shanghai" }, clock.now()));
    let tickets = 0;
    const qrcodes = {
      createPermanent: async () => ({ type: "permanent" as const, ticket: `T${++tickets}`, url: `http://weixin.qq.com/q/${tickets}` }),
      createTemporary: async () => ({
        type: "temporary" as const,
        ticket: `T${++tickets}`,
        url: `http://weixin.qq.com/q/${tickets}`,
        expiresAt: clock.now() + 30 * DAY_MS,
      }),
      imageUrl: () => "",
      downloadImage: async () => ({ bytes: new Uint8Array(), contentType: "" }),
    };
    const codeService = createCodeService({ db, qrcodes, accountId: "wxR", permanentQuota: 10, clock, random });
    const referrals = createReferralService({
      db,
      codes: codeService,
      accountId: "wxR",
      timeZone: "Asia/Shanghai",
      permanentReserve: 0,
      newMeans: async () => "new-to-wxqr",
      clock,
      random,
    });
    const code = await referrals.codeFor("oA");
    const events: AttributedEvent[] = [];
    const settings: PushSettings = {
      accountId: "wxR",
      timeZone: "Asia/Shanghai",
      owners: { follower: referralHooks },
      outboxRow: (e) => void events.push(e),
    };
    const ingest = async (message: PushMessage): Promise<void> => {
      const [result] = await db.batch([message], pushBatch(settings, clock.now()));
      expect(result?.ok).toBe(true);
    };

    const at = clock.now();
    const pushB = scanPush({ openId: "oB", ticket: code.ticket!, scene: code.sceneId!, subscribe: true, at });
    for (let i = 0; i < 3; i++) await ingest(pushB);
    expect(events.filter((e) => e.kind === "referral")).toEqual([
      { kind: "referral", openId: "oB", at: Math.floor(at / 1000) * 1000, key: pushB.dedupeKey, data: { inviter: "oA", invitee: "oB", qrcodeId: code.id } },
    ]);
    // Re-subscribing, and the owner's own follow through the code, emit no referral.
    await ingest(followPush({ openId: "oB", at: at + 1_000, event: "unsubscribe" }));
    await ingest(scanPush({ openId: "oB", ticket: code.ticket!, scene: code.sceneId!, subscribe: true, at: at + 2_000 }));
    await ingest(scanPush({ openId: "oA", ticket: code.ticket!, scene: code.sceneId!, subscribe: true, at: at + 3_000 }));
    expect(events.filter((e) => e.kind === "referral")).toHaveLength(1);
  });
}

/** Points the emulator's pushes at a closed port while `fn` runs (wxqr misses them), then back at the service. */
async function missPushes(h: ServiceHarness, fn: () => Promise<void>): Promise<void> {
  const service = { token: PUSH_TOKEN, encodingAESKey: AES_KEY, mode: "safe" };
  expect((await h.emulatorControl("PUT", "/emulator/push", { ...service, url: "http://127.0.0.1:9/wechat", maxRetries: 0 })).status).toBe(200);
  try {
    await fn();
  } finally {
    expect((await h.emulatorControl("PUT", "/emulator/push", { ...service, url: h.pushUrl })).status).toBe(200);
  }
}

describeOnBothEngines("referrals suite", describeReferrals);
