/**
 * Scan-to-login / bind sessions (issue #5, item 2; issue #8, item 1) end to end over loopback
 * HTTP, on SQLite and PostgreSQL: the site's backend creates a session with the admin token, the
 * "browser" follows it with the session's secret (SSE read with fetch), and the emulator scans its
 * code and sends the confirming reply `1`, pushed signed and encrypted (safe mode). One manual
 * clock is shared by the emulator and the service: expiry is reached by moving it, never by
 * waiting. Sessions start with no warm stock unless a test asks for one; a creation then starts a
 * top-up in the background, and those tests wait for it (`settled()`) before going on, so every
 * qrcode/create they count and every random value they draw comes in a fixed order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createManualTimer, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createWxqrService } from "../../src/domain/index.ts";
import type { DeliveryRecord } from "../../src/emulator/index.ts";
import type { ScanMessage } from "../../src/push/events.ts";
import { SCAN_SESSION_DEFAULTS } from "../../src/domain/scan-sessions.ts";
import { MIGRATIONS, migrate } from "../../src/store/migrations.ts";
import { type DatabaseFactory, describePostgres, POSTGRES_URL, postgresFactory, sqliteFactory } from "../helpers/databases.ts";
import { SERVICE_APP_ID, SERVICE_START, startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const SITE = "Example Shop";
const LIFE_MS = 5 * 60_000;
/** How long the v3 pool rested a code after its session before handing it to the next one. */
const POOL_COOLDOWN_MS = 60_000;

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

/** The tickets waiting in the warm stock (read from the database: nothing else shows them). */
async function warmTickets(h: ServiceHarness): Promise<string[]> {
  const rows = await h.db.read((sql) =>
    sql.all<{ ticket: string }>("SELECT q.ticket FROM scan_session_warm_codes w JOIN qrcodes q ON q.id = w.qrcode_id ORDER BY q.ticket"),
  );
  return rows.map((r) => r.ticket);
}

