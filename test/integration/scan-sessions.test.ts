/**
 * Scan-to-login / bind sessions (issue #5, item 2) end to end over loopback HTTP, on SQLite and
 * PostgreSQL: the site's backend creates a session with the admin token, the "browser" follows it
 * with the session's secret (SSE read with fetch), and the emulator scans its code and sends the
 * confirming reply `1`, pushed signed and encrypted (safe mode). One manual clock is shared by the
 * emulator and the service: expiry and cool-downs are reached by moving it, never by waiting.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createWxqrService } from "../../src/domain/index.ts";
import type { DeliveryRecord } from "../../src/emulator/index.ts";
import type { ScanMessage } from "../../src/push/events.ts";
import { announcePostgres, markPostgresRan, postgresFactory, POSTGRES_URL, sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { SERVICE_APP_ID, startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const SITE = "Example Shop";
const LIFE_MS = 5 * 60_000;
const COOLDOWN_MS = 60_000;

interface SseEvent {
  event: string;
  data: Json;
}

/** An SSE stream read with fetch, as a browser's EventSource would. */
interface SseStream {
  status: number;
  /** The next event; undefined once the stream has ended. Comments are counted, not returned. */
  next(): Promise<SseEvent | undefined>;
  /** Reads on until a comment with this text has arrived (false if the stream ends first). */
  untilComment(text: string): Promise<boolean>;
  comments: string[];
  close(): Promise<void>;
}

async function openEvents(h: ServiceHarness, id: string, auth: { bearer?: string; query?: string }): Promise<SseStream> {
  const abort = new AbortController();
  const query = auth.query === undefined ? "" : `?secret=${encodeURIComponent(auth.query)}`;
  const res = await fetch(`${h.serviceUrl}/api/scan-sessions/${id}/events${query}`, {
    headers: auth.bearer === undefined ? {} : { authorization: `Bearer ${auth.bearer}` },
    signal: abort.signal,
  });
  const comments: string[] = [];
  if (res.status !== 200 || !res.body) {
    await res.text();
    return { status: res.status, next: async () => undefined, untilComment: async () => false, comments, close: async () => {} };
  }
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  /** The next block: an event, null for a comment-only block, undefined at the end. */
  async function block(): Promise<SseEvent | null | undefined> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let data = "";
        for (const line of text.split("\n")) {
          if (line.startsWith(":")) comments.push(line.slice(1).trim());
          else if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        return data === "" ? null : { event, data: JSON.parse(data) };
      }
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += decoder.decode(value, { stream: true });
    }
  }
  return {
    status: res.status,
    comments,
    async next() {
      for (;;) {
        const b = await block();
        if (b !== null) return b;
      }
    },
    async untilComment(text) {
      while (!comments.includes(text)) {
        const b = await block();
        if (b === undefined) return false;
        if (b !== null) throw new Error(`unexpected event ${b.event} while waiting for a comment`);
      }
      return true;
    },
    async close() {
      abort.abort();
      await reader.cancel().catch(() => {});
    },
  };
}

