/**
 * The live feed, `GET /api/events/stream` (issue #10), over real loopback HTTP on SQLite and
 * PostgreSQL, read as a browser's EventSource would (fetch, the stream parsed by hand). The
 * service's background waits (polling, heartbeats, a gap's wait) run on a manual timer the test
 * never advances unless it says so: an event that arrives without an advance was woken by the
 * push's own commit, not found by polling. Every read is bounded.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createManualTimer, createSeededRandom, silentLogger, type ManualTimer } from "../../src/deps.ts";
import { createWxqrService, LIVE_FEED_DEFAULTS, type WxqrService } from "../../src/domain/index.ts";
import type { ScanMessage } from "../../src/push/events.ts";
import { appendPushLog } from "../../src/store/followers.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { SERVICE_APP_ID, startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

/** Bound on any single read: far above a loopback round trip, far below the test's timeout. */
const READ_TIMEOUT_MS = 5_000;

interface FeedMessage {
  id?: string;
  event: string;
  data: Json;
}

interface Feed {
  status: number;
  body: Json;
  /** The next message (comments are kept in `comments`); rejects after READ_TIMEOUT_MS. */
  next(): Promise<FeedMessage>;
  /** Reads on until this comment has arrived. */
  untilComment(text: string): Promise<void>;
  comments: string[];
  close(): Promise<void>;
}

