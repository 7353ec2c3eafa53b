/**
 * Issue #8 item 3, the long-lived part: scan-session event streams are bounded per session and
 * per client address (429 RATE_LIMITED past the bound, counted only once authorised), a closed
 * stream frees its place, and the socket limits that cut slow requests leave a live stream alone.
 */
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

let factory: DatabaseFactory;
const harnesses: ServiceHarness[] = [];
const streams: OpenStream[] = [];

beforeAll(() => {
  factory = sqliteFactory();
});
afterEach(async () => {
  await Promise.allSettled(streams.splice(0).map((s) => s.close()));
  await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
});
afterAll(async () => {
  await factory.cleanup();
});

async function start(options: Omit<ServiceHarnessOptions, "db"> = {}): Promise<ServiceHarness> {
  const { db } = await factory.create();
  const h = await startServiceHarness({ db, ...options });
  harnesses.push(h);
  return h;
}

interface OpenStream {
  status: number;
  body: Json;
  /** Everything read so far. */
  text(): string;
  /** Reads until `needle` has arrived `times` times in all; false if the stream ends first. */
  until(needle: string, times?: number): Promise<boolean>;
  close(): Promise<void>;
}

async function openStream(h: ServiceHarness, session: { id: string; secret: string }): Promise<OpenStream> {
  const abort = new AbortController();
  const res = await fetch(`${h.serviceUrl}/api/scan-sessions/${session.id}/events`, {
    headers: { authorization: `Bearer ${session.secret}` },
    signal: AbortSignal.any([abort.signal, AbortSignal.timeout(20_000)]),
  });
  if (res.status !== 200 || !res.body) {
    const body = (await res.json()) as Json;
    return { status: res.status, body, text: () => "", until: async () => false, close: async () => {} };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let read = "";
  const stream: OpenStream = {
    status: res.status,
    body: undefined,
    text: () => read,
    async until(needle, times = 1) {
      while (read.split(needle).length - 1 < times) {
        const { value, done } = await reader.read();
        if (done) return false;
        read += decoder.decode(value, { stream: true });
      }
      return true;
    },
    async close() {
      abort.abort();
      await reader.cancel().catch(() => {});
    },
  };
  streams.push(stream);
  expect(await stream.until(": scan session stream")).toBe(true);
  return stream;
}

async function createSession(h: ServiceHarness): Promise<{ id: string; secret: string }> {
  const res = await h.api("POST", "/api/scan-sessions", { purpose: "login" });
  expect(res.status).toBe(201);
  return res.body;
}

/** The server frees a slot when it sees the stream's socket close, a moment after the client closes it: retry, bounded. */
async function openOnceFreed(h: ServiceHarness, session: { id: string; secret: string }): Promise<OpenStream> {
  for (let i = 0; i < 100; i++) {
    const s = await openStream(h, session);
    if (s.status === 200) return s;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the closed stream's slot was never freed");
}

describe("scan-session event streams: bounds", () => {
  it("allows 3 open streams per session by default; the 4th gets 429 RATE_LIMITED; closing one frees its place", async () => {
    const h = await start();
    const session = await createSession(h);
    const open = [await openStream(h, session), await openStream(h, session), await openStream(h, session)];
    expect(open.map((s) => s.status)).toEqual([200, 200, 200]);

    const fourth = await openStream(h, session);
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ error: "RATE_LIMITED" });

    // Another session of the same client is not affected.
    expect((await openStream(h, await createSession(h))).status).toBe(200);

    await open[0]!.close();
    expect((await openOnceFreed(h, session)).status).toBe(200);
    expect((await openStream(h, session)).status).toBe(429);
  });

  it("bounds the streams of one client address across sessions (configured: 2)", async () => {
    const h = await start({ server: { streams: { perClient: 2 } } });
    const sessions = [await createSession(h), await createSession(h), await createSession(h)];
    expect((await openStream(h, sessions[0]!)).status).toBe(200);
    const second = await openStream(h, sessions[1]!);
    expect(second.status).toBe(200);
    const third = await openStream(h, sessions[2]!);
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ error: "RATE_LIMITED" });

    await second.close();
    expect((await openOnceFreed(h, sessions[2]!)).status).toBe(200);
  });

  it("counts a stream only once authorised: wrong secrets take no place", async () => {
    const h = await start({ server: { streams: { perSession: 1 } } });
    const session = await createSession(h);
    for (let i = 0; i < 3; i++) expect((await openStream(h, { id: session.id, secret: "not-the-secret" })).status).toBe(401);
    expect((await openStream(h, session)).status).toBe(200);
    expect((await openStream(h, session)).status).toBe(429);
  });

  it("a stream that ends by itself (its session completes) frees its place", async () => {
    const h = await start({ server: { streams: { perSession: 1 } } });
    const session = (await h.api("POST", "/api/scan-sessions", { purpose: "login" })).body as { id: string; secret: string; qrcode: { ticket: string } };
    const stream = await openStream(h, session);
    expect(stream.status).toBe(200);
    expect((await openStream(h, session)).status).toBe(429);

    expect((await h.scan("alice", session.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
    // "scanned" is final without `confirm`: the server ends the stream, and frees the place before it does.
    expect(await stream.until("event: scanned")).toBe(true);
    expect(await stream.until("never sent")).toBe(false);
    expect((await openStream(h, session)).status).toBe(200);
  });
});

describe("scan-session event streams: socket limits", () => {
  it("a live stream outlives the request and idle timeouts, kept open by its heartbeats", async () => {
    // Heartbeats every 100 ms keep the socket busier than the 500 ms idle timeout; the stream lives far past the 300 ms request timeout.
    const h = await start({
      server: { http: { headersTimeoutMs: 200, requestTimeoutMs: 300, keepAliveTimeoutMs: 200, idleTimeoutMs: 500 } },
      scanSessions: { heartbeatMs: 100 },
    });
    const stream = await openStream(h, await createSession(h));
    expect(stream.status).toBe(200);
    const started = performance.now();
    expect(await stream.until(": heartbeat", 12)).toBe(true);
    expect(performance.now() - started).toBeGreaterThan(1_000);
  });
});
