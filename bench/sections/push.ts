/**
 * Push handling, side by side in one run (issue #3): the receiver's `open()` in process (ops/s),
 * then HTTP push handling under autocannon (req/s, p99) against a bare `node:http` server that
 * answers "success", measured in the same run so the ratios hold on any machine.
 *
 * Process layout for the HTTP rows, on a 2-core machine: the server under test and autocannon
 * each run in a child process of their own, so each has a core, and this process only waits on
 * IPC while they run (it does not compete with either). A server in the bench process would
 * share its event loop, heap and garbage with the harness and with the in-process rows before
 * it; a fresh process per row also starts every server from the same cold state, so one row's
 * JIT and GC history cannot leak into the next. The processes are not pinned to cores (no
 * taskset), as for the reference numbers in environment.md.
 * @module
 */
import { request } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as PushModule from "../../src/push/index.ts";
import type { CannonJob, CannonResult } from "../load/cannon.ts";
import { startChild, stopAll } from "../load/child.ts";
import type { PushServerConfig, PushServerMode } from "../load/push-server.ts";
import { distIsFresh, measure, type BenchContext, type BenchRow, type Measurement } from "../lib.ts";

type PushApi = typeof PushModule;

export const name = "push";
export const description = "push receiver in process (ops/s) and over HTTP, 50 connections (req/s, p99; × bare node:http)";

// Vector V6 (wechat-api.md §6): the Official-Account sample's token, key and AppID, an
// encrypted subscribe-with-scene push, and the encrypted "welcome" reply to it.
const TOKEN = "pamtest";
const APP_ID = "wxb11529c136998cb6";
const ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const V6_TIMESTAMP = "1409304348";
const V6_NONCE = "xxxxxx";
const V6_RANDOM = Buffer.from("aaaabbbbccccdddd");
const V6_MSG_SIGNATURE = "e7d01d4a2a34e9c43bf40a8cf8143b46f43c25a3";
const V6_REPLY_MSG_SIGNATURE = "4f98556c66fa12eaf9774033d888172b24d995a8";
const ACCOUNT_ID = "gh_7f083739789a";
const OPEN_ID = "oia2TjjewbmiOUlr6X-1crbLOvLw";

const v6Plaintext = (createTime: string): string =>
  `<xml><ToUserName><![CDATA[${ACCOUNT_ID}]]></ToUserName><FromUserName><![CDATA[${OPEN_ID}]]></FromUserName>` +
  `<CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>` +
  `<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>`;

/** The safe-mode body as WeChat POSTs it: only the account and the ciphertext in the clear. */
const safeEnvelope = (encrypt: string): string =>
  `<xml>\n  <ToUserName><![CDATA[${ACCOUNT_ID}]]></ToUserName>\n  <Encrypt><![CDATA[${encrypt}]]></Encrypt>\n</xml>\n`;

// A plain-mode push as the service meets it: a new follower scanning a channel code with a
// long scene_str (64 characters, the most WeChat allows) and a full-length ticket.
const PLAIN_SCENE = "ch_01JDZ3K7Q9X4M2N8P5R6T0V1W3:poster:shanghai-metro-line2-exit-b";
const PLAIN_TICKET = "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==";
const plainBody = (createTime: string): string =>
  `<xml>\n  <ToUserName><![CDATA[${ACCOUNT_ID}]]></ToUserName>\n  <FromUserName><![CDATA[${OPEN_ID}]]></FromUserName>\n` +
  `  <CreateTime>${createTime}</CreateTime>\n  <MsgType><![CDATA[event]]></MsgType>\n  <Event><![CDATA[subscribe]]></Event>\n` +
  `  <EventKey><![CDATA[qrscene_${PLAIN_SCENE}]]></EventKey>\n  <Ticket><![CDATA[${PLAIN_TICKET}]]></Ticket>\n</xml>\n`;

