/**
 * The store contract: what every Database must do, run against SQLite and PostgreSQL
 * (undici's cacheStoreTests pattern).
 */
import { afterAll, describe, expect, it } from "vitest";
import * as codes from "../../src/store/codes.ts";
import * as followers from "../../src/store/followers.ts";
import { migrate, MIGRATIONS } from "../../src/store/migrations.ts";
import type { DatabaseFactory } from "../helpers/databases.ts";

export function describeStore(makeFactory: () => DatabaseFactory): void {
  const factory = makeFactory();
  afterAll(() => factory.cleanup());

  async function fresh() {
    const { db } = await factory.create();
    await migrate(db);
    await db.transaction((sql) => codes.ensureAccount(sql, { id: "wxA", timeZone: "Asia/Shanghai" }, 0));
    return db;
  }

  describe(`store contract (${factory.name})`, () => {
    it("migrates once, and again is a no-op", async () => {
      const { db } = await factory.create();
      expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(db)).toEqual([]);
    });

    it("commits a transaction and rolls back a failed one", async () => {
      const db = await fresh();
      await db.transaction((sql) => codes.ensureAccount(sql, { id: "wxB", timeZone: "UTC" }, 1));
      await expect(
        db.transaction(async (sql) => {
          await codes.ensureAccount(sql, { id: "wxC", timeZone: "UTC" }, 1);
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await db.read((sql) => codes.getAccount(sql, "wxB"))).toMatchObject({ id: "wxB", timeZone: "UTC", permanentUsed: 0 });
      expect(await db.read((sql) => codes.getAccount(sql, "wxC"))).toBeUndefined();
    });

    it("a batch commits the good items and rolls back only the bad one", async () => {
      const db = await fresh();
      const results = await db.batch(["k1", "bad", "k2"], {
        async item(sql, key) {
          await followers.appendPushLog(sql, log(key));
          if (key === "bad") throw new Error("item failed");
          return key;
        },
      });
      expect(results.map((r) => r.ok)).toEqual([true, false, true]);
      const rows = await db.read((sql) => followers.listPushLog(sql, "wxA", 0, 10));
      expect(rows.map((r) => r.dedupeKey)).toEqual(["k1", "k2"]);
    });

    it("a batch runs `begin` before its items and `end` after them, with the values of the items that succeeded only", async () => {
      const db = await fresh();
      const results = await db.batch(["k1", "bad", "k2"], {
        begin: async (sql, items) => void (await followers.appendPushLog(sql, log(`begin:${items.join(",")}`))),
        async item(sql, key) {
          await followers.appendPushLog(sql, log(key));
          if (key === "bad") throw new Error("item failed");
          return key;
        },
        end: async (sql, values) => void (await followers.appendPushLog(sql, log(`end:${values.join(",")}`))),
      });
      expect(results.map((r) => r.ok)).toEqual([true, false, true]);
      const rows = await db.read((sql) => followers.listPushLog(sql, "wxA", 0, 10));
      expect(rows.map((r) => r.dedupeKey)).toEqual(["begin:k1,bad,k2", "k1", "k2", "end:k1,k2"]);
    });

    it("a read is not held up by a write transaction in progress, and sees only committed rows", async () => {
      const db = await fresh();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const writing = db.transaction(async (sql) => {
        await followers.appendPushLog(sql, log("in-flight"));
        await held;
      });
      expect(await db.read((sql) => followers.countPushLog(sql, "wxA"))).toBe(0);
      release();
      await writing;
      expect(await db.read((sql) => followers.countPushLog(sql, "wxA"))).toBe(1);
    });

    it("the push log refuses a second row with the same dedupe key", async () => {
      const db = await fresh();
      expect(await db.transaction((sql) => followers.appendPushLog(sql, log("same")))).toBe(true);
      expect(await db.transaction((sql) => followers.appendPushLog(sql, log("same")))).toBe(false);
      expect(await db.read((sql) => followers.countPushLog(sql, "wxA"))).toBe(1);
    });

    it("concurrent reservations of one scene: exactly one wins", async () => {
      const db = await fresh();
      const wins = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.transaction((sql) => codes.reserveScene(sql, { accountId: "wxA", key: "id:7", qrcodeId: `q${i}`, permanent: true, expiresAt: null }, 0)),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it("an expired temporary scene can be taken again; a live one cannot", async () => {
      const db = await fresh();
      const reserve = (id: string, now: number) =>
        db.transaction((sql) => codes.reserveScene(sql, { accountId: "wxA", key: "str:t", qrcodeId: id, permanent: false, expiresAt: now + 1000 }, now));
      expect(await reserve("a", 0)).toBe(true);
      expect(await reserve("b", 999)).toBe(false);
      expect(await reserve("b", 1000)).toBe(true);
    });

    it("permanent quota and scene sequence are atomic under concurrency", async () => {
      const db = await fresh();
      const taken = await Promise.all(Array.from({ length: 30 }, () => db.transaction((sql) => codes.takePermanentQuota(sql, "wxA", 10))));
      expect(taken.filter(Boolean)).toHaveLength(10);
      const ids = await Promise.all(Array.from({ length: 30 }, () => db.transaction((sql) => codes.nextPermanentSceneId(sql, "wxA"))));
      expect(new Set(ids).size).toBe(30);
      expect(Math.min(...ids)).toBe(1);
    });

    it("stores epoch milliseconds beyond 32 bits exactly", async () => {
      const db = await fresh();
      const t = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
      await db.transaction((sql) =>
        followers.saveFollower(sql, {
          accountId: "wxA",
          openId: "o1",
          subscribed: true,
          sourceQrcodeId: null,
          firstSeenAt: t,
          lastSeenAt: t,
          subscribedAt: t,
          unsubscribedAt: null,
        }),
      );
      expect(await db.read((sql) => followers.getFollower(sql, "wxA", "o1"))).toMatchObject({ firstSeenAt: t, subscribed: true, unsubscribedAt: null });
    });
  });
}

function log(dedupeKey: string): followers.PushLogRow {
  return {
    accountId: "wxA",
    dedupeKey,
    kind: "other",
    openId: "o",
    event: null,
    eventKey: null,
    ticket: null,
    scene: null,
    qrcodeId: null,
    isNewFollower: null,
    createTimeSec: 1,
    receivedAt: 1,
  };
}
