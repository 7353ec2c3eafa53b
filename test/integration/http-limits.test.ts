/**
 * Issue #8 item 3: the socket limits of both HTTP servers (the service and the emulator), over
 * real loopback sockets. Real time is the thing under test here, so most cases run with short
 * limits set through configuration (a few hundred ms); one case proves the defaults keep the
 * 30-second promise. Every socket has a deadline, and every flood is bounded.
 */
import type { Server as NetServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_HTTP_TIMEOUTS, type HttpLimits } from "../../src/http-limits.ts";
import { sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { destroyAll, idleClient, rawClient, settled, tricklingClient, type RawClient } from "../helpers/raw-sockets.ts";
import { startServiceHarness, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const SHORT: Partial<HttpLimits> = { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300, idleTimeoutMs: 5_000 };
// Node checks the deadlines every min(headers, request)/4 ms: the slack covers one check plus scheduling on a busy machine.
const SLACK_MS = 700;

let factory: DatabaseFactory;
const harnesses: ServiceHarness[] = [];
const clients: RawClient[] = [];

beforeAll(() => {
  factory = sqliteFactory();
});
afterEach(async () => {
  destroyAll(clients.splice(0));
  await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
});
afterAll(async () => {
  await factory.cleanup();
});

async function start(options: Omit<ServiceHarnessOptions, "db">): Promise<ServiceHarness> {
  const { db } = await factory.create();
  const h = await startServiceHarness({ db, ...options });
  harnesses.push(h);
  return h;
}

function track<T extends RawClient>(client: T): T {
  clients.push(client);
  return client;
}

/** Both servers of a harness, each with a path that takes a POST body. */
function servers(h: ServiceHarness): { name: string; url: string; postPath: string; server: NetServer }[] {
  return [
    { name: "service", url: h.serviceUrl, postPath: "/wechat", server: h.server.app.server },
    { name: "emulator", url: h.emulatorUrl, postPath: "/cgi-bin/qrcode/create", server: h.emulator.app.server },
  ];
}

function openConnections(server: NetServer): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
}

/** The server notices a flood's closes a moment after the client sends them: wait for it (bounded). */
async function drained(server: NetServer, toAtMost: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await openConnections(server)) <= toAtMost) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`still ${await openConnections(server)} connections open`);
}

describe("HTTP limits with short timeouts (configured)", () => {
  it("closes a socket that sends nothing after the headers timeout, on the service and on the emulator", async () => {
    const h = await start({ server: { http: SHORT }, emulator: { http: SHORT } });
    for (const s of servers(h)) {
      const closure = await track(idleClient(s.url, 5_000)).closed;
      expect(closure.closedAfterMs, s.name).toBeDefined();
      expect(closure.closedAfterMs!, s.name).toBeGreaterThanOrEqual(SHORT.headersTimeoutMs! - 50);
      expect(closure.closedAfterMs!, s.name).toBeLessThan(SHORT.headersTimeoutMs! + SLACK_MS);
      expect(closure.firstLine, s.name).toBe("HTTP/1.1 408 Request Timeout");
    }
  });

  it("cuts a body trickled in slower than the request timeout, on the service and on the emulator", async () => {
    const h = await start({ server: { http: SHORT }, emulator: { http: SHORT } });
    for (const s of servers(h)) {
      // 1,000 bytes at one per 50 ms would take 50 s.
      const closure = await track(tricklingClient(s.url, s.postPath, 5_000, { length: 1_000, everyMs: 50 })).closed;
      expect(closure.closedAfterMs, s.name).toBeDefined();
      expect(closure.closedAfterMs!, s.name).toBeGreaterThanOrEqual(SHORT.requestTimeoutMs! - 50);
      expect(closure.closedAfterMs!, s.name).toBeLessThan(SHORT.requestTimeoutMs! + SLACK_MS);
      expect(closure.firstLine, s.name).toBe("HTTP/1.1 408 Request Timeout");
    }
  });

  it("closes an idle keep-alive connection after the keep-alive timeout, once its request is answered", async () => {
    const h = await start({ server: { http: SHORT }, emulator: { http: SHORT } });
    const closure = await track(rawClient(h.serviceUrl, 5_000, (socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))).closed;
    expect(closure.firstLine).toBe("HTTP/1.1 200 OK");
    expect(closure.closedAfterMs).toBeDefined();
    // Node keeps the socket 1 s past the advertised keep-alive timeout, so that a client acting at the deadline does not race the close.
    expect(closure.closedAfterMs!).toBeGreaterThanOrEqual(SHORT.keepAliveTimeoutMs!);
    expect(closure.closedAfterMs!).toBeLessThan(SHORT.keepAliveTimeoutMs! + 1_000 + SLACK_MS);
  });

  it("refuses connections past the cap within 1 s, and a signed push succeeds once the flood stops (service, then emulator)", async () => {
    const CAP = 20;
    const EXTRA = 10;
    const h = await start({ server: { http: { maxConnections: CAP } }, emulator: { http: { maxConnections: CAP } } });
    const channel = await h.api("POST", "/api/channels", { name: "flood" });
    expect(channel.status).toBe(201);
    const ticket = channel.body.qrcode.ticket as string;

    for (const s of servers(h)) {
      const before = await openConnections(s.server);
      const flood = Array.from({ length: CAP + EXTRA }, () => track(idleClient(s.url, 1_000)));
      await settled(flood, 1_000);
      const closures = await Promise.all(flood.map((c) => c.closed));
      const refused = closures.filter((c) => c.closedAfterMs !== undefined);
      expect(refused.length, s.name).toBe(EXTRA + before);
      for (const r of refused) {
        expect(r.closedAfterMs!, s.name).toBeLessThan(1_000);
        expect(r.firstLine, s.name).toBe(""); // dropped at once, never answered: no work for the server
      }
      destroyAll(flood);
      await drained(s.server, before);

      h.clock.advance(1_000);
      const scan = await h.scan(`o-after-${s.name}-flood`, ticket);
      expect(scan.status, s.name).toBe(200);
      expect(scan.body.delivery.outcome, s.name).toBe("delivered");
      expect(
        scan.body.delivery.attempts.map((a: { status?: number }) => a.status),
        s.name,
      ).toEqual([200]);
    }
  });
});

describe("HTTP limits with the defaults", () => {
  it("closes a socket that sends nothing, and cuts a 1 byte/s body, within 30 s on both servers", async () => {
    const h = await start({});
    const watched = servers(h).flatMap((s) => [
      { what: `${s.name}: idle`, client: track(idleClient(s.url, 35_000)) },
      { what: `${s.name}: 1 byte/s body`, client: track(tricklingClient(s.url, s.postPath, 35_000, { length: 1_000, everyMs: 1_000 })) },
    ]);
    const figures: Record<string, number | undefined> = {};
    for (const w of watched) figures[w.what] = (await w.client.closed).closedAfterMs;
    console.log("default limits: closed after (ms)", figures);
    for (const [what, ms] of Object.entries(figures)) {
      expect(ms, what).toBeDefined();
      expect(ms!, what).toBeLessThanOrEqual(30_000);
    }
    // Each by its own deadline: the idle one by the headers timeout, the trickle by the request timeout.
    expect(figures["service: idle"]!).toBeLessThan(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs + 2_000);
    expect(figures["service: 1 byte/s body"]!).toBeGreaterThanOrEqual(DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs - 100);
  }, 45_000);
});
