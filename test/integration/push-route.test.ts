/**
 * `registerPushRoute` over loopback: URL verification, the passive reply (`success` when it cannot
 * be built after the effects committed), and the error → status map (401 / 400 / 413 / 503) with
 * bodies that never echo secrets.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTextReplyXml, computeSignature, createPushReceiver, type PushMessage } from "../../src/push/index.ts";
import { registerPushRoute } from "../../src/server/index.ts";

const TOKEN = "routeToken42";
const APP_ID = "wx00000000route001";
const NOW_S = 1_790_000_000;
const NONCE = "1234567890";

let app: FastifyInstance;
let base: string;
const seen: PushMessage[] = [];

function signed(extra: Record<string, string> = {}, timestamp = String(NOW_S)): string {
  return new URLSearchParams({ signature: computeSignature(TOKEN, timestamp, NONCE), timestamp, nonce: NONCE, openid: "u1", ...extra }).toString();
}

function pushXml(openId: string, event = "subscribe", eventKey = "qrscene_5"): string {
  return `<xml><ToUserName><![CDATA[gh_000000000001]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${NOW_S}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event><EventKey><![CDATA[${eventKey}]]></EventKey></xml>`;
}

const post = (path: string, body: string | Buffer, contentType = "text/xml") =>
  fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": contentType } });

beforeAll(async () => {
  app = Fastify({ logger: false });
  const receiver = createPushReceiver({ token: TOKEN, appId: APP_ID, now: () => NOW_S * 1000 });
  registerPushRoute(app, {
    receiver,
    onMessage: async (message) => {
      seen.push(message);
      if (message.openId === "breaks") throw new Error(`database down, token ${TOKEN}`);
      if (message.openId === "bell") return { text: "ding\u0007" }; // XML cannot carry U+0007
      return message.kind === "scan" ? { text: "hello" } : undefined;
    },
  });
  // Another route in the same app keeps Fastify's usual JSON parsing.
  app.post("/api/echo", async (request) => request.body);
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app.close();
});

describe("GET /wechat (URL verification)", () => {
  it("returns the echostr unchanged as text", async () => {
    const res = await fetch(`${base}/wechat?${signed({ echostr: "8734219876543210" })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("8734219876543210");
  });

  it("refuses a bad signature with 401", async () => {
    const res = await fetch(`${base}/wechat?signature=${"0".repeat(40)}&timestamp=${NOW_S}&nonce=${NONCE}&echostr=x`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "SIGNATURE_INVALID" });
  });
});

describe("POST /wechat", () => {
  it("hands the message to onMessage and sends its text as the passive reply", async () => {
    const res = await post(`/wechat?${signed()}`, pushXml("u1"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(buildTextReplyXml({ openId: "u1", originalId: "gh_000000000001", createTime: NOW_S, content: "hello" }));
    expect(seen.at(-1)).toMatchObject({ kind: "scan", openId: "u1", scene: { str: "5", id: 5 } });
  });

  it("replies success when onMessage has nothing to say, whatever the content type", async () => {
    const res = await post(`/wechat?${signed()}`, pushXml("u2", "unsubscribe", ""), "application/json");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("success");
  });

  it("leaves other routes' body parsing alone", async () => {
    const res = await fetch(`${base}/api/echo`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
    expect(await res.json()).toEqual({ a: 1 });
  });

  it.each([
    ["a bad signature", `signature=${"0".repeat(40)}&timestamp=${NOW_S}&nonce=${NONCE}`, pushXml("u3"), 401, "SIGNATURE_INVALID"],
    ["a stale timestamp", signed({}, String(NOW_S - 3_600)), pushXml("u3"), 401, "TIMESTAMP_STALE"],
    ["a body that is not XML", signed(), "hello", 400, "PUSH_MALFORMED"],
    ["a DOCTYPE", signed(), `<!DOCTYPE x [<!ENTITY e "e">]>${pushXml("u3")}`, 400, "PUSH_MALFORMED"],
    ["an empty body", signed(), "", 400, "PUSH_MALFORMED"],
    ["an encrypted push without a key", signed({ encrypt_type: "aes", msg_signature: "0" }), pushXml("u3"), 400, "DECRYPT_FAILED"],
    ["a body just over the receiver's limit", signed(), `<xml>${" ".repeat(64 * 1024)}</xml>`, 413, "PUSH_TOO_LARGE"],
    ["a body far over the limit", signed(), Buffer.alloc(1024 * 1024, 0x20), 413, "PUSH_TOO_LARGE"],
  ])("refuses %s", async (_case, query, body, status, code) => {
    const before = seen.length;
    const res = await post(`/wechat?${query}`, body);
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: code });
    expect(text).not.toContain(TOKEN);
    expect(seen).toHaveLength(before);
  });

  it("answers success with 200 when the reply cannot be built after onMessage committed", async () => {
    const before = seen.length;
    const res = await post(`/wechat?${signed()}`, pushXml("bell"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("success");
    expect(seen).toHaveLength(before + 1);
  });

  it("answers 503 when onMessage fails, so WeChat delivers the push again, without saying why", async () => {
    const res = await post(`/wechat?${signed()}`, pushXml("breaks"));
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: "UNAVAILABLE" });
    expect(text).not.toContain("database");
    expect(text).not.toContain(TOKEN);
  });
});