function describeLiveFeed(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  let harnesses: ServiceHarness[] = [];
  let feeds: Feed[] = [];
  let others: WxqrService[] = [];

  beforeAll(() => {
    factory = makeFactory();
  });
  afterEach(async () => {
    await Promise.allSettled(feeds.map((f) => f.close()));
    await Promise.allSettled(others.map((s) => s.drain()));
    await Promise.allSettled(harnesses.map((h) => h.close()));
    feeds = [];
    others = [];
    harnesses = [];
  });
  afterAll(() => factory.cleanup());

  async function start(options: Omit<ServiceHarnessOptions, "db"> = {}): Promise<{ h: ServiceHarness; timer: ManualTimer }> {
    const timer = createManualTimer();
    const { db } = await factory.create();
    const h = await startServiceHarness({ timer, ...options, db });
    harnesses.push(h);
    return { h, timer };
  }

  async function open(h: ServiceHarness, lastEventId?: string): Promise<Feed> {
    const abort = new AbortController();
    const res = await fetch(`${h.serviceUrl}/api/events/stream`, {
      headers: { authorization: `Bearer ${h.adminToken}`, ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
      signal: abort.signal,
    });
    const comments: string[] = [];
    if (res.status !== 200 || !res.body) {
      const body = await res.json();
      return { status: res.status, body, next: () => Promise.reject(new Error("no stream")), untilComment: async () => {}, comments, close: async () => {} };
    }
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const messages: FeedMessage[] = [];
    async function readBlock(): Promise<void> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: FeedMessage = { event: "message", data: undefined };
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("id: ")) message.id = line.slice(4);
            else if (line.startsWith("event: ")) message.event = line.slice(7);
            else if (line.startsWith("data: ")) message.data = JSON.parse(line.slice(6));
          }
          if (message.data !== undefined) messages.push(message);
          return;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    }
    const bounded = async <T>(work: () => Promise<T>): Promise<T> => {
      let timeout: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          work(),
          new Promise<never>((_, reject) => {
            timeout = setTimeout(() => reject(new Error(`nothing within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
          }),
        ]);
      } finally {
        clearTimeout(timeout);
      }
    };
    const feed: Feed = {
      status: res.status,
      body: undefined,
      comments,
      next: () =>
        bounded(async () => {
          while (messages.length === 0) await readBlock();
          return messages.shift()!;
        }),
      untilComment: (text) =>
        bounded(async () => {
          while (!comments.includes(text)) await readBlock();
        }),
      async close() {
        abort.abort();
        await reader.cancel().catch(() => {});
      },
    };
    feeds.push(feed);
    await feed.untilComment("live feed");
    return feed;
  }

  async function channel(h: ServiceHarness, name = "poster A"): Promise<Json> {
    const res = await h.api("POST", "/api/channels", { name });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function scan(h: ServiceHarness, openId: string, ticket: string): Promise<void> {
    h.clock.advance(1_000);
    expect((await h.scan(openId, ticket)).body.delivery.outcome).toBe("delivered");
  }

  /** A second instance on the same database: no HTTP, no memory shared with the first. */
  async function otherInstance(h: ServiceHarness, accountId = SERVICE_APP_ID): Promise<WxqrService> {
    const other = await createWxqrService(
      { db: h.db, accountId },
      { clock: h.clock, random: createSeededRandom(99), logger: silentLogger, timer: createManualTimer() },
    );
    others.push(other);
    return other;
  }

  /** Appends a row to the scan log in a transaction that then rolls back, as a failed batch does. */
  async function insertRolledBack(h: ServiceHarness): Promise<void> {
    const rolledBack = new Error("rolled back on purpose");
    const row = { accountId: SERVICE_APP_ID, dedupeKey: `never|${h.clock.now()}`, kind: "other", openId: "never", event: null, eventKey: null };
    const insert = h.db.transaction(async (sql) => {
      expect(await appendPushLog(sql, { ...row, ticket: null, scene: null, qrcodeId: null, isNewFollower: null, createTimeSec: 1, receivedAt: 1 })).toBe(true);
      throw rolledBack;
    });
    await expect(insert).rejects.toBe(rolledBack);
  }

  function scanMessage(h: ServiceHarness, openId: string, ticket: string, key = "elsewhere"): ScanMessage {
    h.clock.advance(1_000);
    const createTime = Math.floor(h.clock.now() / 1000);
    return {
      kind: "scan",
      openId,
      originalId: "gh_emulator",
      createTime,
      encrypted: false,
      dedupeKey: `${openId}|${createTime}|SCAN|${key}`,
      event: "SCAN",
      eventKeyAsSent: key,
      raw: {},
      isNewFollower: false,
      scene: { str: key },
      ticket,
    };
  }

  it("sends each new scan, follow, unfollow and message the moment its push commits, as /api/events shows it", async () => {
    const { h, timer } = await start();
    const a = await channel(h);
    const feed = await open(h);

    await scan(h, "u1", a.qrcode.ticket);
    h.clock.advance(1_000);
    await h.emulatorControl("POST", "/emulator/subscribe", { openId: "u2" });
    h.clock.advance(1_000);
    await h.unsubscribe("u1");
    h.clock.advance(1_000);
    await h.emulatorControl("POST", "/emulator/message", { openId: "u2", content: "你好" });

    // The timer never moved: no poll ran, so each event came from its push's commit.
    const received = [await feed.next(), await feed.next(), await feed.next(), await feed.next()];
    expect(received.map((m) => [m.event, m.data.openId])).toEqual([
      ["scan", "u1"],
      ["subscribe", "u2"],
      ["unsubscribe", "u1"],
      ["other", "u2"],
    ]);
    const { events } = (await h.api("GET", "/api/events")).body;
    expect(received.map((m) => m.data)).toEqual(events);
    expect(received.map((m) => m.id)).toEqual(events.map((e: Json) => String(e.seq)));
    expect(received[0]!.data).toMatchObject({ kind: "scan", qrcodeId: a.qrcode.id, isNewFollower: true });
    expect(timer.pending).toBeGreaterThan(0); // the poller and the heartbeat are still waiting

    // Closing the service ends an open stream rather than waiting for it.
    await h.closeService();
    await expect(feed.next()).rejects.toThrow("the stream ended");
  });

  it("starts with what comes next, and resumes after Last-Event-ID with what it missed, once each", async () => {
    const { h } = await start();
    const a = await channel(h);
    await scan(h, "u1", a.qrcode.ticket); // before any stream: not sent to a new one
    const first = await open(h);
    for (const openId of ["u2", "u3", "u4"]) await scan(h, openId, a.qrcode.ticket);
    const sent = [await first.next(), await first.next(), await first.next()];
    expect(sent.map((m) => m.data.openId)).toEqual(["u2", "u3", "u4"]);
    await first.close();

    // The browser reconnects with the last id it got before the connection broke (u2's).
    const resumed = await open(h, sent[0]!.id);
    expect([(await resumed.next()).data.openId, (await resumed.next()).data.openId]).toEqual(["u3", "u4"]);
    await scan(h, "u5", a.qrcode.ticket);
    expect(await resumed.next()).toMatchObject({ event: "scan", data: { openId: "u5" } });

    for (const bad of ["abc", "-1", "1.5"]) {
      const refused = await open(h, bad);
      expect([bad, refused.status, refused.body.error, refused.body.field]).toEqual([bad, 400, "VALIDATION_FAILED", "last-event-id"]);
    }
    expect((await fetch(`${h.serviceUrl}/api/events/stream`)).status).toBe(401);
  });

  it("finds rows another instance committed by polling, skips other accounts' rows, and sends heartbeats while idle", async () => {
    const { h, timer } = await start();
    const a = await channel(h);
    const feed = await open(h);
    const other = await otherInstance(h);
    const stranger = await otherInstance(h, "wx0ther0account0001");
    // Idle: the poller and the heartbeat wait.
    await timer.waitingFor(2);

    expect((await stranger.ingest(scanMessage(h, "x1", "no-such-ticket"))).duplicate).toBe(false);
    expect((await other.ingest(scanMessage(h, "v1", a.qrcode.ticket))).duplicate).toBe(false);
    // This instance saw no commit: only its poll finds the rows. The other account's is not sent.
    timer.advance(LIVE_FEED_DEFAULTS.pollMs);
    expect(await feed.next()).toMatchObject({ event: "scan", data: { openId: "v1", qrcodeId: a.qrcode.id } });

    await timer.waitingFor(2);
    timer.advance(LIVE_FEED_DEFAULTS.heartbeatMs);
    await feed.untilComment("heartbeat");
    // A row after the other account's is sent at once: its seq is no gap to wait on.
    await scan(h, "u1", a.qrcode.ticket);
    expect(await feed.next()).toMatchObject({ data: { openId: "u1" } });
  });

  it("passes over a seq that never committed: at once when the row after it is old, else after the gap's wait", async () => {
    const { h, timer } = await start();
    const a = await channel(h);
    const other = await otherInstance(h);
    await other.ingest(scanMessage(h, "v1", a.qrcode.ticket, "k1"));
    // A batch that rolled back: PostgreSQL spends its seq for good (SQLite's AUTOINCREMENT takes it back).
    await insertRolledBack(h);
    await other.ingest(scanMessage(h, "v2", a.qrcode.ticket, "k2"));
    const { events } = (await h.api("GET", "/api/events")).body;
    expect(events.map((e: Json) => e.openId)).toEqual(["v1", "v2"]);

    h.clock.advance(LIVE_FEED_DEFAULTS.gapWaitMs);
    const resumed = await open(h, String(events[0].seq));
    expect(await resumed.next()).toMatchObject({ id: String(events[1].seq), data: { openId: "v2" } });

    // A fresh hole. On SQLite, where one transaction writes at a time, a hole below a committed row
    // can never fill: the stream passes it at once. On PostgreSQL it may yet commit: the stream
    // waits for it, at most gapWaitMs.
    await other.ingest(scanMessage(h, "v2", a.qrcode.ticket, "k2-again"));
    const again = scanMessage(h, "v3", a.qrcode.ticket, "k3");
    await other.ingest(again);
    // A duplicate spends no seq on either engine: the batch finds its key before inserting anything.
    expect((await other.ingest(again)).duplicate).toBe(true);
    await insertRolledBack(h);
    await other.ingest(scanMessage(h, "v4", a.qrcode.ticket, "k4"));
    timer.advance(LIVE_FEED_DEFAULTS.pollMs);
    expect([(await resumed.next()).data.openId, (await resumed.next()).data.openId]).toEqual(["v2", "v3"]);
    if (h.db.dialect === "postgres") {
      await timer.waitingFor(3); // the heartbeat, the poller, and the gap's wait
      timer.advance(LIVE_FEED_DEFAULTS.gapWaitMs);
    }
    expect((await resumed.next()).data.openId).toBe("v4");
  });

  it("counts a stream against its client's bound on streams, and frees it when closed", async () => {
    const { h } = await start({ server: { streams: { perClient: 2 } } });
    const one = await open(h);
    await open(h);
    const refused = await open(h);
    expect([refused.status, refused.body.error]).toEqual([429, "RATE_LIMITED"]);
    await one.close();
    // The server frees the slot when it sees the connection close: try until it has (bounded).
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const retry = await open(h);
      status = retry.status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(200);
  });
}

describeOnBothEngines("live feed", describeLiveFeed);
