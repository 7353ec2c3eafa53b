/**
 * The domain suite, run on SQLite and PostgreSQL: scene allocation, quota, push ingestion with
 * dedupe and channel counters, against the real emulator over HTTP.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createWxqrService } from "../../src/domain/service.ts";
import { QrQuotaExceededError, QuotaExhaustedError, SceneConflictError, StorageUnavailableError } from "../../src/errors.ts";
import { createManualTimer, createSeededRandom, silentLogger } from "../../src/deps.ts";
import type { Database } from "../../src/store/database.ts";
import { openDatabase } from "../../src/store/index.ts";
import { migrate } from "../../src/store/migrations.ts";
import * as followersStore from "../../src/store/followers.ts";
import { faultyDatabase, type DatabaseFactory } from "../helpers/databases.ts";
import { APP_ID, startPlatform, type Platform } from "../helpers/platform.ts";
import { followPush, scanPush } from "../helpers/pushes.ts";
import { toPushMessage } from "../../src/push/events.ts";

export function describeDomain(makeFactory: () => DatabaseFactory): void {
  const factory = makeFactory();
  let platform: Platform | undefined;
  let seed = 0;
  afterAll(() => factory.cleanup());
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  async function setup(o: { emulatorQuota?: number; permanentQuota?: number; wrap?: (db: Database) => Database } = {}) {
    platform = await startPlatform(o.emulatorQuota === undefined ? {} : { permanentQuota: o.emulatorQuota });
    const { db, url } = await factory.create();
    const client = platform.client();
    await migrate(db);
    const service = await createWxqrService(
      {
        db: o.wrap ? o.wrap(db) : db,
        qrcodes: client.qrcodes,
        accountId: APP_ID,
        permanentQuota: o.permanentQuota,
      },
      { clock: platform.clock, random: createSeededRandom(++seed), logger: silentLogger, timer: createManualTimer() },
    );
    return { platform, service, db, url };
  }

  describe(`domain (${factory.name})`, () => {
    it("50 concurrent permanent codes get 50 distinct scene ids, all counted", async () => {
      const { service } = await setup();
      const created = await Promise.all(Array.from({ length: 50 }, () => service.codes.create({ type: "permanent" })));
      expect(new Set(created.map((c) => c.sceneId)).size).toBe(50);
      expect(new Set(created.map((c) => c.ticket)).size).toBe(50);
      expect((await service.codes.quota()).permanent).toEqual({ used: 50, limit: 100_000, remaining: 99_950 });
    });

    it("the platform's quota refusal is returned as a typed error and the count stays exact", async () => {
      const { service } = await setup({ emulatorQuota: 5 });
      for (let i = 0; i < 5; i++) await service.codes.create({ type: "permanent" });
      await expect(service.codes.create({ type: "permanent" })).rejects.toBeInstanceOf(QrQuotaExceededError);
      expect((await service.codes.quota()).permanent.used).toBe(5);
    });

    it("wxqr's own quota stops creation before WeChat is asked", async () => {
      const { service, platform: p } = await setup({ permanentQuota: 3 });
      await Promise.all([1, 2, 3].map(() => service.codes.create({ type: "permanent" })));
      const before = (await p.counters())["qrcode/create"];
      await expect(service.codes.create({ type: "permanent" })).rejects.toBeInstanceOf(QuotaExhaustedError);
      expect((await p.counters())["qrcode/create"]).toBe(before);
    });

    it("a scene held by a live code cannot be taken; an expired temporary one can", async () => {
      const { service, platform: p } = await setup();
      await service.codes.create({ type: "permanent", sceneStr: "shop" });
      await expect(service.codes.create({ type: "permanent", sceneStr: "shop" })).rejects.toBeInstanceOf(SceneConflictError);
      await service.codes.create({ type: "temporary", sceneId: 123_456, expireSeconds: 60 });
      await expect(service.codes.create({ type: "temporary", sceneId: 123_456, expireSeconds: 60 })).rejects.toBeInstanceOf(SceneConflictError);
      p.clock.advance(61_000);
      const again = await service.codes.create({ type: "temporary", sceneId: 123_456, expireSeconds: 60 });
      expect(again.sceneId).toBe(123_456);
    });

    it("holds a temporary scene until the platform's code has surely expired, even when the call was slow", async () => {
      const { service, platform: p } = await setup();
      await p.client().accessToken.get();
      await p.fault("/cgi-bin/qrcode/create", -1, 2); // two retries: the client's backoff moves the clock
      const code = await service.codes.create({ type: "temporary", sceneId: 777_777, expireSeconds: 60 });
      p.clock.set(code.expiresAt!);
      await expect(service.codes.create({ type: "temporary", sceneId: 777_777, expireSeconds: 60 })).rejects.toBeInstanceOf(SceneConflictError);
      p.clock.advance(10_000);
      expect((await service.codes.create({ type: "temporary", sceneId: 777_777, expireSeconds: 60 })).sceneId).toBe(777_777);
    });

    it("a late redelivery does not turn back a follower's newer state", async () => {
      const { service, db, platform: p } = await setup();
      const t = p.clock.now();
      await service.ingest(followPush({ openId: "late", event: "subscribe", at: t }));
      await service.ingest(followPush({ openId: "late", event: "unsubscribe", at: t + 20_000 }));
      await service.ingest(followPush({ openId: "late", event: "subscribe", at: t + 10_000 })); // arrives last, happened before the unfollow
      const follower = await db.read((sql) => followersStore.getFollower(sql, APP_ID, "late"));
      expect(follower).toMatchObject({ subscribed: false, lastSeenAt: t + 20_000 - ((t + 20_000) % 1000), firstSeenAt: t - (t % 1000) });
      expect((await service.events(0, 10)).events).toHaveLength(3);
    });

    it("channel counters: 3 new followers, 1 returning scan, 1 unfollow; welcome replies", async () => {
      const { service, platform: p } = await setup();
      const channel = await service.channels.create({ name: "poster A", welcome: "欢迎关注" });
      const code = channel.qrcode;
      const t0 = p.clock.now();
      const replies = [];
      for (const [i, openId] of ["u1", "u2", "u3"].entries()) {
        const outcome = await service.ingest(scanPush({ openId, ticket: code.ticket!, scene: code.sceneId!, subscribe: true, at: t0 + i * 1000 }));
        replies.push(outcome.replyText);
        expect(outcome.isNewFollower).toBe(true);
      }
      expect(replies).toEqual(["欢迎关注", "欢迎关注", "欢迎关注"]);
      await service.ingest(scanPush({ openId: "u1", ticket: code.ticket!, scene: code.sceneId!, subscribe: false, at: t0 + 10_000 }));
      await service.ingest(followPush({ openId: "u2", event: "unsubscribe", at: t0 + 20_000 }));
      const stats = await service.channels.stats(channel.id, { to: t0 + 60_000 });
      expect(stats).toMatchObject({ scans: 4, uniqueScanners: 3, newFollowers: 3, returningFollowers: 1, unfollows: 1 });
      expect(stats.days).toHaveLength(1);
      expect(stats.days[0]).toMatchObject({ scans: 4, uniqueScanners: 3, newFollowers: 3, returningFollowers: 1, unfollows: 1 });
    });

    it("a push that fails inside a batch adds nothing to the channel's counters; the others in the batch count once each", async () => {
      // The failure comes after the push's hooks have run: what they added must not be written.
      const failAfterHooks = (db: Database): Database => ({
        dialect: db.dialect,
        transaction: (fn) => db.transaction(fn),
        read: (fn) => db.read(fn),
        close: () => db.close(),
        batch: (items, work) => {
          const bad = (item: unknown): boolean => (item as { openId?: string }).openId === "bad";
          const all = work.all?.bind(work);
          return db.batch(items, {
            ...work,
            // The set-wise run fails as a whole (then each push runs on its own): after all its pushes' hooks.
            ...(all
              ? {
                  async all(sql, batch) {
                    const values = await all(sql, batch);
                    if (batch.some(bad)) throw new Error("injected failure");
                    return values;
                  },
                }
              : {}),
            async item(sql, item) {
              const value = await work.item(sql, item);
              if (bad(item)) throw new Error("injected failure");
              return value;
            },
          });
        },
      });
      const { service, platform: p } = await setup({ wrap: failAfterHooks });
      const channel = await service.channels.create({ name: "one bad push" });
      const t = p.clock.now();
      const push = (openId: string) =>
        service.ingest(scanPush({ openId, ticket: channel.qrcode.ticket!, scene: channel.qrcode.sceneId!, subscribe: true, at: t }));
      const outcomes = await Promise.allSettled(["g1", "g2", "bad", "g3", "g1"].map(push));
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
      expect(await service.channels.stats(channel.id)).toMatchObject({ scans: 3, uniqueScanners: 3, newFollowers: 3, returningFollowers: 0 });
      expect((await service.events(0, 10)).events.map((e) => e.openId)).toEqual(["g1", "g2", "g3"]);
    });

    it("the same push delivered 3 times has one effect", async () => {
      const { service, platform: p } = await setup();
      const channel = await service.channels.create({ name: "retry" });
      const push = scanPush({ openId: "r1", ticket: channel.qrcode.ticket!, scene: channel.qrcode.sceneId!, subscribe: true, at: p.clock.now() });
      const outcomes = await Promise.all([service.ingest(push), service.ingest(push), service.ingest(push)]);
      expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
      expect(await service.ingest(push)).toEqual({ duplicate: true });
      const stats = await service.channels.stats(channel.id);
      expect(stats).toMatchObject({ scans: 1, newFollowers: 1 });
      expect((await service.events(0, 100)).events).toHaveLength(1);
    });

    it("many concurrent pushes share commits and are all recorded", async () => {
      const { service, platform: p } = await setup();
      const channel = await service.channels.create({ name: "busy" });
      const t = p.clock.now();
      await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          service.ingest(scanPush({ openId: `b${i}`, ticket: channel.qrcode.ticket!, scene: channel.qrcode.sceneId!, subscribe: true, at: t })),
        ),
      );
      expect(await service.channels.stats(channel.id)).toMatchObject({ scans: 300, uniqueScanners: 300, newFollowers: 300 });
    });

    it("attributes by scene when the ticket is unknown, and logs pushes for unknown codes", async () => {
      const { service, platform: p } = await setup();
      const channel = await service.channels.create({ name: "by scene" });
      await service.ingest(scanPush({ openId: "s1", scene: channel.qrcode.sceneId!, subscribe: true, at: p.clock.now() }));
      await service.ingest(scanPush({ openId: "s2", ticket: "gQunknown", scene: "never-created", subscribe: true, at: p.clock.now() }));
      expect((await service.channels.stats(channel.id)).scans).toBe(1);
      const { events } = await service.events(0, 10);
      expect(events.map((e) => [e.openId, e.qrcodeId === null])).toEqual([
        ["s1", false],
        ["s2", true],
      ]);
    });

    it("the scan log keeps Event and EventKey as sent: an empty EventKey apart from none, a message without either", async () => {
      const { service, platform: p } = await setup();
      const createTime = String(Math.floor(p.clock.now() / 1000));
      const push = (openId: string, fields: Record<string, string>) =>
        service.ingest(toPushMessage({ ToUserName: "gh_test", FromUserName: openId, CreateTime: createTime, MsgType: "event", ...fields }, false));
      await push("k1", { Event: "subscribe", EventKey: "" });
      await push("k2", { Event: "subscribe" });
      await push("k3", { Event: "SCAN", EventKey: "9" });
      await push("k4", { MsgType: "text", Content: "hi", MsgId: "42" });
      const { events } = await service.events(0, 10);
      expect(events.map((e) => [e.openId, e.kind, e.event, e.eventKey])).toEqual([
        ["k1", "subscribe", "subscribe", ""],
        ["k2", "subscribe", "subscribe", null],
        ["k3", "scan", "SCAN", "9"],
        ["k4", "other", null, null],
      ]);
    });

    it("cuts days in the account's time zone (Asia/Shanghai) and counts distinct scanners over a range", async () => {
      const { service } = await setup();
      const channel = await service.channels.create({ name: "days" });
      const code = channel.qrcode;
      // 15:59 and 16:01 UTC are 23:59 and 00:01 in Shanghai: two days.
      const late = Date.UTC(2026, 10, 26, 15, 59);
      const early = Date.UTC(2026, 10, 26, 16, 1);
      await service.ingest(scanPush({ openId: "d1", ticket: code.ticket!, scene: code.sceneId!, subscribe: true, at: late }));
      await service.ingest(scanPush({ openId: "d1", ticket: code.ticket!, scene: code.sceneId!, subscribe: false, at: early }));
      await service.ingest(scanPush({ openId: "d2", ticket: code.ticket!, scene: code.sceneId!, subscribe: true, at: early }));
      const stats = await service.channels.stats(channel.id, { from: late, to: early });
      expect(stats.days.map((d) => [d.date, d.scans, d.uniqueScanners])).toEqual([
        ["2026-11-26", 1, 1],
        ["2026-11-27", 2, 2],
      ]);
      expect(stats.uniqueScanners).toBe(2);
      expect(stats.scans).toBe(3);
    });

    it("two instances on one database never count one person as new twice", async () => {
      const { service, platform: p, url } = await setup();
      const other = openDatabase(url);
      try {
        const second = await createWxqrService(
          { db: other, qrcodes: p.client().qrcodes, accountId: APP_ID },
          { clock: p.clock, random: createSeededRandom(++seed), logger: silentLogger, timer: createManualTimer() },
        );
        const x = await service.channels.create({ name: "x" });
        const y = await service.channels.create({ name: "y" });
        const t = p.clock.now();
        const people = Array.from({ length: 60 }, (_, i) => `twice${i}`);
        await Promise.all(
          people.flatMap((openId) => [
            service.ingest(scanPush({ openId, ticket: x.qrcode.ticket!, scene: x.qrcode.sceneId!, subscribe: true, at: t })),
            second.ingest(scanPush({ openId, ticket: y.qrcode.ticket!, scene: y.qrcode.sceneId!, subscribe: true, at: t + 1000 })),
          ]),
        );
        const counted = (await service.channels.stats(x.id)).newFollowers + (await service.channels.stats(y.id)).newFollowers;
        expect(counted).toBe(people.length);
      } finally {
        await other.close();
      }
    });

    it("a NUL or other control character in a stored text is refused before storage, naming the field, on either engine", async () => {
      const { service } = await setup();
      const refused = async (p: Promise<unknown>, field: string): Promise<void> => {
        await expect(p).rejects.toMatchObject({ code: "VALIDATION_FAILED", field });
      };
      await refused(service.channels.create({ name: "poster\u0000A" }), "name");
      await refused(service.channels.create({ name: "line\nbreak" }), "name");
      await refused(service.codes.create({ type: "temporary", label: "\u0000" }), "label");
      await refused(service.codes.create({ type: "temporary", sceneStr: "shop\u0000" }), "sceneStr");
      expect(await service.channels.list()).toEqual({ channels: [], total: 0 });
      expect((await service.codes.quota()).permanent.used).toBe(0);
    });

    it("a push whose CreateTime is no instant never reaches storage: reading it refuses it", () => {
      const fields = { ToUserName: "gh_test", FromUserName: "oFar", CreateTime: "999999999999999", MsgType: "event", Event: "subscribe", EventKey: "" };
      expect(() => toPushMessage(fields, false)).toThrow(expect.objectContaining({ code: "PUSH_MALFORMED", field: "CreateTime" }));
    });

    it("a push while storage is down fails; its redelivery after recovery counts once", async () => {
      let faulty: ReturnType<typeof faultyDatabase> | undefined;
      const { service, platform: p } = await setup({ wrap: (db) => (faulty = faultyDatabase(db)) });
      const channel = await service.channels.create({ name: "outage" });
      const push = scanPush({ openId: "f1", ticket: channel.qrcode.ticket!, scene: channel.qrcode.sceneId!, subscribe: true, at: p.clock.now() });
      faulty!.down = true;
      await expect(service.ingest(push)).rejects.toBeInstanceOf(StorageUnavailableError);
      faulty!.down = false;
      expect((await service.ingest(push)).duplicate).toBe(false);
      expect((await service.ingest(push)).duplicate).toBe(true);
      expect(await service.channels.stats(channel.id)).toMatchObject({ scans: 1, newFollowers: 1 });
    });
  });
}
