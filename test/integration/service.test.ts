/**
 * The service core (issue #4) over real loopback HTTP, on SQLite and on PostgreSQL: the emulator
 * pushes signed, encrypted events to the service's /wechat, the service creates its codes on the
 * emulator's API, and the test reads the results through the REST API, as an operator would.
 * One manual clock is shared by both sides; nothing waits on real time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { USER_NOTICE, type DeliveryRecord } from "../../src/emulator/index.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { openDatabase } from "../../src/store/index.ts";
import { PostgresDatabase } from "../../src/store/postgres-database.ts";
import type { BatchWork, Database, ItemResult } from "../../src/store/database.ts";
import { announcePostgres, faultyDatabase, markPostgresRan, postgresFactory, POSTGRES_URL, sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { announcePrivatePostgres, startPrivatePostgres, type PrivatePostgres } from "../helpers/private-postgres.ts";
import { startPushProxy, type PushProxy } from "../helpers/push-proxy.ts";
import { metricValue, startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const WELCOME = "Welcome! Thanks for scanning poster A.";
const DAY = "2026-11-25"; // SERVICE_START in Asia/Shanghai

/** The storage outage of scenario 4, per engine. */
interface Outage {
  db: Database;
  down(): Promise<void>;
  up(): Promise<void>;
}