const PUSH_PATH = "/wechat";
const HTTP_NONCE = "1415979516"; // WeChat's nonces are decimal strings
const CONNECTIONS = 50;
const WARMUP_SEC = 1;
const DURATION_SEC = 5;
const MICRO = { minMs: 1_000, maxMs: 2_000, maxIterations: 500_000, warmupIterations: 2_000, warmupMaxMs: 500 } as const;

interface Push {
  query: Record<string, string>;
  body: string;
}

interface HttpCase {
  case: string;
  mode: PushServerMode;
  body: "plain" | "safe";
  note: string;
}

const HTTP_CASES: readonly HttpCase[] = [
  { case: 'a. node:http → "success" (reference)', mode: "bare-success", body: "plain", note: "reads the body, no checks" },
  { case: "b. node:http + open() + reply(), plain", mode: "bare-receiver", body: "plain", note: "signature + parse" },
  { case: "b. node:http + open() + reply(), safe", mode: "bare-receiver", body: "safe", note: "signature + msg_signature + AES + parse ×2" },
  { case: "c. fastify + registerPushRoute, plain", mode: "fastify-route", body: "plain", note: "onMessage returns nothing" },
  { case: "d. fastify + registerPushRoute, safe", mode: "fastify-route", body: "safe", note: "onMessage returns nothing" },
];

/** The built dist when it is at least as new as the sources it comes from, else the sources through tsx. */
function chooseImpl(root: string): "dist" | "src" {
  return distIsFresh(
    root,
    ["dist/push/index.js", "dist/server/index.js", "dist/push/adapters/fastify.js"],
    ["src/push", "src/server", "src/errors.ts", "src/deps.ts"],
  )
    ? "dist"
    : "src";
}

function plainPush(api: PushApi, timestamp: string, nonce: string): Push {
  return { query: { signature: api.computeSignature(TOKEN, timestamp, nonce), timestamp, nonce, openid: OPEN_ID }, body: plainBody(timestamp) };
}

function safePush(api: PushApi, timestamp: string, nonce: string): Push {
  const encrypt = api.encryptMessage({ encodingAESKey: ENCODING_AES_KEY, appId: APP_ID, xml: v6Plaintext(timestamp), random16: V6_RANDOM });
  return {
    query: {
      signature: api.computeSignature(TOKEN, timestamp, nonce),
      timestamp,
      nonce,
      openid: OPEN_ID,
      encrypt_type: "aes",
      msg_signature: api.computeMsgSignature(TOKEN, timestamp, nonce, encrypt),
    },
    body: safeEnvelope(encrypt),
  };
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`push bench: ${what}`);
}

