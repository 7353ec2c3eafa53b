/**
 * The database-backed token store's contract on both engines: compare-and-expire, and a refresh
 * lease that exactly one of many concurrent holders gets (several store objects on one database
 * stand for several processes).
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { TokenStore } from "../../src/wechat/token-store.ts";
import { migrate } from "../../src/store/migrations.ts";
import { PostgresDatabase } from "../../src/store/postgres-database.ts";
import { createDatabaseTokenStore } from "../../src/store/token-store.ts";
import { announcePostgres, databaseFactories, markPostgresRan } from "../helpers/databases.ts";

// The database store is a wechat TokenStore: this assignment is the compile-time check.
const asTokenStore = (store: ReturnType<typeof createDatabaseTokenStore>): TokenStore => store;

// Says loudly (or fails in CI) when the PostgreSQL half cannot run.
announcePostgres("token store (PostgreSQL)");
let postgresTests = 0;

for (const makeFactory of databaseFactories()) {
  const factory = makeFactory();
  describe(`database token store (${factory.name})`, () => {
    afterAll(() => factory.cleanup());
    if (factory.name === "postgres") {
      afterEach(() => {
        postgresTests++;
      });
      afterAll(() => markPostgresRan("token-store-postgres", postgresTests));
    }

    async function fresh() {
      const created = await factory.create();
      await migrate(created.db);
      return created;
    }

    it("stores, replaces and reads a token; keys are independent", async () => {
      const { db } = await fresh();
      const store = asTokenStore(createDatabaseTokenStore(db));
      expect(await store.get("wxA:stable")).toBeUndefined();
      await store.set("wxA:stable", { token: "A", expiresAt: 10 });
      await store.set("wxA:stable", { token: "B", expiresAt: 20 });
      await store.set("wxA:classic", { token: "C", expiresAt: 30 });
      expect(await store.get("wxA:stable")).toEqual({ token: "B", expiresAt: 20 });
      expect(await store.get("wxA:classic")).toEqual({ token: "C", expiresAt: 30 });
    });

    it("expires a token only while it is still the stored one", async () => {
      const { db } = await fresh();
      const store = createDatabaseTokenStore(db);
      await store.set("k", { token: "A", expiresAt: 10 });
      await store.set("k", { token: "B", expiresAt: 20 });
      expect(await store.expireIfEqual("k", "A")).toBe(false);
      expect((await store.get("k"))?.token).toBe("B");
      expect(await store.expireIfEqual("k", "B")).toBe(true);
      expect(await store.get("k")).toBeUndefined();
      expect(await store.expireIfEqual("k", "B")).toBe(false);
      expect(await store.expireIfEqual("missing", "B")).toBe(false);
    });

    it("grants the lease to one holder until it is released or runs out; the token survives lease changes", async () => {
      const { db } = await fresh();
      const store = createDatabaseTokenStore(db);
      expect(await store.acquireLease("k", "p1", 0, 100)).toBe(true);
      expect(await store.acquireLease("k", "p1", 10, 110)).toBe(true); // its own lease: extended
      expect(await store.acquireLease("k", "p2", 50, 150)).toBe(false);
      await store.set("k", { token: "T", expiresAt: 999 });
      expect(await store.acquireLease("k", "p2", 110, 200)).toBe(true); // p1's ran out
      await store.releaseLease("k", "p1"); // not p1's any more: no effect
      expect(await store.acquireLease("k", "p1", 150, 250)).toBe(false);
      await store.releaseLease("k", "p2");
      expect(await store.acquireLease("k", "p1", 150, 250)).toBe(true);
      expect(await store.get("k")).toEqual({ token: "T", expiresAt: 999 });
    });

    it("of 50 holders racing for a free lease (on separate connections), exactly one gets it", async () => {
      const { db, url } = await fresh();
      // On PostgreSQL, separate pools: the race is between connections, as between processes.
      const extra = factory.name === "postgres" ? Array.from({ length: 4 }, () => new PostgresDatabase({ connectionString: url })) : [];
      try {
        const stores = [db, ...extra].map(createDatabaseTokenStore);
        for (let round = 0; round < 3; round++) {
          const now = round * 1_000;
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => stores[i % stores.length]!.acquireLease("race", `h${round}-${i}`, now, now + 500)),
          );
          expect(results.filter(Boolean)).toHaveLength(1);
        }
      } finally {
        await Promise.all(extra.map((d) => d.close()));
      }
    });

    it("of 50 concurrent compare-and-expires of one token, exactly one succeeds", async () => {
      const { db } = await fresh();
      const store = createDatabaseTokenStore(db);
      await store.set("k", { token: "old", expiresAt: 1 });
      const results = await Promise.all(Array.from({ length: 50 }, () => store.expireIfEqual("k", "old")));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