async function createSession(h: ServiceHarness, body: Json = { purpose: "login" }): Promise<Json> {
  const res = await h.api("POST", "/api/scan-sessions", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const getSession = (h: ServiceHarness, id: string, secret: string | null) => h.api("GET", `/api/scan-sessions/${id}`, undefined, { token: secret });
const message = (h: ServiceHarness, openId: string, content: string) => h.emulatorControl("POST", "/emulator/message", { openId, content });
const delivered = (res: { body: Json }): DeliveryRecord => res.body.delivery as DeliveryRecord;

async function qrCreates(h: ServiceHarness): Promise<number> {
  const res = await h.emulatorControl("GET", "/emulator/counters");
  return res.body.totals["qrcode/create"] as number;
}

function describeScanSessions(name: string, makeFactory: () => DatabaseFactory): void {
  describe(`scan sessions (${name})`, () => {
    let factory: DatabaseFactory;
    const harnesses: ServiceHarness[] = [];
    beforeAll(() => {
      factory = makeFactory();
    });
    afterEach(async () => {
      await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
    });
    afterAll(async () => {
      await factory.cleanup();
    });

    async function start(options: Partial<ServiceHarnessOptions> = {}): Promise<ServiceHarness> {
      const { db } = await factory.create();
      const h = await startServiceHarness({ db, ...options, scanSessions: { siteName: SITE, ...options.scanSessions } });
      harnesses.push(h);
      return h;
    }

    it("login completes via SSE: the scanner's openId reaches the secret's holder live", async () => {
      const h = await start();
      const s = await createSession(h, { purpose: "login", subject: "checkout-page" });
      expect(s.id).toMatch(/^ss_/);
      expect(s.secret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits, base64url
      expect(s.qrcode.ticket).toEqual(expect.any(String));
      expect(Date.parse(s.expiresAt) - h.clock.now()).toBe(LIFE_MS);

      const stream = await openEvents(h, s.id, { bearer: s.secret });
      expect(stream.status).toBe(200);
      expect(await stream.next()).toEqual({ event: "pending", data: expect.objectContaining({ id: s.id, status: "pending", purpose: "login", subject: "checkout-page" }) });

      h.clock.advance(2_000);
      const scan = await h.scan("alice", s.qrcode.ticket);
      expect(delivered(scan).outcome).toBe("delivered");
      expect(delivered(scan).userSaw).toBeNull(); // no confirmation asked: nothing to say

      const scanned = await stream.next();
      expect(scanned).toEqual({ event: "scanned", data: expect.objectContaining({ status: "scanned", openId: "alice", isNewFollower: true }) });
      expect(await stream.next()).toBeUndefined(); // "scanned" is final without `confirm`
      await stream.close();

      const read = await getSession(h, s.id, s.secret);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ status: "scanned", openId: "alice", isNewFollower: true });

      // A second scanner changes nothing.
      h.clock.advance(1_000);
      await h.scan("mallory", s.qrcode.ticket);
      expect((await getSession(h, s.id, s.secret)).body).toMatchObject({ status: "scanned", openId: "alice" });
    });

    it("with confirm: the scanner is asked to reply 1, and only their 1 completes the session", async () => {
      const h = await start();
      await h.emulatorControl("POST", "/emulator/followers", { openIds: ["bob"] });
      const s = await createSession(h, { purpose: "bind", subject: "user-42", confirm: true });
      const stream = await openEvents(h, s.id, { query: s.secret }); // EventSource style
      expect(stream.status).toBe(200);
      expect((await stream.next())?.event).toBe("pending");

      h.clock.advance(1_000);
      const scan = await h.scan("alice", s.qrcode.ticket);
      expect(delivered(scan).userSaw).toContain(SITE);
      expect(delivered(scan).userSaw).toContain("Reply 1");

      const scanned = await stream.next();
      expect(scanned?.event).toBe("scanned");
      expect(scanned?.data.openId).toBeUndefined(); // not before confirmation (invariant 7)
      expect((await getSession(h, s.id, s.secret)).body).toEqual(expect.not.objectContaining({ openId: expect.anything() }));

      // Someone else's "1", and the scanner's other messages, confirm nothing.
      h.clock.advance(1_000);
      expect(delivered(await message(h, "bob", "1")).userSaw).toBeNull();
      expect(delivered(await message(h, "alice", "yes")).userSaw).toBeNull();
      expect((await getSession(h, s.id, s.secret)).body).toMatchObject({ status: "scanned" });

      h.clock.advance(1_000);
      const confirmation = await message(h, "alice", "1");
      expect(delivered(confirmation).outcome).toBe("delivered");
      expect(delivered(confirmation).userSaw).toContain("Confirmed");

      expect(await stream.next()).toEqual({ event: "confirmed", data: expect.objectContaining({ status: "confirmed", openId: "alice", isNewFollower: true, subject: "user-42" }) });
      expect(await stream.next()).toBeUndefined();
      await stream.close();
      expect((await getSession(h, s.id, s.secret)).body).toMatchObject({ status: "confirmed", openId: "alice" });

      // Confirming again does nothing more.
      h.clock.advance(1_000);
      expect(delivered(await message(h, "alice", "1")).userSaw).toBeNull();
    });

    it("refuses a wrong or missing secret (also the admin token), and says 404 for an unknown session", async () => {
      const h = await start();
      const s = await createSession(h);
      for (const token of ["wrong-secret", null, h.adminToken]) {
        const res = await getSession(h, s.id, token);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe("UNAUTHORIZED");
      }
      expect((await openEvents(h, s.id, { bearer: "wrong-secret" })).status).toBe(401);
      expect((await openEvents(h, s.id, { query: "wrong-secret" })).status).toBe(401);
      expect((await openEvents(h, s.id, {})).status).toBe(401);
      expect((await getSession(h, "ss_unknown", s.secret)).status).toBe(404);
      // Creating needs the admin token.
      expect((await h.api("POST", "/api/scan-sessions", { purpose: "login" }, { token: s.secret })).status).toBe(401);
      expect((await h.api("POST", "/api/scan-sessions", { purpose: "logout" })).status).toBe(400);
    });

    it("never hands out a result after expiry, and an expired session takes no scan or confirmation", async () => {
      const h = await start();
      const done = await createSession(h);
      h.clock.advance(1_000);
      await h.scan("alice", done.qrcode.ticket);
      expect((await getSession(h, done.id, done.secret)).body).toMatchObject({ status: "scanned", openId: "alice" });

      const unscanned = await createSession(h, { purpose: "login", confirm: true });
      const awaiting = await createSession(h, { purpose: "login", confirm: true });
      h.clock.advance(1_000);
      await h.scan("carol", awaiting.qrcode.ticket);

      h.clock.advance(LIFE_MS);
      const read = await getSession(h, done.id, done.secret);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ id: done.id, status: "expired", purpose: "login", subject: null, confirm: false, expiresAt: done.expiresAt });
      const stream = await openEvents(h, done.id, { bearer: done.secret });
      expect(await stream.next()).toEqual({ event: "expired", data: expect.not.objectContaining({ openId: expect.anything() }) });
      expect(await stream.next()).toBeUndefined();

      // The code itself still lives at the platform; the session does not.
      await h.scan("dave", unscanned.qrcode.ticket);
      expect((await getSession(h, unscanned.id, unscanned.secret)).body).toMatchObject({ status: "expired" });
      expect(delivered(await message(h, "carol", "1")).userSaw).toBeNull();
      expect((await getSession(h, awaiting.id, awaiting.secret)).body).toEqual(expect.objectContaining({ status: "expired" }));
      expect((await getSession(h, awaiting.id, awaiting.secret)).body.openId).toBeUndefined();
    });

    it("a stale code (session over, cool-down running or over) attaches to no session, and is reused only after the cool-down", async () => {
      const h = await start();
      const first = await createSession(h);
      h.clock.advance(1_000);
      await h.scan("alice", first.qrcode.ticket);

      // The first code cools down: the next session gets another one.
      h.clock.advance(1_000);
      const second = await createSession(h);
      expect(second.qrcode.ticket).not.toBe(first.qrcode.ticket);

      // A screenshot of the first code, scanned now, changes neither session.
      h.clock.advance(1_000);
      const stale = await h.scan("mallory", first.qrcode.ticket);
      expect(delivered(stale).outcome).toBe("delivered");
      expect((await getSession(h, first.id, first.secret)).body).toMatchObject({ status: "scanned", openId: "alice" });
      expect((await getSession(h, second.id, second.secret)).body).toMatchObject({ status: "pending" });

      // Cool-down over, the code is free: a scan of it still reaches nobody …
      h.clock.advance(COOLDOWN_MS);
      await h.scan("mallory", first.qrcode.ticket);
      expect((await getSession(h, second.id, second.secret)).body).toMatchObject({ status: "pending" });
      // … and the next session reuses it, untouched by the earlier scans.
      const third = await createSession(h);
      expect(third.qrcode.ticket).toBe(first.qrcode.ticket);
      expect((await getSession(h, third.id, third.secret)).body).toMatchObject({ status: "pending" });
      h.clock.advance(1_000);
      await h.scan("erin", third.qrcode.ticket);
      expect((await getSession(h, third.id, third.secret)).body).toMatchObject({ status: "scanned", openId: "erin" });
      expect(await qrCreates(h)).toBe(2);
    });

    it("1,000 sessions one after another cost a handful of qrcode/create calls", async () => {
      const h = await start();
      const before = await qrCreates(h);
      const tickets = new Set<string>();
      for (let i = 0; i < 1_000; i++) {
        const s = await createSession(h);
        tickets.add(s.qrcode.ticket);
        if (i % 100 === 0) {
          h.clock.advance(1_000);
          await h.scan(`user${i}`, s.qrcode.ticket);
          expect((await getSession(h, s.id, s.secret)).body).toMatchObject({ status: "scanned", openId: `user${i}` });
          h.clock.advance(COOLDOWN_MS);
        } else {
          h.clock.advance(LIFE_MS + COOLDOWN_MS); // finished by expiry
        }
      }
      const used = (await qrCreates(h)) - before;
      expect(used).toBeLessThanOrEqual(10);
      expect(tickets.size).toBe(used);
      expect(await h.service.scanSessions.poolSize()).toBe(used);
    }, 120_000);

    it("20 concurrent creations get 20 distinct codes, and 20 more reuse them all", async () => {
      const h = await start();
      const burst = (round: number) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => createSession(h, { purpose: "login", clientIp: `10.0.${round}.${i}` })));
      const first = await burst(1);
      expect(new Set(first.map((s) => s.qrcode.ticket)).size).toBe(20);
      const created = await qrCreates(h);
      expect(created).toBe(20);

      h.clock.advance(LIFE_MS + COOLDOWN_MS);
      const second = await burst(2);
      expect(new Set(second.map((s) => s.qrcode.ticket)).size).toBe(20);
      expect(await qrCreates(h)).toBe(created); // every code came from the pool
      // Each session is reached by a scan of its own code only.
      h.clock.advance(1_000);
      await h.scan("zoe", second[7].qrcode.ticket);
      const states = await Promise.all(second.map((s) => getSession(h, s.id, s.secret)));
      expect(states.map((r) => r.body.openId ?? null)).toEqual(second.map((_, i) => (i === 7 ? "zoe" : null)));
    });

    it("rate-limits creation per client and per subject with 429 RATE_LIMITED", async () => {
      const h = await start({ scanSessions: { createPerMinute: 3 } });
      for (let i = 0; i < 3; i++) await createSession(h, { purpose: "login", clientIp: "198.51.100.7" });
      const limited = await h.api("POST", "/api/scan-sessions", { purpose: "login", clientIp: "198.51.100.7" });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toBe("RATE_LIMITED");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      // Another client is not affected; the same subject from many clients is.
      await createSession(h, { purpose: "login", clientIp: "198.51.100.8" });
      for (let i = 0; i < 3; i++) await createSession(h, { purpose: "bind", subject: "user-1", clientIp: `203.0.113.${i}` });
      expect((await h.api("POST", "/api/scan-sessions", { purpose: "bind", subject: "user-1", clientIp: "203.0.113.99" })).status).toBe(429);
      // The bucket refills with time.
      h.clock.advance(60_000);
      await createSession(h, { purpose: "login", clientIp: "198.51.100.7" });
    });

    it("a stream learns of a change made by another instance by polling, and sends heartbeats while idle", async () => {
      const h = await start({ scanSessions: { pollMs: 20, heartbeatMs: 60 } });
      // A second instance on the same database: no HTTP, no shared memory with the first.
      const other = await createWxqrService({ db: h.db, accountId: SERVICE_APP_ID, clock: h.clock, random: createSeededRandom(99), logger: silentLogger });
      const s = await createSession(h);
      const stream = await openEvents(h, s.id, { bearer: s.secret });
      expect((await stream.next())?.event).toBe("pending");
      expect(await stream.untilComment("heartbeat")).toBe(true);

      h.clock.advance(1_000);
      const createTime = Math.floor(h.clock.now() / 1000);
      const scan: ScanMessage = {
        kind: "scan",
        openId: "olivia",
        accountId: "gh_emulator",
        createTime,
        encrypted: false,
        dedupeKey: `olivia|${createTime}|SCAN|other-instance`,
        raw: {},
        isNewFollower: false,
        scene: { str: "unused" },
        ticket: s.qrcode.ticket,
      };
      expect((await other.ingest(scan)).duplicate).toBe(false);

      expect(await stream.next()).toEqual({ event: "scanned", data: expect.objectContaining({ openId: "olivia", isNewFollower: false }) });
      await stream.close();
      await other.drain();
    });
  });
}

describeScanSessions("sqlite", sqliteFactory);

const postgresRuns = announcePostgres("scan-session suite (PostgreSQL)");
describe.runIf(postgresRuns)("PostgreSQL", () => {
  let finished = 0;
  afterEach(() => {
    finished++;
  });
  describeScanSessions("postgres", () => postgresFactory(POSTGRES_URL!));
  afterAll(() => markPostgresRan("scan-sessions-postgres", finished));
});
