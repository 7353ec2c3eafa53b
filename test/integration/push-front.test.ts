/**
 * The push front (src/server/push-front.ts): POSTs to /wechat are answered off `node:http` before
 * Fastify, with what the Fastify route gave them — statuses and error codes, the body limit, the
 * push metrics, logs that never carry the query's secrets — while the verification GET, other
 * methods and every other route still go through Fastify. Over loopback, on a SQLite file.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeMsgSignature, computeSignature, encryptMessage } from "../../src/push/index.ts";
import { sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { AES_KEY, metricValue, PUSH_TOKEN, SERVICE_APP_ID, SERVICE_START, startServiceHarness, type ServiceHarness } from "../helpers/service.ts";

const NOW_S = String(Math.floor(SERVICE_START / 1000));
const NONCE = "8261940587";

let factory: DatabaseFactory;
let h: ServiceHarness;
const logLines: string[] = [];

function followXml(openId: string): string {
  return `<xml><ToUserName><![CDATA[gh_000000000001]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${NOW_S}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey></xml>`;
}

/** A safe-mode push as WeChat sends it: query and encrypted envelope. */
function safePush(openId: string, forge: "none" | "msg_signature" = "none"): { query: string; body: string; msgSignature: string } {
  const encrypt = encryptMessage({ encodingAESKey: AES_KEY, appId: SERVICE_APP_ID, xml: followXml(openId), random16: Buffer.alloc(16, 7) });
  const msgSignature = forge === "none" ? computeMsgSignature(PUSH_TOKEN, NOW_S, NONCE, encrypt) : "0".repeat(40);
  const query = new URLSearchParams({
    signature: computeSignature(PUSH_TOKEN, NOW_S, NONCE),
    timestamp: NOW_S,
    nonce: NONCE,
    openid: openId,
    encrypt_type: "aes",
    msg_signature: msgSignature,
  }).toString();
  return { query, body: `<xml><ToUserName><![CDATA[gh_000000000001]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`, msgSignature };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request on a connection of its own; `chunks` go out with chunked transfer encoding (no Content-Length). */
function send(method: string, path: string, body?: string | Buffer | { chunks: Buffer[] }): Promise<Answer> {
  const url = new URL(path, h.serviceUrl);
  return new Promise((resolve, reject) => {
    const chunked = body !== undefined && typeof body === "object" && !Buffer.isBuffer(body);
    const req = httpRequest(
      url,
      { method, agent: false, headers: { "content-type": "text/xml", ...(chunked ? { "transfer-encoding": "chunked" } : {}) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString("utf8") }));
        res.on("error", reject);
      },
    );
    // The server may answer and close before all of a refused body is written.
    req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
    if (chunked) for (const c of body.chunks) req.write(c);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

async function metrics(): Promise<string> {
  return (await h.api("GET", "/metrics")).body as string;
}

beforeAll(async () => {
  factory = sqliteFactory();
  h = await startServiceHarness({
    db: (await factory.create()).db,
    server: { logger: { level: "info", stream: { write: (line) => void logLines.push(line) } } },
  });
});

afterAll(async () => {
  await h?.close();
  await factory?.cleanup();
});

describe("POST /wechat in front of Fastify", () => {
  it("records a push and answers success after its commit, counting it and its duration in /metrics", async () => {
    const push = safePush("front-u1");
    const answer = await send("POST", `/wechat?${push.query}`, push.body);
    expect(answer).toMatchObject({ status: 200, text: "success" });
    const events = await h.api("GET", "/api/events");
    expect(events.body.events.map((e: { openId: string }) => e.openId)).toContain("front-u1");
    const text = await metrics();
    expect(metricValue(text, 'wxqr_pushes_total{outcome="recorded"}')).toBe(1);
    expect(metricValue(text, 'wxqr_push_duration_seconds_count{outcome="ok"}')).toBe(1);
  });

  it.each([
    ["a forged msg_signature", () => safePush("front-u2", "msg_signature"), 401, "SIGNATURE_INVALID"],
    [
      "a plaintext push to a safe-mode account",
      () => ({ query: safePush("front-u3").query.replace("encrypt_type=aes", "encrypt_type=raw"), body: followXml("front-u3") }),
      401,
      "SIGNATURE_INVALID",
    ],
    ["an envelope with no Encrypt", () => ({ query: safePush("front-u4").query, body: "<xml><ToUserName>x</ToUserName></xml>" }), 400, "PUSH_MALFORMED"],
    [
      "a body just over the receiver's 64 KiB",
      () => ({ query: safePush("front-u5").query, body: `<xml>${" ".repeat(64 * 1024)}</xml>` }),
      413,
      "PUSH_TOO_LARGE",
    ],
  ])("refuses %s with the route's status and code, never echoing the query's secrets", async (_case, make, status, code) => {
    const before = metricValue(await metrics(), `wxqr_pushes_total{outcome="http_${status}"}`);
    const push = make();
    const answer = await send("POST", `/wechat?${push.query}`, push.body);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.text)).toMatchObject({ error: code });
    expect(answer.text).not.toContain(computeSignature(PUSH_TOKEN, NOW_S, NONCE));
    const after = await metrics();
    expect(metricValue(after, `wxqr_pushes_total{outcome="http_${status}"}`)).toBe(before + 1);
    expect(metricValue(after, `wxqr_push_duration_seconds_count{outcome="http_${status}"}`)).toBe(before + 1);
  });

  it("refuses a declared body far over the limit unread, and closes the connection", async () => {
    const answer = await send("POST", `/wechat?${safePush("front-u6").query}`, Buffer.alloc(1024 * 1024, 0x20));
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.text)).toMatchObject({ error: "PUSH_TOO_LARGE" });
  });

  it("refuses a chunked body once it passes the limit, and closes the connection", async () => {
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(4096, 0x20));
    const answer = await send("POST", `/wechat?${safePush("front-u7").query}`, { chunks });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.text)).toMatchObject({ error: "PUSH_TOO_LARGE" });
  });

  it("leaves URL verification, other methods on /wechat and other routes to Fastify", async () => {
    const query = new URLSearchParams({ signature: computeSignature(PUSH_TOKEN, NOW_S, NONCE), timestamp: NOW_S, nonce: NONCE, echostr: "5837261904" });
    expect(await send("GET", `/wechat?${query}`)).toMatchObject({ status: 200, text: "5837261904" });
    const put = await send("PUT", `/wechat?${query}`, "x");
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe("GET, POST");
    expect((await send("GET", "/healthz")).status).toBe(200);
    expect((await send("POST", "/wechat/other", "x")).status).toBe(404);
  });

  it("logs each push's request line and refusals by code, never the token, the key or the signatures", async () => {
    const push = safePush("front-u8", "msg_signature");
    logLines.length = 0;
    expect((await send("POST", `/wechat?${push.query}`, push.body)).status).toBe(401);
    const entries = logLines.map((line) => JSON.parse(line) as { msg: string; error?: string; req?: { url: string }; res?: { statusCode: number } });
    expect(entries.find((e) => e.msg === "push refused")).toMatchObject({ error: "SIGNATURE_INVALID" });
    // Fastify logs "incoming request" for what it routes: the push never reached it.
    expect(entries.map((e) => e.msg)).not.toContain("incoming request");
    const completed = entries.find((e) => e.msg === "request completed");
    expect(completed?.res?.statusCode).toBe(401);
    expect(completed?.req?.url).toMatch(/^\/wechat\?signature=%5Bredacted%5D|^\/wechat\?signature=\[redacted\]/);
    const all = logLines.join("\n");
    for (const secret of [PUSH_TOKEN, AES_KEY, computeSignature(PUSH_TOKEN, NOW_S, NONCE), push.msgSignature]) expect(all).not.toContain(secret);
  });
});