/** Receiver `open()` (and `reply()`) in this process, on V6 with the clock injected at its timestamp. */
async function microRows(api: PushApi, ctx: BenchContext): Promise<BenchRow[]> {
  const receiver = api.createPushReceiver({
    token: TOKEN,
    appId: APP_ID,
    encodingAESKey: ENCODING_AES_KEY,
    // One receiver measures both modes; the plain path is the same as a keyless receiver's.
    requireEncryption: false,
    now: () => Number(V6_TIMESTAMP) * 1000,
    random: (n) => V6_RANDOM.subarray(0, n), // only the reply's 16 bytes are drawn: V6's nonce is echoed
  });
  const safe = safePush(api, V6_TIMESTAMP, V6_NONCE);
  const plain = plainPush(api, V6_TIMESTAMP, V6_NONCE);
  const safeRequest = { query: safe.query, body: Buffer.from(safe.body) }; // raw bytes, as HTTP delivers them
  const plainRequest = { query: plain.query, body: Buffer.from(plain.body) };

  // Once, outside the timing: the library's own encryption reproduces V6, and every case opens.
  expect(safe.query.msg_signature === V6_MSG_SIGNATURE, `msg_signature ${safe.query.msg_signature} is not V6's: encryptMessage or computeMsgSignature changed`);
  const opened = receiver.open(safeRequest).message;
  expect(
    opened.kind === "scan" && opened.isNewFollower && opened.encrypted && opened.scene.str === "123123",
    "the V6 push did not open as a new-follower scan of scene 123123",
  );
  const welcome = receiver.open(safeRequest).reply("welcome");
  expect(welcome.body.includes(`<MsgSignature><![CDATA[${V6_REPLY_MSG_SIGNATURE}]]></MsgSignature>`), "the encrypted reply is not V6's");
  const openedPlain = receiver.open(plainRequest).message;
  expect(openedPlain.kind === "scan" && !openedPlain.encrypted && openedPlain.scene.str === PLAIN_SCENE, "the plain push did not open as a scan");

  const rows: { case: string; m: Measurement; bytes: number; note: string }[] = [];
  ctx.log("push: open() safe mode");
  rows.push({
    case: "open(), safe (V6 subscribe + scene)",
    m: await measure(() => receiver.open(safeRequest), MICRO),
    bytes: safeRequest.body.length,
    note: "verified: V6 msg_signature",
  });
  ctx.log("push: open() + reply(text) safe mode");
  rows.push({
    case: "open() + reply(text), safe",
    m: await measure(() => receiver.open(safeRequest).reply("welcome"), MICRO),
    bytes: safeRequest.body.length,
    note: "verified: V6 encrypted reply",
  });
  ctx.log("push: open() plain mode");
  rows.push({ case: "open(), plain", m: await measure(() => receiver.open(plainRequest), MICRO), bytes: plainRequest.body.length, note: "signature + parse" });
  ctx.log("push: open() + reply(text) plain mode");
  rows.push({
    case: "open() + reply(text), plain",
    m: await measure(() => receiver.open(plainRequest).reply("welcome"), MICRO),
    bytes: plainRequest.body.length,
    note: "XML reply",
  });
  return rows.map((r) => ({
    case: r.case,
    "ops/s": Math.round(r.m.opsPerSec),
    "µs/op": r.m.msPerOp * 1000,
    "req/s": null,
    "p99 ms": null,
    "× bare": null,
    "non-2xx": null,
    "srv µs/req": null,
    "srv CPU %": null,
    "gen CPU %": null,
    bytes: r.bytes,
    n: r.m.iterations,
    note: r.note,
  }));
}