/** Waits for `condition` over event-loop turns, never over wall-clock time; fails after `turns`. */
async function until(condition: () => boolean, what: string, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A database whose next batch (a group commit) waits until the test releases it. */
function holdingDatabase(inner: Database): { db: Database; holdNextBatch(): { entered: Promise<void>; release(): void } } {
  let armed: { enter(): void; released: Promise<void> } | undefined;
  const db: Database = {
    dialect: inner.dialect,
    transaction: (fn) => inner.transaction(fn),
    read: (fn) => inner.read(fn),
    close: () => inner.close(),
    async batch<I, R>(items: readonly I[], work: BatchWork<I, R>): Promise<ItemResult<R>[]> {
      const hold = armed;
      armed = undefined;
      if (hold) {
        hold.enter();
        await hold.released;
      }
      return inner.batch(items, work);
    },
  };
  return {
    db,
    holdNextBatch() {
      let enter!: () => void;
      let release!: () => void;
      const entered = new Promise<void>((resolve) => (enter = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      armed = { enter, released };
      return { entered, release };
    },
  };
}

const delivery = (body: Json): DeliveryRecord => body.delivery as DeliveryRecord;

async function createChannel(h: ServiceHarness, name = "poster A", welcome = WELCOME): Promise<Json> {
  const res = await h.api("POST", "/api/channels", { name, welcome });
  expect(res.status).toBe(201);
  return res.body;
}

/** Scenario 1's traffic: 3 new users scan, one scans again, one unfollows (the clock moves 1 s per action). */
async function channelTraffic(h: ServiceHarness, ticket: string): Promise<Json[]> {
  const results: Json[] = [];
  for (const openId of ["u1", "u2", "u3"]) {
    h.clock.advance(1_000);
    const res = await h.scan(openId, ticket);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pushed: true, event: "subscribe" });
    results.push(res.body);
  }
  h.clock.advance(1_000);
  const again = await h.scan("u1", ticket);
  expect(again.body).toMatchObject({ pushed: true, event: "SCAN" });
  results.push(again.body);
  h.clock.advance(1_000);
  const left = await h.unsubscribe("u2");
  expect(left.body).toMatchObject({ pushed: true, event: "unsubscribe" });
  results.push(left.body);
  return results;
}

async function expectChannelTrafficStats(h: ServiceHarness, channelId: string): Promise<void> {
  const stats = await h.api("GET", `/api/channels/${channelId}/stats`);
  expect(stats.status).toBe(200);
  const counts = { scans: 4, uniqueScanners: 3, newFollowers: 3, returningFollowers: 1, unfollows: 1 };
  expect(stats.body).toEqual({ from: DAY, to: DAY, ...counts, days: [{ date: DAY, ...counts }] });
}

/** Every page of the scan log, following `next`. */
async function allEvents(h: ServiceHarness, limit: number): Promise<{ pages: Json[][]; events: Json[] }> {
  const pages: Json[][] = [];
  let after: number | undefined = 0;
  while (after !== undefined) {
    if (pages.length > 100) throw new Error("the scan log does not end");
    const res = await h.api("GET", `/api/events?after=${after}&limit=${limit}`);
    expect(res.status).toBe(200);
    pages.push(res.body.events);
    after = res.body.next;
  }
  return { pages, events: pages.flat() };
}

async function metrics(h: ServiceHarness): Promise<string> {
  const res = await h.api("GET", "/metrics");
  expect(res.status).toBe(200);
  return res.body as string;
}

function describeService(makeFactory: () => DatabaseFactory, makeOutage: () => Promise<Outage & { dispose(): Promise<void> }>, outageRuns: boolean): void {
  let factory: DatabaseFactory;
  let harnesses: ServiceHarness[] = [];
  let proxies: PushProxy[] = [];
  const disposals: Array<() => Promise<void>> = [];

  beforeAll(() => {
    factory = makeFactory();
  });
  afterEach(async () => {
    await Promise.allSettled(harnesses.map((h) => h.close()));
    await Promise.allSettled(proxies.map((p) => p.close()));
    harnesses = [];
    proxies = [];
  });
  afterAll(async () => {
    for (const dispose of disposals.splice(0)) await dispose().catch(() => undefined);
    await factory.cleanup();
  });

  async function start(options: Omit<ServiceHarnessOptions, "db"> & { wrap?: (db: Database) => Database } = {}): Promise<{ h: ServiceHarness; url: string }> {
    const { db, url } = await factory.create();
    const h = await startServiceHarness({ ...options, db: options.wrap ? options.wrap(db) : db });
    harnesses.push(h);
    return { h, url };
  }

  async function proxy(failFirst = 0): Promise<PushProxy> {
    const p = await startPushProxy({ failFirst });
    proxies.push(p);
    return p;
  }

  const viaProxy =
    (p: PushProxy) =>
    (servicePushUrl: string): string => {
      p.target = new URL(servicePushUrl).origin;
      return p.pushUrl;
    };

  it("counts a channel's scans, follows and unfollows exactly, greets new followers, and pages the scan log", async () => {
    const { h } = await start();
    const channel = await createChannel(h);
    expect(channel).toEqual({
      id: expect.stringMatching(/\S/),
      name: "poster A",
      welcome: WELCOME,
      createdAt: new Date(h.clock.now()).toISOString(),
      qrcode: {
        id: expect.stringMatching(/\S/),
        type: "permanent",
        sceneId: expect.any(Number),
        ticket: expect.stringMatching(/\S/),
        url: expect.stringMatching(/^http:\/\/weixin\.qq\.com\/q\//),
        expiresAt: null,
        imageUrl: `/api/qrcodes/${channel.qrcode.id}/image.png`,
        label: "channel: poster A",
      },
      archived: false,
      today: { scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 },
      total: { scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 },
      followUp: null,
      tag: null,
      groupId: null,
      replies: { newFollower: null, returningFollower: null, follower: null },
      followUpAudiences: null,
      startsAt: null,
      endsAt: null,
      paused: false,
      status: "active",
      code: { type: "permanent" },
      imageLink: expect.stringMatching(/^\/c\/[\w-]{22}\.png$/),
    });

    const pushed = await channelTraffic(h, channel.qrcode.ticket);
    for (const body of pushed) expect(delivery(body)).toMatchObject({ outcome: "delivered", attempts: [{ n: 1, status: 200 }] });
    await expectChannelTrafficStats(h, channel.id);

    // What the users saw in the chat: the welcome text, as the passive reply.
    const seen = (await h.deliveries()).map((d) => [d.openId, d.event, d.reply?.kind, d.userSaw]);
    expect(seen).toEqual([
      ["u1", "subscribe", "text", WELCOME],
      ["u2", "subscribe", "text", WELCOME],
      ["u3", "subscribe", "text", WELCOME],
      ["u1", "SCAN", "text", WELCOME],
      ["u2", "unsubscribe", "success", null],
    ]);

    const { pages, events } = await allEvents(h, 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(events.map((e) => [e.kind, e.openId, e.event, e.isNewFollower, e.qrcodeId])).toEqual([
      ["scan", "u1", "subscribe", true, channel.qrcode.id],
      ["scan", "u2", "subscribe", true, channel.qrcode.id],
      ["scan", "u3", "subscribe", true, channel.qrcode.id],
      ["scan", "u1", "SCAN", false, channel.qrcode.id],
      ["unsubscribe", "u2", "unsubscribe", null, null],
    ]);
    const seqs = events.map((e) => e.seq as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(5);
    expect(events[0]).toMatchObject({
      ticket: channel.qrcode.ticket,
      scene: String(channel.qrcode.sceneId),
      createdAt: new Date(Math.floor((h.clock.now() - 4_000) / 1000) * 1000).toISOString(),
    });
  });

  it("records each push once when every push is delivered three times", async () => {
    const p = await proxy(2);
    const { h } = await start({ pushUrl: viaProxy(p) });
    const channel = await createChannel(h);

    const pushed = await channelTraffic(h, channel.qrcode.ticket);
    for (const body of pushed) {
      expect(delivery(body)).toMatchObject({
        outcome: "delivered",
        attempts: [
          { n: 1, status: 503, error: "status" },
          { n: 2, status: 503, error: "status" },
          { n: 3, status: 200 },
        ],
      });
    }
    // The service answered every attempt itself (and so committed the first).
    expect(p.pushes).toHaveLength(15);
    expect(p.pushes.every((x) => x.serviceStatus === 200)).toBe(true);

    await expectChannelTrafficStats(h, channel.id);
    const { events } = await allEvents(h, 100);
    expect(events.map((e) => [e.openId, e.event])).toEqual([
      ["u1", "subscribe"],
      ["u2", "subscribe"],
      ["u3", "subscribe"],
      ["u1", "SCAN"],
      ["u2", "unsubscribe"],
    ]);
    const text = await metrics(h);
    expect(metricValue(text, 'wxqr_pushes_total{outcome="recorded"}')).toBe(5);
    expect(metricValue(text, 'wxqr_pushes_total{outcome="duplicate"}')).toBe(10);
    expect(metricValue(text, 'wxqr_pushes_total{outcome="http_503"}')).toBe(0);
  });

  it("allocates distinct scene ids to 50 concurrent permanent codes, and stops at the platform's quota", async () => {
    const { h } = await start();
    const created = await Promise.all(Array.from({ length: 50 }, () => h.api("POST", "/api/qrcodes", { type: "permanent" })));
    expect(created.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 201));
    const sceneIds = created.map((r) => r.body.sceneId as number);
    expect(sceneIds.every((s) => Number.isInteger(s) && s >= 1 && s <= 100_000)).toBe(true);
    expect(new Set(sceneIds).size).toBe(50);
    expect(new Set(created.map((r) => r.body.ticket)).size).toBe(50);
    expect((await h.api("GET", "/api/quota")).body).toEqual({ permanent: { used: 50, limit: 100_000, remaining: 99_950 } });

    const quota = 53;
    expect((await h.emulatorControl("PUT", "/emulator/config", { permanentQuota: quota })).status).toBe(200);
    for (let i = 50; i < quota; i++) expect((await h.api("POST", "/api/qrcodes", { type: "permanent" })).status).toBe(201);
    const refused = await h.api("POST", "/api/qrcodes", { type: "permanent" });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: "WECHAT_QR_QUOTA_EXCEEDED", errcode: expect.any(Number), message: expect.any(String) });
    expect((await h.api("GET", "/api/quota")).body).toEqual({ permanent: { used: quota, limit: 100_000, remaining: 100_000 - quota } });
    expect((await h.emulatorControl("GET", "/emulator/qrcodes")).body).toMatchObject({ permanentUsed: quota });
  });

  it("refuses a permanent code beyond its own quota without asking the platform", async () => {
    const { h } = await start({ permanentQuota: 2 });
    for (let i = 0; i < 2; i++) expect((await h.api("POST", "/api/qrcodes", { type: "permanent" })).status).toBe(201);
    const refused = await h.api("POST", "/api/qrcodes", { type: "permanent" });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: "QUOTA_EXHAUSTED" });
    expect((await h.api("GET", "/api/quota")).body).toEqual({ permanent: { used: 2, limit: 2, remaining: 0 } });
    expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"]).toBe(2);
    // Temporary codes are not counted against it.
    expect((await h.api("POST", "/api/qrcodes", { type: "temporary", expireSeconds: 3600 })).status).toBe(201);
  });

  it.skipIf(!outageRuns)("answers 503 while storage is down, and counts the redelivery once after recovery", { timeout: 120_000 }, async () => {
    const outage = await makeOutage();
    disposals.push(() => outage.dispose());
    const p = await proxy();
    // A long per-attempt deadline: bringing PostgreSQL back happens while the emulator waits.
    const h = await startServiceHarness({ db: outage.db, pushUrl: viaProxy(p), push: { timeoutMs: 30_000 } });
    harnesses.push(h);
    const channel = await createChannel(h);

    await outage.down();
    expect((await h.api("GET", "/healthz")).status).toBe(503);
    const stats = await h.api("GET", `/api/channels/${channel.id}/stats`);
    expect(stats.status).toBe(503);
    expect(stats.body).toMatchObject({ error: "UNAVAILABLE" });

    // Every attempt fails: WeChat gives up, and the user sees its notice.
    h.clock.advance(1_000);
    const lost = delivery((await h.scan("d1", channel.qrcode.ticket)).body);
    expect(lost).toMatchObject({ outcome: "failed", userSaw: USER_NOTICE });
    expect(lost.attempts.map((a) => [a.n, a.status, a.error])).toEqual([
      [1, 503, "status"],
      [2, 503, "status"],
      [3, 503, "status"],
      [4, 503, "status"],
    ]);

    // Storage comes back between two attempts: the emulator's retry is the redelivery.
    let recovered = false;
    p.onServiceAnswer = async (push) => {
      if (push.serviceStatus === 503 && !recovered) {
        recovered = true;
        await outage.up();
      }
    };
    h.clock.advance(1_000);
    const retried = delivery((await h.scan("d2", channel.qrcode.ticket)).body);
    p.onServiceAnswer = undefined;
    expect(recovered).toBe(true);
    expect(retried).toMatchObject({ outcome: "delivered", userSaw: WELCOME });
    expect(retried.attempts.map((a) => [a.n, a.status, a.error])).toEqual([
      [1, 503, "status"],
      [2, 200, undefined],
    ]);
    expect((await h.api("GET", "/healthz")).body).toEqual({ status: "ok" });

    // The push that was never taken, delivered again byte for byte: recorded now, and only once.
    const first = p.pushes.find((x) => x.attempt === 1 && x.serviceStatus === 503)!;
    const replayed = await p.replay(first);
    expect(replayed.status).toBe(200);
    expect(replayed.text).toContain("<Encrypt>");
    const again = await p.replay(first);
    expect(again).toEqual({ status: 200, text: "success" });

    const after = await h.api("GET", `/api/channels/${channel.id}/stats`);
    expect(after.body).toMatchObject({ scans: 2, uniqueScanners: 2, newFollowers: 2, returningFollowers: 0 });
    const { events } = await allEvents(h, 100);
    expect(events.map((e) => e.openId).sort()).toEqual(["d1", "d2"]);
    const text = await metrics(h);
    expect(metricValue(text, 'wxqr_pushes_total{outcome="recorded"}')).toBe(2);
    expect(metricValue(text, 'wxqr_pushes_total{outcome="duplicate"}')).toBe(1);
    expect(metricValue(text, 'wxqr_pushes_total{outcome="http_503"}')).toBe(5);
  });

  describe("the API", () => {
    let h: ServiceHarness;
    beforeAll(async () => {
      const { db } = await factory.create();
      h = await startServiceHarness({ db, seed: 21 });
    });
    afterAll(async () => {
      await h?.close();
    });

    it.each([
      ["GET", "/api/channels"],
      ["GET", "/api/events"],
      ["GET", "/api/quota"],
      ["POST", "/api/qrcodes"],
      ["POST", "/api/channels"],
      ["GET", "/api/qrcodes/qr_unknown/image.png"],
    ])("refuses %s %s without the admin token, or with a wrong one", async (method, path) => {
      const body = method === "POST" ? { type: "permanent", name: "x" } : undefined;
      for (const token of [null, "wrong-token", `${h.adminToken}x`, ""]) {
        const res = await h.api(method, path, body, { token });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: "UNAUTHORIZED" });
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
      expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"] ?? 0).toBe(0);
    });

    it("is healthy, and documents every /api path", async () => {
      expect(await h.api("GET", "/healthz", undefined, { token: null })).toMatchObject({ status: 200, body: { status: "ok" } });
      const docs = await h.api("GET", "/docs/openapi.json");
      expect(docs.status).toBe(200);
      expect(docs.body.openapi).toMatch(/^3\./);
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining([
          "/api/qrcodes",
          "/api/qrcodes/{id}",
          "/api/qrcodes/{id}/image.png",
          "/api/qrcodes/{id}/image.svg",
          "/api/quota",
          "/api/channels",
          "/api/channels/{id}",
          "/api/channels/{id}/stats",
          "/api/events",
        ]),
      );
      expect(docs.body.paths["/api/qrcodes"].post.requestBody).toBeDefined();
    });

    it("exposes its metrics", async () => {
      const created = await h.api("POST", "/api/qrcodes", { type: "permanent", label: "metrics" });
      expect(created.status).toBe(201);
      const text = await metrics(h);
      for (const name of ["wxqr_pushes_total", "wxqr_push_duration_seconds", "wxqr_qrcodes_created_total", "wxqr_access_token_refreshes"]) {
        expect(text).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
      }
      expect(metricValue(text, 'wxqr_qrcodes_created_total{type="permanent"}')).toBeGreaterThanOrEqual(1);
      expect(metricValue(text, "wxqr_access_token_refreshes")).toBe(1);
    });

    it.each([
      ["a scene id of 0", { type: "permanent", sceneId: 0 }, "sceneId"],
      ["a scene id beyond the permanent range", { type: "permanent", sceneId: 100_001 }, "sceneId"],
      ["an unknown field", { type: "permanent", colour: "red" }, "colour"],
      ["no type", { sceneId: 5 }, "type"],
      ["an unknown type", { type: "forever" }, "type"],
      ["both scene kinds", { type: "temporary", sceneId: 5, sceneStr: "x" }, "scene"],
      ["an expiry on a permanent code", { type: "permanent", expireSeconds: 600 }, "expireSeconds"],
      ["an expiry under a minute", { type: "temporary", expireSeconds: 30 }, "expireSeconds"],
    ])("refuses a code with %s: 400 naming the field", async (_case, body, field) => {
      const res = await h.api("POST", "/api/qrcodes", body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: "VALIDATION_FAILED", field, message: expect.any(String) });
    });

    it.each([
      ["not JSON", "application/json", "{not json"],
      ["empty", "application/json", ""],
      ["of an unknown content type", "application/x-unknown", "type=permanent"],
    ])("refuses a body that is %s with 400, not as a failure of its own", async (_case, contentType, body) => {
      const res = await fetch(`${h.serviceUrl}/api/qrcodes`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.adminToken}`, "content-type": contentType },
        body,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "VALIDATION_FAILED", field: "body", message: expect.any(String) });
    });

    it.each([
      "/api/qrcodes/qr_unknown",
      "/api/qrcodes/qr_unknown/image.png",
      "/api/qrcodes/qr_unknown/image.svg",
      "/api/channels/ch_unknown",
      "/api/channels/ch_unknown/stats",
    ])("answers 404 for %s", async (path) => {
      const res = await h.api("GET", path);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: "NOT_FOUND" });
    });

    it("renders a code's image locally at the asked size, decoding to its url", async () => {
      const code = (await h.api("POST", "/api/qrcodes", { type: "temporary", sceneStr: "login-42", expireSeconds: 600 })).body;
      expect(code).toMatchObject({ type: "temporary", sceneStr: "login-42", expiresAt: new Date(h.clock.now() + 600_000).toISOString() });
      expect(code).not.toHaveProperty("sceneId");
      expect((await h.api("GET", `/api/qrcodes/${code.id}`)).body).toEqual(code);

      const res = await fetch(`${h.serviceUrl}${code.imageUrl}?size=300`, { headers: { authorization: `Bearer ${h.adminToken}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.readUInt32BE(16)).toBe(300); // IHDR width
      expect(decodeQrImage(png)).toBe(code.url);

      const svg = await h.api("GET", `/api/qrcodes/${code.id}/image.svg?size=300`);
      expect(svg.status).toBe(200);
      expect(svg.body).toMatch(/^<svg [^>]*viewBox=/);
      expect((await h.api("GET", `/api/qrcodes/${code.id}/image.png?size=5`)).body).toMatchObject({ error: "VALIDATION_FAILED", field: "size" });
    });

    it("refuses an explicit scene that is already held with 409 SCENE_CONFLICT", async () => {
      const first = await h.api("POST", "/api/qrcodes", { type: "permanent", sceneStr: "shop-9" });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ sceneStr: "shop-9" });
      const calls = (await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"];
      const second = await h.api("POST", "/api/qrcodes", { type: "permanent", sceneStr: "shop-9" });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ error: "SCENE_CONFLICT" });
      // Also across types: a live temporary code may not take the value either.
      expect((await h.api("POST", "/api/qrcodes", { type: "temporary", sceneStr: "shop-9", expireSeconds: 600 })).body).toMatchObject({
        error: "SCENE_CONFLICT",
      });
      expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"]).toBe(calls);
    });

    it("refuses impossible days and non-ISO text as a stats bound: 400 naming the field", async () => {
      const channel = await createChannel(h, "stats bounds");
      for (const [query, field] of [
        ["from=2026-13-45", "from"],
        ["to=2026-02-30", "to"],
        ["from=2026-11-31T08:00:00Z", "from"],
        ["to=1%202%203", "to"],
      ]) {
        expect(await h.api("GET", `/api/channels/${channel.id}/stats?${query}`)).toMatchObject({ status: 400, body: { error: "VALIDATION_FAILED", field } });
      }
      expect((await h.api("GET", `/api/channels/${channel.id}/stats?from=2028-02-29&to=2028-03-01`)).status).toBe(200);
    });

    it("refuses a welcome with a control character but the line feed: 400 naming the field, spending no code", async () => {
      const calls = (await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"];
      for (const [i, welcome] of ["Hi\u0007", "Hi\tthere", "Hi\r\nthere", "Hi\u007f"].entries()) {
        const res = await h.api("POST", "/api/channels", { name: `bell ${i}`, welcome });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: "VALIDATION_FAILED", field: "welcome" });
      }
      expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"]).toBe(calls);
      const ok = await h.api("POST", "/api/channels", { name: "two lines", welcome: "Welcome!\nSecond line" });
      expect(ok).toMatchObject({ status: 201, body: { welcome: "Welcome!\nSecond line" } });
    });

    it("refuses a second channel of the same name with 409 NAME_CONFLICT, spending no code", async () => {
      expect((await h.api("POST", "/api/channels", { name: "twin" })).status).toBe(201);
      const calls = (await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"];
      const again = await h.api("POST", "/api/channels", { name: "twin" });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: "NAME_CONFLICT", field: "name" });
      expect((await h.emulatorControl("GET", "/emulator/counters")).body.today["qrcode/create"]).toBe(calls);
    });
  });

  it("finishes a push in flight on shutdown: it gets its 200 and is committed", async () => {
    const holding: { current?: ReturnType<typeof holdingDatabase> } = {};
    const { h, url } = await start({
      wrap: (db) => {
        holding.current = holdingDatabase(db);
        return holding.current.db;
      },
    });
    const channel = await createChannel(h);
    const hold = holding.current!.holdNextBatch();
    h.clock.advance(1_000);
    const scanning = h.scan("g1", channel.qrcode.ticket);
    await hold.entered; // the push is in the group committer, not yet committed

    let closed = false;
    const closing = h.closeService().then(() => {
      closed = true;
    });
    await until(() => !h.server.app.server.listening, "the service to stop listening");
    await expect(fetch(`${h.serviceUrl}/healthz`)).rejects.toThrow();
    expect(closed).toBe(false);

    hold.release();
    const result = await scanning;
    expect(result.status).toBe(200);
    expect(delivery(result.body)).toMatchObject({ outcome: "delivered", attempts: [{ n: 1, status: 200 }], userSaw: WELCOME });
    await closing;
    expect(closed).toBe(true);

    const reopened = openDatabase(url);
    try {
      const rows = await reopened.read((sql) => sql.all<{ open_id: string; event: string }>("SELECT open_id, event FROM push_log"));
      expect(rows).toEqual([{ open_id: "g1", event: "subscribe" }]);
      const day = await reopened.read((sql) => sql.get<{ scans: number }>("SELECT scans FROM channel_days WHERE channel_id = ?", [channel.id]));
      expect(Number(day?.scans)).toBe(1);
    } finally {
      await reopened.close();
    }
  });
}

