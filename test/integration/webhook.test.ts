/**
 * The business webhook end to end, on both engines: pushes recorded by the service write outbox
 * rows in their own transaction; the dispatcher POSTs them to a real receiver on loopback, which
 * is down, then failing, then up. Every event arrives, none twice, in order per follower, with
 * the same idempotency key on every attempt and a signature `verifyWebhookSignature` accepts; the
 * outbox outlives the service. One manual clock: backoff waits are `clock.sleep`s, never real.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createManualClock, createManualTimer, createSeededRandom, silentLogger, type ManualClock } from "../../src/deps.ts";
import { createWxqrService, type WebhookDispatcher, type WxqrService } from "../../src/domain/index.ts";
import { verifyWebhookSignature } from "../../src/index.ts";
import { createPushReceiver } from "../../src/push/index.ts";
import { buildServer, closeServer } from "../../src/server/app.ts";
import type { Database } from "../../src/store/database.ts";
import { migrate } from "../../src/store/migrations.ts";
import { followerOutbox } from "../../src/store/outbox.ts";
import { PostgresDatabase } from "../../src/store/postgres-database.ts";
import { SqliteDatabase } from "../../src/store/sqlite-database.ts";
import { announcePostgres, databaseFactories, markPostgresRan, type DatabaseFactory } from "../helpers/databases.ts";
import { followPush, scanPush } from "../helpers/pushes.ts";
import { metricValue } from "../helpers/service.ts";
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from "../helpers/webhook-receiver.ts";

const ACCOUNT = "wxwebhook000000001";
const SECRET = "whsec-for-tests-0123456789abcdef";
const ADMIN = "admin-token-for-tests-0123456789";
const START = Date.UTC(2026, 10, 25, 4, 0, 0);
const FOLLOWERS = ["oA", "oB", "oC", "oD", "oE"];
// Per follower: subscribe through a code (scan + new_follower), a later scan, an unfollow.
const TYPES_PER_FOLLOWER = ["scan", "new_follower", "scan", "unfollow"];

announcePostgres("webhook (PostgreSQL)");

function reopen(factory: DatabaseFactory, url: string): Database {
  return factory.name === "sqlite" ? new SqliteDatabase({ file: url.slice("sqlite:".length) }) : new PostgresDatabase({ connectionString: url });
}

async function startService(db: Database, clock: ManualClock, receiver: WebhookReceiver, seed: number): Promise<WxqrService & { webhook: WebhookDispatcher }> {
  await migrate(db);
  const service = await createWxqrService(
    { db, accountId: ACCOUNT, webhook: { url: receiver.url, secret: SECRET, timeoutMs: 5_000 } },
    { clock, random: createSeededRandom(seed), logger: silentLogger, timer: createManualTimer(), fetch: globalThis.fetch.bind(globalThis) },
  );
  if (!service.webhook) throw new Error("webhook dispatcher missing");
  return service as WxqrService & { webhook: WebhookDispatcher };
}

async function recordPushes(service: WxqrService, clock: ManualClock): Promise<void> {
  let i = 0;
  for (const openId of FOLLOWERS) {
    const at = () => clock.now() + 1_000 * ++i;
    const subscribe = scanPush({ openId, scene: 42, subscribe: true, ticket: "gQunknown", at: at() });
    expect((await service.ingest(subscribe)).duplicate).toBe(false);
    expect((await service.ingest(subscribe)).duplicate).toBe(true); // a redelivered push adds nothing
    await service.ingest(scanPush({ openId, scene: 42, subscribe: false, at: at() }));
    await service.ingest(followPush({ openId, event: "unsubscribe", at: at() }));
  }
}

/** Rounds until the outbox is empty; between rounds the clock jumps to the next due attempt. */
async function deliverAll(dispatcher: WebhookDispatcher, clock: ManualClock): Promise<void> {
  for (let round = 0; round < 1_000; round++) {
    if ((await dispatcher.runOnce()).attempted > 0) continue;
    const status = await dispatcher.status(0);
    if (status.backlog === 0) return;
    await clock.sleep(Math.max(1, status.nextAttemptAt! - clock.now()));
  }
  throw new Error("the outbox did not drain");
}

