/**
 * Issue 9 item 1: one push handler core, thin adapters, each run inside the real framework over
 * loopback — `node:http`, Express, Koa, Fastify and Hono (through the Web `Request` adapter) —
 * and each answering alike:
 * - a safe-mode subscribe pushed by the emulator gets the handler's text as an encrypted passive
 *   reply, which the emulator decrypts into what the user saw;
 * - the receiver's whole hostile-push table gets the same statuses, and nothing reaches `onMessage`;
 * - 200 only after `onMessage` resolved; `success` when a reply cannot be built; 503 when `onMessage` throws.
 */
import { createServer, type Server } from "node:http";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import Koa from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createEmulator, type Emulator } from "../../src/emulator/index.ts";
import { PUSH_STATUS_BY_CODE, type PushHandlerOptions } from "../../src/push/handler.ts";
import {
  createKoaMiddleware,
  createNodeMiddleware,
  createPushReceiver,
  createWebHandler,
  registerPushRoute,
  type PushMessage,
  type PushReceiverOptions,
} from "../../src/push/index.ts";
import { computeSignature } from "../../src/push/signature.ts";
import { cases, receiver } from "../fixtures/push-requests.ts";

interface Running {
  url: string;
  close(): Promise<void>;
}

type Start = (options: PushHandlerOptions) => Promise<Running>;

function listening(server: Server): Promise<Running> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const ADAPTERS: Record<string, Start> = {
  "node:http": (options) => listening(createServer(createNodeMiddleware(options))),
  Express: (options) => {
    const app = express();
    app.use(createNodeMiddleware(options));
    return listening(createServer(app));
  },
  "Express behind express.raw()": (options) => {
    const app = express();
    app.use(express.raw({ type: "*/*", limit: "20mb" }));
    app.use(createNodeMiddleware(options));
    return listening(createServer(app));
  },
  Koa: (options) => {
    const app = new Koa();
    app.use(createKoaMiddleware(options));
    return listening(createServer(app.callback()));
  },
  Fastify: async (options) => {
    const app = Fastify();
    registerPushRoute(app, options);
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
  "Hono (Web Request)": async (options) => {
    const app = new Hono();
    const wechat = createWebHandler(options);
    app.all("/wechat", (c) => wechat(c.req.raw));
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
    });
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done()))),
    };
  },
};

/** The query as a client would send it: repeated parameters as repeated keys. */
function queryString(query: Readonly<Record<string, string | readonly string[] | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of typeof value === "string" ? [value] : value) params.append(key, v);
  }
  return params.toString();
}