/** One POST on a fresh connection, outside the load: the server is up and answers this body with "success". */
function postOnce(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent: false, headers: { ...headers, connection: "close", "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

interface HttpMeasurement {
  result: CannonResult;
  handled: number;
  /** Server CPU time per push handled during the measured run, in µs. */
  serverMicrosPerReq: number;
  /** Server CPU time over the measured run as a share of its wall time (100 = one core busy). */
  serverCpuPercent: number;
}

interface ServerStats {
  type: "stats";
  handled: number;
  refused: number;
  cpuMicros: number;
  atMs: number;
}

async function measureHttp(ctx: BenchContext, impl: "dist" | "src", c: HttpCase, push: Push): Promise<HttpMeasurement> {
  const config: PushServerConfig = { mode: c.mode, impl, root: ctx.root, path: PUSH_PATH, token: TOKEN, appId: APP_ID, encodingAESKey: ENCODING_AES_KEY };
  const server = startChild("push-server.ts", config, `server ${c.mode}`, ctx.root);
  try {
    const { port } = await server.waitFor<{ type: "listening"; port: number }>("listening", 30_000);
    const url = `http://127.0.0.1:${port}${PUSH_PATH}?${new URLSearchParams(push.query).toString()}`;
    const headers = { "content-type": "text/xml" };
    const probe = await postOnce(url, push.body, headers);
    expect(probe.status === 200 && probe.body === "success", `${c.case}: probe answered ${probe.status} ${JSON.stringify(probe.body.slice(0, 200))}`);

    const job: CannonJob = { url, body: push.body, headers, connections: CONNECTIONS, warmupSec: WARMUP_SEC, durationSec: DURATION_SEC, expectBody: "success" };
    const cannon = startChild("cannon.ts", job, `autocannon → ${c.mode}`, ctx.root);
    let result: CannonResult;
    let before: ServerStats;
    let after: ServerStats;
    try {
      await cannon.waitFor("warmed", WARMUP_SEC * 1000 + 30_000);
      before = await server.ask<ServerStats>({ type: "stats" }, "stats", 5_000);
      result = await cannon.waitFor<CannonResult>("result", DURATION_SEC * 1000 + 15_000);
      after = await server.ask<ServerStats>({ type: "stats" }, "stats", 5_000);
    } finally {
      await cannon.stop();
    }

    const bad = (f: CannonResult["warmup"] | CannonResult): number => f.non2xx + f.errors + f.timeouts + f.mismatches;
    if (bad(result) + bad(result.warmup) > 0 || after.refused > 0) {
      throw new Error(
        `push bench: ${c.case} had failures — measured: ${JSON.stringify({ non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, mismatches: result.mismatches, statusCodes: result.statusCodes })}, ` +
          `warm-up: ${JSON.stringify(result.warmup)}, server refused ${after.refused}; every push must verify and be answered "success"`,
      );
    }
    // Every counted answer came from a handled push (the server may also have handled a few whose answers autocannon dropped at the end).
    const answered = result.ok2xx + result.warmup.ok2xx + 1;
    expect(after.handled >= answered, `${c.case}: autocannon counted ${answered} answers but the server handled only ${after.handled} pushes`);
    expect(result.requests > 0, `${c.case}: no requests completed`);
    const cpuMicros = after.cpuMicros - before.cpuMicros;
    return {
      result,
      handled: after.handled,
      serverMicrosPerReq: cpuMicros / Math.max(1, after.handled - before.handled),
      serverCpuPercent: (cpuMicros / 1000 / (after.atMs - before.atMs)) * 100,
    };
  } finally {
    await server.stop();
  }
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const impl = chooseImpl(ctx.root);
  const api = (await import(pathToFileURL(join(ctx.root, impl === "dist" ? "dist/push/index.js" : "src/push/index.ts")).href)) as PushApi;
  ctx.log(`push: measuring ${impl === "dist" ? "dist" : "src (dist missing or stale)"}`);
  // The HTTP pushes carry the real time: the servers' receivers use the system clock and allow 300 s of skew; the section takes under a minute.
  const now = String(Math.floor(Date.now() / 1000));
  const pushes = { plain: plainPush(api, now, HTTP_NONCE), safe: safePush(api, now, HTTP_NONCE) };

  const rows = await microRows(api, ctx);
  try {
    let bare: number | undefined;
    for (const c of HTTP_CASES) {
      ctx.log(`push: HTTP ${c.case} (${WARMUP_SEC} s warm-up + ${DURATION_SEC} s, ${CONNECTIONS} connections)`);
      const push = pushes[c.body];
      const { result, handled, serverMicrosPerReq, serverCpuPercent } = await measureHttp(ctx, impl, c, push);
      bare ??= result.reqPerSec; // the first case is the reference
      rows.push({
        case: c.case,
        "ops/s": null,
        "µs/op": null,
        "req/s": Math.round(result.reqPerSec),
        "p99 ms": result.latencyP99Ms,
        "× bare": Math.round((result.reqPerSec / bare) * 100) / 100,
        "non-2xx": result.non2xx + result.warmup.non2xx,
        "srv µs/req": Math.round(serverMicrosPerReq * 10) / 10,
        "srv CPU %": Math.round(serverCpuPercent),
        "gen CPU %": Math.round(result.cpuPercent),
        bytes: Buffer.byteLength(push.body),
        n: result.requests,
        note: `${c.body}; ${c.note}; server handled ${handled.toLocaleString("en-US")}`,
      });
    }
  } finally {
    await stopAll();
  }
  return rows;
}