interface Parsed extends ReceivedWebhook {
  event: { id: string; type: string; occurredAt: string; openId: string; data: Record<string, unknown> };
}

/** Every request, checked: JSON, signed, keyed by its own id; and per follower in outbox order. */
async function checkDeliveries(db: Database, requests: ReceivedWebhook[], clock: ManualClock): Promise<Map<string, Parsed[]>> {
  const byId = new Map<string, Parsed[]>();
  for (const r of requests) {
    const event = JSON.parse(r.body) as Parsed["event"];
    expect(r.contentType).toBe("application/json");
    expect(r.idempotencyKey).toBe(event.id);
    expect(verifyWebhookSignature(r.body, r.signature, SECRET, { now: clock.now(), toleranceSec: 3 * 3_600 })).toBe(true);
    expect(verifyWebhookSignature(r.body, r.signature, "another-secret-0123456789", { now: clock.now(), toleranceSec: 3 * 3_600 })).toBe(false);
    expect(verifyWebhookSignature(r.body.replace(event.openId, "oEvil"), r.signature, SECRET, { now: clock.now(), toleranceSec: 3 * 3_600 })).toBe(false);
    byId.set(event.id, [...(byId.get(event.id) ?? []), { ...r, event }]);
  }
  // Every attempt at one event sends the very same bytes.
  for (const attempts of byId.values()) expect(new Set(attempts.map((a) => a.body)).size).toBe(1);

  for (const openId of FOLLOWERS) {
    const rows = await db.read((sql) => followerOutbox(sql, ACCOUNT, openId));
    expect(rows.map((r) => r.kind)).toEqual(TYPES_PER_FOLLOWER);
    expect(rows.every((r) => r.deliveredAt !== null)).toBe(true);
    // Exactly one 2xx per event, and nothing for an event before every earlier one of its follower got its 2xx.
    const delivered = new Set<string>();
    for (const r of requests) {
      const event = JSON.parse(r.body) as Parsed["event"];
      if (event.openId !== openId) continue;
      const index = rows.findIndex((row) => row.eventId === event.id);
      expect(index).toBeGreaterThanOrEqual(0);
      for (const earlier of rows.slice(0, index)) expect(delivered.has(earlier.eventId)).toBe(true);
      if (r.status === 200) {
        expect(delivered.has(event.id)).toBe(false);
        delivered.add(event.id);
      }
    }
    expect(delivered.size).toBe(rows.length);
  }
  return byId;
}