describe.each(Object.entries(ADAPTERS))("%s", (_name, start) => {
  describe("a safe-mode subscribe pushed by the emulator", () => {
    const clock = createManualClock(Date.UTC(2026, 10, 30, 4, 0, 0));
    const aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let emulator: Emulator;
    let emulatorUrl: string;
    let app: Running;
    const seen: string[] = [];
    const events: string[] = [];

    beforeAll(async () => {
      emulator = createEmulator({ appId: "wx00000000adapter1", appSecret: "adaptersecret" }, { clock, random: createSeededRandom(3), logger: silentLogger });
      emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
      const receiver = createPushReceiver({
        token: "adapterToken1",
        appId: "wx00000000adapter1",
        encodingAESKey: aesKey,
        now: () => clock.now(),
        random: createSeededRandom(4),
      });
      app = await start({
        receiver,
        onMessage: async (message: PushMessage) => {
          events.push("handler started");
          seen.push(`${message.kind}:${message.openId}:${message.encrypted}`);
          await Promise.resolve();
          events.push("handler done");
          if (message.openId === "oBell") return "ding\u0007"; // XML cannot carry U+0007
          if (message.openId === "oBroken") throw new Error("database down");
          return message.kind === "subscribe" ? `hello ${message.openId}` : undefined;
        },
      });
    });
    afterAll(async () => {
      await app.close();
      await emulator.close();
    });

    async function follow(openId: string, maxRetries = 0): Promise<{ outcome: string; userSaw: string | null; attempts: Array<{ status?: number }> }> {
      const put = await fetch(`${emulatorUrl}/emulator/push`, {
        method: "PUT",
        body: JSON.stringify({ url: `${app.url}/wechat`, token: "adapterToken1", encodingAESKey: aesKey, mode: "safe", maxRetries }),
      });
      expect(put.status).toBe(200);
      const res = await fetch(`${emulatorUrl}/emulator/subscribe`, { method: "POST", body: JSON.stringify({ openId }) });
      const body = (await res.json()) as { delivery: { outcome: string; userSaw: string | null; attempts: Array<{ status?: number }> } };
      return body.delivery;
    }

    it("answers with the handler's text, encrypted, after the handler finished", async () => {
      events.length = 0;
      const delivery = await follow("oAlice");
      expect(delivery).toMatchObject({ outcome: "delivered", userSaw: "hello oAlice" });
      // The emulator's delivery log: the reply came encrypted, and decrypts to the handler's text.
      const log = (await (await fetch(`${emulatorUrl}/emulator/deliveries?openId=oAlice`)).json()) as {
        deliveries: Array<{ mode: string; reply: { kind: string; text?: string }; userSaw: string | null }>;
      };
      expect(log.deliveries.at(-1)).toMatchObject({ mode: "safe", reply: { kind: "text", text: "hello oAlice" }, userSaw: "hello oAlice" });
      expect(seen).toContain("subscribe:oAlice:true");
      expect(events).toEqual(["handler started", "handler done"]);
    });

    it("answers success when the reply cannot be built, and 503 when the handler fails", async () => {
      expect(await follow("oBell")).toMatchObject({ outcome: "delivered", userSaw: null });
      const failed = await follow("oBroken");
      expect(failed.outcome).toBe("failed");
      expect(failed.attempts.map((a) => a.status)).toEqual([503]);
    });

    it("answers URL verification with the echostr, and other methods with 405", async () => {
      const timestamp = String(Math.floor(clock.now() / 1000));
      const signature = computeSignature("adapterToken1", timestamp, "42");
      const res = await fetch(`${app.url}/wechat?signature=${signature}&timestamp=${timestamp}&nonce=42&echostr=echo123`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("echo123");
      const forged = await fetch(`${app.url}/wechat?signature=${"0".repeat(40)}&timestamp=${timestamp}&nonce=42&echostr=echo123`);
      expect(forged.status).toBe(401);
      const put = await fetch(`${app.url}/wechat`, { method: "PUT", body: "x" });
      expect(put.status).toBe(405);
    });
  });

  describe("the receiver's hostile-push table", () => {
    const apps = new Map<string, Running>();
    const reached: PushMessage[] = [];

    async function appFor(options: Partial<PushReceiverOptions> | undefined): Promise<Running> {
      const key = JSON.stringify(options ?? {}, (_k, v: unknown) => (v === undefined ? "undefined" : v));
      let running = apps.get(key);
      if (!running) {
        running = await start({
          receiver: receiver(options),
          onMessage: (message) => {
            reached.push(message);
          },
        });
        apps.set(key, running);
      }
      return running;
    }

    afterAll(async () => {
      await Promise.all([...apps.values()].map((a) => a.close()));
    });

    const sendable = cases.filter((c) => {
      const body = c.request().body as unknown;
      return typeof body === "string" || body instanceof Uint8Array;
    });

    it("covers the table but the case HTTP cannot carry (a body that is neither text nor bytes)", () => {
      expect(sendable.length).toBe(cases.length - 1);
    });

    it.each(sendable.map((c) => [c.name, c] as const))("%s", async (_case, c) => {
      const app = await appFor(c.options);
      const request = c.request();
      const before = reached.length;
      const res = await fetch(`${app.url}/wechat?${queryString(request.query)}`, {
        method: "POST",
        headers: { "content-type": "text/xml" },
        body: request.body as string | Uint8Array,
      });
      const text = await res.text();
      if ("check" in c.expect) {
        expect(res.status).toBe(200);
        expect(text).toBe("success");
        expect(reached.length).toBe(before + 1);
        c.expect.check(reached[reached.length - 1]!);
        return;
      }
      expect(res.status).toBe(PUSH_STATUS_BY_CODE[c.expect.code]);
      expect(JSON.parse(text)).toMatchObject({ error: c.expect.code, ...(c.expect.field === undefined ? {} : { field: c.expect.field }) });
      expect(reached.length).toBe(before);
    });
  });
});
