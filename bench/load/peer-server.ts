/**
 * A Node peer's push endpoint under load, in a process of its own (started by
 * bench/sections/peers.ts): `wechat` (node-webot) as Express middleware, or `co-wechat` as Koa
 * middleware, both in safe mode with the handler answering the empty string (what both document
 * for "received, nothing to say") and storing nothing.
 *
 * The peers are loaded from the bench's own install (bench/.peers/node_modules), never from
 * wxqr's dependencies. Same IPC protocol as push-server.ts: `{ type: "listening", port }`,
 * `{ type: "stats" }` → handled (the handler ran) and refused (answers ≥ 400), `{ type: "close" }`.
 * @module
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { childConfig, fail, serveParent, toParent, type IpcMessage } from "./child.ts";

export type PeerName = "wechat" | "co-wechat";

export interface PeerServerConfig {
  peer: PeerName;
  /** The folder holding the peers' package.json and node_modules. */
  peersDir: string;
  path: string;
  token: string;
  appId: string;
  encodingAESKey: string;
}

// The peers ship no types: only the calls made here are described.
type ExpressApp = RequestListener & { use(path: string, handler: unknown): void };
type WechatMiddleware = (
  config: { token: string; appid: string; encodingAESKey: string },
  handler: (req: IncomingMessage, res: ServerResponse & { reply(content: string): void }) => void,
) => unknown;
interface KoaApp {
  use(middleware: unknown): void;
  callback(): RequestListener;
}
type CoWechat = (config: { token: string; appid: string; encodingAESKey: string }) => {
  middleware(handle: (message: unknown) => Promise<string>): unknown;
};

const config = childConfig<PeerServerConfig>();
const requirePeer = createRequire(join(config.peersDir, "package.json"));
let handled = 0;
let refused = 0;

function listener(): RequestListener {
  const secrets = { token: config.token, appid: config.appId, encodingAESKey: config.encodingAESKey };
  if (config.peer === "wechat") {
    const express = requirePeer("express") as () => ExpressApp;
    const wechat = requirePeer("wechat") as WechatMiddleware;
    const app = express();
    app.use(
      config.path,
      wechat(secrets, (_req, res) => {
        handled++;
        res.reply("");
      }),
    );
    return app;
  }
  const Koa = requirePeer("koa") as new () => KoaApp;
  const coWechat = requirePeer("co-wechat") as CoWechat;
  const app = new Koa();
  app.use(
    coWechat(secrets).middleware(async () => {
      handled++;
      return "";
    }),
  );
  return app.callback();
}

try {
  const handle = listener();
  const server = createServer((req, res) => {
    res.on("finish", () => {
      if (res.statusCode >= 400) refused++;
    });
    handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  serveParent(async (message: IpcMessage) => {
    if (message.type === "stats") {
      const cpu = process.cpuUsage();
      await toParent({ type: "stats", handled, refused, cpuMicros: cpu.user + cpu.system, atMs: performance.now() });
    } else if (message.type === "close") {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
  await toParent({ type: "listening", port: (server.address() as AddressInfo).port });
} catch (error) {
  fail(error);
}