for (const makeFactory of databaseFactories()) {
  const factory = makeFactory();
  describe(`business webhook (${factory.name})`, () => {
    const receivers: WebhookReceiver[] = [];
    let finished = 0;
    afterAll(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await factory.cleanup();
      if (factory.name === "postgres") markPostgresRan("webhook-postgres", finished);
    });
    afterEach(() => {
      finished++;
    });

    async function receiver(): Promise<WebhookReceiver> {
      const r = await startWebhookReceiver();
      receivers.push(r);
      return r;
    }

    it("delivers every event once the receiver is back, none lost or doubled, in order per follower, signed, with stable idempotency keys; the API and /metrics show the backlog", async () => {
      const { db } = await factory.create();
      const clock = createManualClock(START);
      const hook = await receiver();
      const service = await startService(db, clock, hook, 7);
      const server = await buildServer(
        {
          service,
          receiver: createPushReceiver({ token: "webhookToken1", appId: ACCOUNT, now: () => clock.now() }),
          db,
          adminToken: ADMIN,
        },
        { clock, random: createSeededRandom(8) },
      );
      const auth = { authorization: "Bearer admin-token-for-tests-0123456789" };
      try {
        await recordPushes(service, clock);
        expect(await service.webhook.backlog()).toBe(20);

        // Down: the first round reaches nobody; each follower's first event fails, the rest wait behind it.
        await hook.down();
        expect(await service.webhook.runOnce()).toEqual({ attempted: 5, delivered: 0, failed: 5 });
        const failing = await server.app.inject({ method: "GET", url: "/api/webhook/deliveries?limit=20", headers: auth });
        expect(failing.statusCode).toBe(200);
        const view = failing.json() as {
          enabled: boolean;
          backlog: number;
          failing: number;
          recent: Array<{ attempts: number; lastError: string | null; deliveredAt: string | null; nextAttemptAt: string | null; type: string }>;
        };
        expect(view).toMatchObject({ enabled: true, backlog: 20, failing: 5 });
        expect(view.recent).toHaveLength(20);
        const failed = view.recent.filter((d) => d.attempts === 1);
        expect(failed).toHaveLength(5);
        for (const d of failed) {
          expect(d.lastError).toMatch(/fetch failed|ECONNREFUSED/);
          expect(d.deliveredAt).toBeNull();
          // The first retry waits 0.5–1 s (1 s base, jitter).
          const waitMs = Date.parse(d.nextAttemptAt!) - clock.now();
          expect(waitMs).toBeGreaterThanOrEqual(500);
          expect(waitMs).toBeLessThanOrEqual(1_000);
        }
        const metrics = await server.app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${ADMIN}` } });
        expect(metricValue(metrics.body, "wxqr_webhook_backlog")).toBe(20);
        expect((await server.app.inject({ method: "GET", url: "/api/webhook/deliveries" })).statusCode).toBe(401);

        // Still down for a while (backoff grows), then up but answering 503 a few times, then fine.
        for (let i = 0; i < 3; i++) {
          // Jitter spreads the retries; wait until the last of the five is due.
          const due = (await service.webhook.status(20)).recent.filter((d) => d.attempts > 0).map((d) => d.nextAttemptAt!);
          expect(due).toHaveLength(5);
          await clock.sleep(Math.max(...due) - clock.now());
          expect(await service.webhook.runOnce()).toEqual({ attempted: 5, delivered: 0, failed: 5 });
        }
        const waits = (await service.webhook.status(20)).recent.filter((d) => d.attempts === 4).map((d) => d.nextAttemptAt! - clock.now());
        expect(waits).toHaveLength(5);
        // The fourth failure waits 4–8 s (1 s · 2³, jitter).
        for (const w of waits) {
          expect(w).toBeGreaterThanOrEqual(4_000);
          expect(w).toBeLessThanOrEqual(8_000);
        }
        await hook.up();
        hook.failNext = 7;
        await deliverAll(service.webhook, clock);

        const byId = await checkDeliveries(db, hook.requests, clock);
        expect(byId.size).toBe(20);
        expect(hook.requests.filter((r) => r.status === 503)).toHaveLength(7);
        // Redeliveries of one event carried the same key (checked per request); some events were redelivered.
        expect([...byId.values()].some((attempts) => attempts.length > 1)).toBe(true);
        const types = hook.requests.filter((r) => r.status === 200).map((r) => (JSON.parse(r.body) as { type: string }).type);
        expect(types.sort()).toEqual([...Array(5).fill(TYPES_PER_FOLLOWER)].flat().sort());
        const newFollower = [...byId.values()].map((a) => a[0]!.event).find((e) => e.type === "new_follower" && e.openId === "oC");
        expect(newFollower).toMatchObject({
          id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
          occurredAt: expect.stringMatching(/^2026-11-25T/),
          data: { qrcodeId: null, scene: "42" },
        });

        const after = (await server.app.inject({ method: "GET", url: "/api/webhook/deliveries", headers: auth })).json() as typeof view;
        expect(after).toMatchObject({ backlog: 0, failing: 0 });
        expect(after.recent.every((d) => d.deliveredAt !== null && d.nextAttemptAt === null && d.lastError === null)).toBe(true);
        expect(
          metricValue(
            (await server.app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${ADMIN}` } })).body,
            "wxqr_webhook_backlog",
          ),
        ).toBe(0);
      } finally {
        await closeServer(server, service, db);
      }
    });

    it("survives a restart: rows left pending by a stopped service are delivered by the next one on the same database", async () => {
      const { db, url } = await factory.create();
      const clock = createManualClock(START);
      const hook = await receiver();
      const first = await startService(db, clock, hook, 8);
      await recordPushes(first, clock);
      hook.failNext = 5;
      expect(await first.webhook.runOnce()).toEqual({ attempted: 5, delivered: 0, failed: 5 });
      await first.drain();
      await db.close();

      // A new process: a new connection, a new service (migrations are a no-op), nothing in memory.
      const db2 = reopen(factory, url);
      try {
        const second = await startService(db2, clock, hook, 9);
        expect(await second.webhook.backlog()).toBe(20);
        await deliverAll(second.webhook, clock);
        const byId = await checkDeliveries(db2, hook.requests, clock);
        expect(byId.size).toBe(20);
        // The five events attempted before the restart were sent again under the same id.
        expect([...byId.values()].filter((attempts) => attempts.length === 2)).toHaveLength(5);
      } finally {
        await db2.close();
      }
    });

    it("two dispatchers on one database (two instances) share the work: each event delivered exactly once, in order per follower", async () => {
      const { db, url } = await factory.create();
      const clock = createManualClock(START);
      const hook = await receiver();
      const one = await startService(db, clock, hook, 10);
      await recordPushes(one, clock);
      // PostgreSQL: a second pool, as a second process would have. SQLite has one writer per file
      // (one process), so there the second dispatcher shares the connection.
      const db2 = factory.name === "postgres" ? reopen(factory, url) : db;
      try {
        const two = await startService(db2, clock, hook, 11);
        for (let round = 0; round < 100 && (await one.webhook.backlog()) > 0; round++) {
          await Promise.all([one.webhook.runOnce(), two.webhook.runOnce(), one.webhook.runOnce()]);
        }
        expect(await two.webhook.backlog()).toBe(0);
        const byId = await checkDeliveries(db, hook.requests, clock);
        expect(byId.size).toBe(20);
        expect(hook.requests).toHaveLength(20);
      } finally {
        if (db2 !== db) await db2.close();
      }
    });

    it("never follows a redirect (302, 307): each is a failed attempt saying so, and the redirect's target receives nothing", async () => {
      const { db } = await factory.create();
      const clock = createManualClock(START);
      const target = await receiver();
      const moved = await receiver();
      const service = await startService(db, clock, moved, 9);
      await service.ingest(followPush({ openId: "oR", event: "subscribe", at: clock.now() + 1_000 }));
      for (const status of [302, 307]) {
        moved.redirect = { status, location: target.url };
        await clock.sleep(3_600_000); // past any backoff
        expect(await service.webhook.runOnce()).toEqual({ attempted: 1, delivered: 0, failed: 1 });
        expect(moved.requests.at(-1)?.status).toBe(status);
        const [latest] = (await service.webhook.status(1)).recent;
        expect(latest).toMatchObject({ deliveredAt: null, attempts: status === 302 ? 1 : 2 });
        expect(latest!.lastError).toMatch(new RegExp(`^HTTP ${status}: redirects are not followed`));
      }
      expect(target.requests).toEqual([]);

      // Once the receiver answers for itself, the event is delivered: the redirects cost retries, not the event.
      moved.redirect = undefined;
      await clock.sleep(3_600_000);
      expect(await service.webhook.runOnce()).toMatchObject({ delivered: 1 });
      expect(target.requests).toEqual([]);
    });

    it("writes no outbox rows when no webhook is configured", async () => {
      const { db } = await factory.create();
      const clock = createManualClock(START);
      await migrate(db);
      const service = await createWxqrService(
        { db, accountId: ACCOUNT },
        { clock, random: createSeededRandom(3), logger: silentLogger, timer: createManualTimer() },
      );
      expect(service.webhook).toBeUndefined();
      await recordPushes(service, clock);
      const count = await db.read((sql) => sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM outbox"));
      expect(Number(count?.n)).toBe(0);
    });
  });
}
