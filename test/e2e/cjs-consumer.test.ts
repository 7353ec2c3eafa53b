/**
 * Issue 9 item 3: a CommonJS project `require`s wxqr — the package root and each adapter on its
 * own — and opens a push, on the Node this test runs on (`engines`: ≥ 20.19, where `require()`
 * loads ES modules). The project is a temporary folder whose `node_modules/wxqr` links to this
 * package, as `npm install ../wxqr` would leave it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, ROOT } from "../helpers/cli.ts";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wxqr-cjs-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cjs-consumer", private: true, type: "commonjs" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "wxqr"), "dir");
  writeFileSync(
    join(dir, "consumer.js"),
    `"use strict";
const { createPushReceiver, computeSignature, createSceneRouter } = require("wxqr");
const { createNodeMiddleware } = require("wxqr/adapters/node");
const { createWebHandler } = require("wxqr/adapters/web");
const { createKoaMiddleware } = require("wxqr/adapters/koa");
const { registerPushRoute } = require("wxqr/adapters/fastify");
const now = 1700000000;
const receiver = createPushReceiver({ token: "cjsToken1", appId: "wx000000000000cjs1", now: () => now * 1000 });
const xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oCjs]]></FromUserName><CreateTime>" + now + "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[poster-9]]></EventKey></xml>";
const query = { signature: computeSignature("cjsToken1", String(now), "42"), timestamp: String(now), nonce: "42" };
const { message, reply } = receiver.open({ query, body: xml });
createSceneRouter().on("poster-*", (m, match) => match.rest).route(message).then((rest) => {
  console.log(JSON.stringify({ kind: message.kind, scene: message.scene.str, rest, reply: reply("hi").contentType, adapters: [createNodeMiddleware, createWebHandler, createKoaMiddleware, registerPushRoute].map((f) => typeof f) }));
});
`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("a CommonJS consumer", () => {
  it("requires the package and its adapters and opens a push, with no warning", async () => {
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, ["consumer.js"], { cwd: dir, env: cleanEnv(), timeout: 20_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve({ stdout: out, stderr: err }),
      ),
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      kind: "scan",
      scene: "poster-9",
      rest: "9",
      reply: "application/xml",
      adapters: ["function", "function", "function", "function"],
    });
  });
});