describe("SQLite", () => {
  describeService(
    sqliteFactory,
    async () => {
      const factory = sqliteFactory();
      const faulty = faultyDatabase((await factory.create()).db);
      return {
        db: faulty,
        down: async () => void (faulty.down = true),
        up: async () => void (faulty.down = false),
        dispose: () => factory.cleanup(),
      };
    },
    true,
  );
});

const postgresRuns = announcePostgres("service suite (PostgreSQL)");
const privatePostgresRuns = postgresRuns && announcePrivatePostgres("service suite (PostgreSQL storage outage)");

describe.runIf(postgresRuns)("PostgreSQL", () => {
  let finished = 0;
  afterEach(() => {
    finished++;
  });
  describeService(
    () => postgresFactory(POSTGRES_URL!),
    async () => {
      // A cluster of this test's own: stopping the shared one would break the other test files.
      const cluster: PrivatePostgres = await startPrivatePostgres();
      const db = new PostgresDatabase({ connectionString: cluster.url });
      return {
        db,
        down: () => cluster.stop(),
        up: () => cluster.start(),
        dispose: async () => {
          await db.close().catch(() => undefined);
          await cluster.destroy();
        },
      };
    },
    privatePostgresRuns,
  );
  // .ci/run checks this file: a CI run where the PostgreSQL suite did not run fails.
  afterAll(() => markPostgresRan("service-postgres", finished));
});
