/**
 * A push endpoint under load, in a process of its own (started by bench/sections/push.ts):
 *
 * - `bare-success`: `node:http`, reads the body, answers `success` — the reference;
 * - `bare-receiver`: `node:http`, reads the body, then `receiver.open()` + `receiver.reply()`
 *   (signature, timestamp, and for `encrypt_type=aes` msg_signature + AES) — the receiver's own cost;
 * - `fastify-route`: Fastify + `registerPushRoute` with an `onMessage` that returns nothing.
 *
 * Listens on 127.0.0.1:0, sends `{ type: "listening", port }`, answers `{ type: "stats" }` with
 * how many requests it handled and refused and the CPU time it has used, and closes on
 * `{ type: "close" }` or when the parent goes.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Fastify from "fastify";
import type * as PushModule from "../../src/push/index.ts";
import type * as ServerModule from "../../src/server/index.ts";
import { childConfig, fail, serveParent, toParent, type IpcMessage } from "./child.ts";

export type PushServerMode = "bare-success" | "bare-receiver" | "fastify-route";

export interface PushServerConfig {
  mode: PushServerMode;
  /** Which build of the library to load: the fresh dist, or the sources through tsx. */
  impl: "dist" | "src";
  root: string;
  path: string;
  token: string;
  appId: string;
  encodingAESKey: string;
}

const config = childConfig<PushServerConfig>();
let handled = 0;
let refused = 0;

async function load<T>(dist: string, src: string): Promise<T> {
  return (await import(pathToFileURL(join(config.root, config.impl === "dist" ? dist : src)).href)) as T;
}

function queryOf(url: string | undefined): Record<string, string> {
  const q = url?.indexOf("?") ?? -1;
  return q < 0 ? {} : Object.fromEntries(new URLSearchParams(url!.slice(q + 1)));
}

/** Reads the whole body, as every server here does before answering (so `a` does not skip work the others do). */
function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

async function start(): Promise<{ port: number; close: () => Promise<void> }> {
  if (config.mode === "fastify-route") {
    const { createPushReceiver } = await load<typeof PushModule>("dist/push/index.js", "src/push/index.ts");
    const { registerPushRoute } = await load<typeof ServerModule>("dist/server/index.js", "src/server/index.ts");
    const receiver = createPushReceiver({ token: config.token, appId: config.appId, encodingAESKey: config.encodingAESKey, requireEncryption: false });
    // No logger: the adapter is measured, not pino's per-request lines.
    const app = Fastify({ logger: false });
    registerPushRoute(app, {
      receiver,
      path: config.path,
      onMessage: () => {
        handled++; // nothing to say: the adapter answers `success`
      },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  }

  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  if (config.mode === "bare-success") {
    handler = (req, res) =>
      readBody(req, () => {
        handled++;
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("success");
      });
  } else {
    const { createPushReceiver } = await load<typeof PushModule>("dist/push/index.js", "src/push/index.ts");
    const receiver = createPushReceiver({ token: config.token, appId: config.appId, encodingAESKey: config.encodingAESKey, requireEncryption: false });
    handler = (req, res) =>
      readBody(req, (body) => {
        try {
          const reply = receiver.open({ query: queryOf(req.url), body }).reply(); // nothing to say: `success`, as the route's
          handled++;
          res.writeHead(200, { "content-type": reply.contentType });
          res.end(reply.body);
        } catch (error) {
          refused++;
          res.writeHead(400, { "content-type": "text/plain" });
          res.end(error instanceof Error ? error.message : String(error));
        }
      });
  }
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

try {
  const server = await start();
  serveParent(async (message: IpcMessage) => {
    if (message.type === "stats") {
      const cpu = process.cpuUsage();
      await toParent({ type: "stats", handled, refused, cpuMicros: cpu.user + cpu.system, atMs: performance.now() });
    } else if (message.type === "close") {
      await server.close();
      process.exit(0);
    }
  });
  await toParent({ type: "listening", port: server.port });
} catch (error) {
  fail(error);
}