/** The session that owns the code behind `ticket`, as the qrcodes table says. */
async function ownerOf(h: ServiceHarness, ticket: string): Promise<string | null> {
  const row = await h.db.read((sql) => sql.get<{ owner_id: string | null }>("SELECT owner_id FROM qrcodes WHERE ticket = ?", [ticket]));
  return row?.owner_id ?? null;
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
      const h = await startServiceHarness({ db, ...options, scanSessions: { siteName: SITE, warmCodes: 0, ...options.scanSessions } });
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
      expect(await stream.next()).toEqual({
        event: "pending",
        data: expect.objectContaining({ id: s.id, status: "pending", purpose: "login", subject: "checkout-page" }),
      });

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

      expect(await stream.next()).toEqual({
        event: "confirmed",
        data: expect.objectContaining({ status: "confirmed", openId: "alice", isNewFollower: true, subject: "user-42" }),
      });
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

    for (const warmCodes of [0, 5]) {
      it(`session takeover (warm stock ${warmCodes}): the ticket an attacker kept is in none of 20 later sessions, and their rescan plus "1" changes none`, async () => {
        const h = await start({ scanSessions: { warmCodes } });
        // The attacker starts a session, scans its code and keeps the ticket.
        const attacker = await createSession(h, { purpose: "bind", subject: "attacker-account", confirm: true, clientIp: "203.0.113.66" });
        await h.service.scanSessions.settled();
        h.clock.advance(1_000);
        expect(delivered(await h.scan("mallory", attacker.qrcode.ticket)).userSaw).toContain("Reply 1");
        // Past the pool's cool-down (a pooled code went to the next session then) …
        h.clock.advance(POOL_COOLDOWN_MS + 1_000);
        const victims: Json[] = [];
        for (let i = 0; i < 20; i++) {
          const body =
            i % 2 === 0
              ? { purpose: "bind", subject: `user-${i}`, confirm: true, clientIp: `198.51.100.${i}` }
              : { purpose: "login", clientIp: `198.51.100.${i}` };
          victims.push(await createSession(h, body));
          await h.service.scanSessions.settled();
        }
        expect(victims.map((v) => v.qrcode.ticket)).not.toContain(attacker.qrcode.ticket);
        expect(new Set(victims.map((v) => v.qrcode.ticket)).size).toBe(20);
        // … the attacker scans the old ticket again and confirms: the push reaches the service …
        h.clock.advance(1_000);
        expect(delivered(await h.scan("mallory", attacker.qrcode.ticket)).outcome).toBe("delivered");
        h.clock.advance(1_000);
        const confirmation = await message(h, "mallory", "1");
        expect(delivered(confirmation).outcome).toBe("delivered");
        // … and changes none of the 20 (the "1" confirms the attacker's own session only).
        for (const v of victims) {
          const read = await getSession(h, v.id, v.secret);
          expect(read.body).toMatchObject({ id: v.id, status: "pending" });
          expect(read.body.openId).toBeUndefined();
        }
        expect((await getSession(h, attacker.id, attacker.secret)).body).toMatchObject({ status: "confirmed", openId: "mallory" });
      });
    }

    it("a session's code reaches that session only: once it ended, a scan of its code changes no session, old or new", async () => {
      const h = await start();
      const first = await createSession(h);
      const expiring = await createSession(h);
      h.clock.advance(1_000);
      await h.scan("alice", first.qrcode.ticket);

      // A screenshot of the first code, scanned while a second session is pending, changes neither.
      const second = await createSession(h);
      h.clock.advance(1_000);
      expect(delivered(await h.scan("mallory", first.qrcode.ticket)).outcome).toBe("delivered");
      expect((await getSession(h, first.id, first.secret)).body).toMatchObject({ status: "scanned", openId: "alice" });
      expect((await getSession(h, second.id, second.secret)).body).toMatchObject({ status: "pending" });

      // A session that ended unscanned: its code still lives at the platform for the margin, and
      // a scan of it reaches nobody, not the session created after it ended.
      h.clock.advance(LIFE_MS - 1_000);
      const third = await createSession(h);
      expect([first, expiring, second].map((s) => s.qrcode.ticket)).not.toContain(third.qrcode.ticket);
      h.clock.advance(1_000);
      expect(delivered(await h.scan("mallory", expiring.qrcode.ticket)).outcome).toBe("delivered");
      expect((await getSession(h, expiring.id, expiring.secret)).body).toMatchObject({ status: "expired" });
      expect((await getSession(h, third.id, third.secret)).body).toMatchObject({ status: "pending" });
      await h.scan("erin", third.qrcode.ticket);
      expect((await getSession(h, third.id, third.secret)).body).toMatchObject({ status: "scanned", openId: "erin" });
    });

    it("each session costs one qrcode/create for a short-lived code of its own, owned by it", async () => {
      const h = await start();
      const before = await qrCreates(h);
      const tickets = new Set<string>();
      for (let i = 0; i < 100; i++) {
        const s = await createSession(h, { purpose: "login", clientIp: `10.9.${i}.1` });
        tickets.add(s.qrcode.ticket);
        expect(await ownerOf(h, s.qrcode.ticket)).toBe(s.id);
        h.clock.advance(1_000);
      }
      expect(tickets.size).toBe(100);
      expect((await qrCreates(h)) - before).toBe(100);
      // The code lives for the session and the margin, not 30 days.
      const s = await createSession(h);
      const code = await h.api("GET", `/api/qrcodes/${s.qrcode.id}`);
      expect(Date.parse(code.body.expiresAt) - h.clock.now()).toBe(LIFE_MS + SCAN_SESSION_DEFAULTS.codeMarginMs);
      expect(Date.parse(s.expiresAt) - h.clock.now()).toBe(LIFE_MS);
    });

    it("the warm stock: sessions take pre-created codes, each once, and it is topped up after", async () => {
      const h = await start({ scanSessions: { warmCodes: 3 } });
      expect(await h.service.scanSessions.warmStock()).toBe(0);
      // Filled on demand (at start, say) before any session; a full stock takes no more.
      expect(await h.service.scanSessions.refillWarmCodes()).toBe(3);
      expect(await h.service.scanSessions.refillWarmCodes()).toBe(0);
      expect(await h.service.scanSessions.warmStock()).toBe(3);
      const stock = await warmTickets(h);
      expect(stock).toHaveLength(3);
      expect(await qrCreates(h)).toBe(3);

      // Three sessions take the three warm codes, each its own (the one ending first first); the
      // stock refills behind them with codes that end later.
      const taken: Json[] = [];
      for (let i = 0; i < 3; i++) {
        h.clock.advance(1_000);
        taken.push(await createSession(h, { purpose: "login", clientIp: `10.3.0.${i}` }));
        await h.service.scanSessions.settled();
      }
      expect(taken.map((s) => s.qrcode.ticket).sort()).toEqual(stock);
      for (const s of taken) expect(await ownerOf(h, s.qrcode.ticket)).toBe(s.id);
      expect(await warmTickets(h)).toHaveLength(3);
      expect((await warmTickets(h)).filter((t) => stock.includes(t))).toEqual([]);
      expect(await qrCreates(h)).toBe(6);

      // A warm code's scan counts for the session that took it.
      h.clock.advance(1_000);
      await h.scan("wendy", taken[1].qrcode.ticket);
      expect((await getSession(h, taken[1].id, taken[1].secret)).body).toMatchObject({ status: "scanned", openId: "wendy" });
      expect((await getSession(h, taken[0].id, taken[0].secret)).body).toMatchObject({ status: "pending" });
    });

    it("a warm code too close to its end to outlive a session is discarded, never handed out", async () => {
      const h = await start({ scanSessions: { warmCodes: 2 } });
      await createSession(h);
      await h.service.scanSessions.settled();
      const stale = await warmTickets(h);
      expect(stale).toHaveLength(2);
      // Warm codes live a session, the margin and the shelf: one second past the shelf, a session
      // taking one would outlive the code's margin.
      h.clock.advance(SCAN_SESSION_DEFAULTS.warmShelfMs + 1_000);
      expect(await h.service.scanSessions.warmStock()).toBe(0);
      const s = await createSession(h);
      expect(stale).not.toContain(s.qrcode.ticket);
      expect(await ownerOf(h, s.qrcode.ticket)).toBe(s.id);
      await h.service.scanSessions.settled();
      const fresh = await warmTickets(h);
      expect(fresh).toHaveLength(2);
      expect(fresh.filter((t) => stale.includes(t))).toEqual([]); // discarded, not kept
    });

    it("20 concurrent creations get 20 distinct codes: a warm code goes to one of them only", async () => {
      const h = await start({ scanSessions: { warmCodes: 10 } });
      await createSession(h);
      await h.service.scanSessions.settled();
      const stock = await warmTickets(h);
      expect(stock).toHaveLength(10);
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => createSession(h, { purpose: "login", clientIp: `10.0.1.${i}` })));
      await h.service.scanSessions.settled();
      const tickets = burst.map((s) => s.qrcode.ticket);
      expect(new Set(tickets).size).toBe(20);
      expect(stock.filter((t) => tickets.includes(t))).toHaveLength(10); // every warm code was taken, each by one session
      for (const s of burst) expect(await ownerOf(h, s.qrcode.ticket)).toBe(s.id);
      // Each session is reached by a scan of its own code only.
      h.clock.advance(1_000);
      await h.scan("zoe", burst[7].qrcode.ticket);
      const states = await Promise.all(burst.map((s) => getSession(h, s.id, s.secret)));
      expect(states.map((r) => r.body.openId ?? null)).toEqual(burst.map((_, i) => (i === 7 ? "zoe" : null)));
    });

    for (const warmCodes of [0, 2]) {
      it(`the daily qrcode/create quota used up (45009): creation fails with 503 SCAN_SESSION_QUOTA_EXHAUSTED once no warm code is left (warm stock ${warmCodes})`, async () => {
        const h = await start({ scanSessions: { warmCodes } });
        await h.emulatorControl("PUT", "/emulator/config", { dailyQuota: { "qrcode/create": 3 } });
        // Three codes a day: the first session's and, with a warm stock, the ones made ahead.
        const made: Json[] = [await createSession(h)];
        await h.service.scanSessions.settled();
        // Two more sessions: fresh codes, or the two warm ones (whose top-ups meet 45009).
        for (let i = 0; i < 2; i++) {
          made.push(await createSession(h, { purpose: "login", clientIp: `10.4.0.${i}` }));
          await h.service.scanSessions.settled();
        }
        expect(new Set(made.map((s) => s.qrcode.ticket)).size).toBe(3);
        expect(await qrCreates(h)).toBe(warmCodes === 0 ? 3 : 5); // the top-ups' refused calls count too

        const refused = await h.api("POST", "/api/scan-sessions", { purpose: "login", clientIp: "10.6.0.1" });
        expect(refused.status).toBe(503);
        expect(refused.body.error).toBe("SCAN_SESSION_QUOTA_EXHAUSTED");
        // SERVICE_START is noon in Beijing: the quota resets in 12 hours.
        expect(Number(refused.headers.get("retry-after"))).toBe((Date.UTC(2026, 10, 25, 16, 0, 0) - SERVICE_START) / 1000);
        // Other code paths keep their mapping of the same errcode.
        const plain = await h.api("POST", "/api/qrcodes", { type: "temporary" });
        expect(plain.status).toBe(429);
        expect(plain.body.error).toBe("WECHAT_RATE_LIMITED");
        // The quota resets at midnight Beijing time; so does session creation.
        h.clock.advance(Number(refused.headers.get("retry-after")) * 1000);
        await createSession(h, { purpose: "login", clientIp: "10.6.0.2" });
      });
    }

    it("refuses a subject with NUL or other control characters: 400 naming the field, on both engines", async () => {
      const h = await start();
      for (const subject of ["user\u000042", "user\u0007", "line\nbreak", "tab\there", "c1\u0085", "half\uD800"]) {
        const res = await h.api("POST", "/api/scan-sessions", { purpose: "bind", subject });
        expect(res.status, JSON.stringify(subject)).toBe(400);
        expect(res.body).toMatchObject({ error: "VALIDATION_FAILED", field: "subject" });
      }
      const ok = await createSession(h, { purpose: "bind", subject: "用户-42 ✓ 😀" });
      expect((await getSession(h, ok.id, ok.secret)).body.subject).toBe("用户-42 ✓ 😀");
    });

    it("after the v5 migration, no code of the v3 pool is handed out again, and a scan of one reaches no session", async () => {
      const { db } = await factory.create();
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 4),
      );
      // The pool as v3 left it: one code, held by the newest of the two sessions that had it.
      const pooledTicket = "pooled-ticket-from-v3";
      const t = SERVICE_START - 30_000;
      await db.transaction(async (sql) => {
        await sql.run("INSERT INTO accounts (id, time_zone, created_at) VALUES (?, 'Asia/Shanghai', ?)", [SERVICE_APP_ID, t]);
        await sql.run(
          `INSERT INTO qrcodes (id, account_id, type, scene_str, ticket, url, expires_at, owner_kind, owner_id, label, created_at)
           VALUES ('qr_pooled', ?, 'temporary', 'pooledscene', ?, 'https://weixin.qq.com/q/pooled', ?, 'session', 'sp_pool1', 'scan-session pool', ?)`,
          [SERVICE_APP_ID, pooledTicket, t + 30 * 86_400_000, t],
        );
        await sql.run(
          "INSERT INTO scan_session_codes (id, account_id, qrcode_id, code_expires_at, session_id, free_at, created_at) VALUES ('sp_pool1', ?, 'qr_pooled', ?, 'ss_new', 0, ?)",
          [SERVICE_APP_ID, t + 30 * 86_400_000, t],
        );
        for (const [id, createdAt] of [
          ["ss_old", t - 3_600_000],
          ["ss_new", t],
        ] as const) {
          await sql.run(
            `INSERT INTO scan_sessions (id, account_id, purpose, subject, confirm, secret_hash, status, pool_code_id, qrcode_id, created_at, expires_at, updated_at)
             VALUES (?, ?, 'login', NULL, 0, 'x', 'pending', 'sp_pool1', 'qr_pooled', ?, ?, ?)`,
            [id, SERVICE_APP_ID, createdAt, createdAt + LIFE_MS, createdAt],
          );
        }
      });
      const h = await startServiceHarness({ db, scanSessions: { siteName: SITE, warmCodes: 2 } });
      harnesses.push(h);
      const ids = await db.read((sql) => sql.all<{ id: string }>("SELECT id FROM scan_sessions ORDER BY id"));
      expect(ids.map((r) => r.id)).toEqual(["ss_new"]); // the newest holder stays, the older one is gone

      const sessions: Json[] = [];
      for (let i = 0; i < 5; i++) {
        sessions.push(await createSession(h, { purpose: "login", clientIp: `10.7.0.${i}` }));
        await h.service.scanSessions.settled();
      }
      expect(sessions.map((s) => s.qrcode.ticket)).not.toContain(pooledTicket);
      // The pooled code's push (as the platform would send it) reaches neither the session that held it nor a new one.
      h.clock.advance(1_000);
      const createTime = Math.floor(h.clock.now() / 1000);
      const outcome = await h.service.ingest({
        kind: "scan",
        openId: "mallory",
        originalId: "gh_emulator",
        createTime,
        encrypted: false,
        dedupeKey: `mallory|${createTime}|SCAN|pooledscene`,
        event: "SCAN",
        eventKeyAsSent: "pooledscene",
        raw: {},
        isNewFollower: false,
        scene: { str: "pooledscene" },
        ticket: pooledTicket,
      });
      expect(outcome).toMatchObject({ duplicate: false, qrcodeId: "qr_pooled" });
      const newest = await db.read((sql) =>
        sql.get<{ status: string; open_id: string | null }>("SELECT status, open_id FROM scan_sessions WHERE id = 'ss_new'"),
      );
      expect(newest).toEqual({ status: "pending", open_id: null });
      for (const s of sessions) expect((await getSession(h, s.id, s.secret)).body).toMatchObject({ status: "pending" });
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
      // The stream's waits (poll, heartbeat) and the poller's are driven by the test, one advance at a time.
      const timer = createManualTimer();
      const h = await start({ timer });
      const { pollMs, heartbeatMs } = SCAN_SESSION_DEFAULTS;
      // A second instance on the same database: no HTTP, no shared memory with the first.
      const other = await createWxqrService(
        { db: h.db, accountId: SERVICE_APP_ID },
        { clock: h.clock, random: createSeededRandom(99), logger: silentLogger, timer: createManualTimer() },
      );
      const s = await createSession(h);
      const stream = await openEvents(h, s.id, { bearer: s.secret });
      expect((await stream.next())?.event).toBe("pending");
      // Idle: the poller, the heartbeat and the stream's own poll each wait.
      const idle = 3;
      await timer.waitingFor(idle);
      timer.advance(heartbeatMs);
      expect(await stream.untilComment("heartbeat")).toBe(true);
      // Idle again, the poller included: the change below can reach the stream only by its next poll.
      await timer.waitingFor(idle);

      h.clock.advance(1_000);
      const createTime = Math.floor(h.clock.now() / 1000);
      const scan: ScanMessage = {
        kind: "scan",
        openId: "olivia",
        originalId: "gh_emulator",
        createTime,
        encrypted: false,
        dedupeKey: `olivia|${createTime}|SCAN|other-instance`,
        event: "SCAN",
        eventKeyAsSent: "other-instance",
        raw: {},
        isNewFollower: false,
        scene: { str: "unused" },
        ticket: s.qrcode.ticket,
      };
      expect((await other.ingest(scan)).duplicate).toBe(false);

      // The change reached this instance only through the database: its next poll finds it.
      timer.advance(pollMs);
      expect(await stream.next()).toEqual({ event: "scanned", data: expect.objectContaining({ openId: "olivia", isNewFollower: false }) });
      await stream.close();
      await other.drain();
    });
  });
}

describeScanSessions("sqlite", sqliteFactory);

describePostgres("scan-sessions", () => describeScanSessions("postgres", () => postgresFactory(POSTGRES_URL!)));
