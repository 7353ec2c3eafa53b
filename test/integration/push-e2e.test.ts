/**
 * The whole push path over loopback: the emulator (a real server) pushes signed, optionally
 * encrypted events to a Fastify app running `registerPushRoute` with a real receiver; the
 * emulator verifies the passive reply like the platform and logs what the user saw.
 * Emulator and receiver share one manual clock, so timestamps are never stale.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { PNG } from "pngjs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultOriginalId, USER_NOTICE, type DeliveryRecord } from "../../src/emulator/index.ts";
import { renderPng } from "../../src/qr/png.ts";
import { APP_ID, START, startPlatform, type Platform } from "../helpers/platform.ts";
import { startReceiver, type TestReceiver } from "../helpers/push-receiver.ts";

const TOKEN = "pushToken123";
const AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const ORIGINAL_ID = defaultOriginalId(APP_ID);
const CREATE_TIME = Math.floor(START / 1000);

type Json = Record<string, unknown>;

async function send(platform: Platform, method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${platform.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function scan(platform: Platform, body: Json): Promise<{ status: number; body: Json }> {
  return send(platform, "POST", "/emulator/scan", body);
}

const delivery = (body: Json) => body["delivery"] as DeliveryRecord;

async function start(mode: "plain" | "compatible" | "safe", push: Json = {}): Promise<{ platform: Platform; receiver: TestReceiver }> {
  const platform = await startPlatform();
  // A plaintext-mode account has no EncodingAESKey; with one, the receiver accepts only encrypted pushes.
  const receiver = await startReceiver({
    token: TOKEN,
    appId: APP_ID,
    ...(mode === "plain" ? {} : { encodingAESKey: AES_KEY }),
    now: () => platform.clock.now(),
  });
  const configured = await send(platform, "PUT", "/emulator/push", {
    url: receiver.url,
    token: TOKEN,
    ...(mode === "plain" ? {} : { encodingAESKey: AES_KEY }),
    mode,
    ...push,
  });
  expect(configured.status).toBe(200);
  return { platform, receiver };
}

describe.each(["plain", "compatible", "safe"] as const)("scans pushed in %s mode", (mode) => {
  let platform: Platform;
  let receiver: TestReceiver;
  beforeAll(async () => {
    ({ platform, receiver } = await start(mode));
  });
  afterAll(async () => {
    await platform.close();
    await receiver.close();
  });

  it("turns a first scan into a follow with the scene, and a second into SCAN; the user sees the reply", async () => {
    const code = await platform.client().qrcodes.createTemporary({ sceneId: 123, expireSeconds: 3600 });

    const first = await scan(platform, { openId: "o1", ticket: code.ticket });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ pushed: true, event: "subscribe", eventKey: "qrscene_123", createTime: CREATE_TIME });
    expect(delivery(first.body)).toMatchObject({
      outcome: "delivered",
      mode,
      attempts: [{ n: 1, status: 200 }],
      reply: { kind: "text", text: "welcome o1" },
      userSaw: "welcome o1",
    });
    expect(receiver.messages.at(-1)).toMatchObject({
      kind: "scan",
      isNewFollower: true,
      openId: "o1",
      originalId: ORIGINAL_ID,
      createTime: CREATE_TIME,
      scene: { str: "123", id: 123 },
      ticket: code.ticket,
      encrypted: mode !== "plain",
    });

    platform.clock.advance(5_000);
    const again = await scan(platform, { openId: "o1", ticket: code.ticket });
    expect(again.body).toMatchObject({ pushed: true, event: "SCAN", eventKey: "123", createTime: CREATE_TIME + 5 });
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "scan", isNewFollower: false, scene: { str: "123", id: 123 }, ticket: code.ticket });
    expect(delivery(again.body).userSaw).toBe("welcome o1");
  });

  it("pushes a string scene verbatim, found by the code's url", async () => {
    const code = await platform.client().qrcodes.createPermanent({ sceneStr: "shop-7" });
    const result = await scan(platform, { openId: "o2", url: code.url });
    expect(result.body).toMatchObject({ event: "subscribe", eventKey: "qrscene_shop-7" });
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "scan", isNewFollower: true, scene: { str: "shop-7" }, ticket: code.ticket });
    expect((receiver.messages.at(-1) as { scene: object }).scene).not.toHaveProperty("id");
  });

  it("reads the code from a picture, as a phone camera would", async () => {
    const code = await platform.client().qrcodes.createPermanent({ sceneId: 42 });
    const image = renderPng(code.url).toString("base64");
    const result = await scan(platform, { openId: "o3", image });
    expect(result.status).toBe(200);
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "scan", openId: "o3", scene: { str: "42", id: 42 } });
    expect(delivery(result.body).userSaw).toBe("welcome o3");
  });

  it("pushes an unfollow with an empty EventKey; a later scan is a follow again", async () => {
    const code = await platform.client().qrcodes.createPermanent({ sceneId: 7 });
    await scan(platform, { openId: "o4", ticket: code.ticket });
    const left = await send(platform, "POST", "/emulator/unsubscribe", { openId: "o4" });
    expect(left.status).toBe(200);
    expect(left.body).toMatchObject({ pushed: true, event: "unsubscribe", eventKey: "" });
    expect(delivery(left.body)).toMatchObject({ outcome: "delivered", reply: { kind: "success" }, userSaw: null });
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "unsubscribe", openId: "o4", originalId: ORIGINAL_ID });

    const followers = await send(platform, "GET", "/emulator/followers");
    expect(followers.body["followers"]).toContainEqual({ openId: "o4", subscribed: false, since: platform.clock.now() });

    const back = await scan(platform, { openId: "o4", ticket: code.ticket });
    expect(back.body).toMatchObject({ event: "subscribe", eventKey: "qrscene_7" });
  });

  it("logs every delivery, newest last", async () => {
    const { body } = await send(platform, "GET", "/emulator/deliveries?limit=2");
    const deliveries = body["deliveries"] as DeliveryRecord[];
    expect(deliveries).toHaveLength(2);
    expect(deliveries.map((d) => [d.openId, d.event])).toEqual([
      ["o4", "unsubscribe"],
      ["o4", "subscribe"],
    ]);
    expect(deliveries[1]).toMatchObject({ outcome: "delivered", userSaw: "welcome o4", mode, createTime: CREATE_TIME + 5 });
    const o1 = (await send(platform, "GET", "/emulator/deliveries?openId=o1")).body["deliveries"] as DeliveryRecord[];
    expect(o1.map((d) => d.event)).toEqual(["subscribe", "SCAN"]);
  });
});

describe("the user's other actions", () => {
  let platform: Platform;
  let receiver: TestReceiver;
  beforeEach(async () => {
    ({ platform, receiver } = await start("safe"));
  });
  afterEach(async () => {
    await platform.close();
    await receiver.close();
  });

  it("follows without a code: a plain subscribe with an empty EventKey", async () => {
    const result = await send(platform, "POST", "/emulator/subscribe", { openId: "p1" });
    expect(result.body).toMatchObject({ pushed: true, event: "subscribe", eventKey: "" });
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "subscribe", openId: "p1", eventKey: undefined });
    expect((await send(platform, "POST", "/emulator/subscribe", { openId: "p1" })).body).toMatchObject({ pushed: false, reason: "already_following" });
  });

  it("seeds existing followers silently; their scans are SCAN", async () => {
    const seeded = await send(platform, "POST", "/emulator/followers", { openIds: ["old1", "old2"] });
    expect(seeded.body).toEqual({ added: 2, subscribed: 2 });
    expect(receiver.messages).toHaveLength(0);
    expect((await send(platform, "GET", "/emulator/deliveries")).body).toEqual({ deliveries: [] });
    const code = await platform.client().qrcodes.createPermanent({ sceneId: 9 });
    expect((await scan(platform, { openId: "old1", ticket: code.ticket })).body).toMatchObject({ event: "SCAN", eventKey: "9" });
    expect(receiver.messages.at(-1)).toMatchObject({ kind: "scan", isNewFollower: false });
  });

  it.each([
    ["an unknown ticket", { ticket: "gQnotaticket==" }, 404, "unknown_code"],
    ["an unknown url", { url: "http://weixin.qq.com/q/02unknown000000000000" }, 404, "unknown_code"],
    ["a picture with no code", { image: PNG.sync.write(Object.assign(new PNG({ width: 64, height: 64 }), {})).toString("base64") }, 400, "no_qr_in_image"],
    ["a picture that is not an image", { image: Buffer.from("hello").toString("base64") }, 400, "no_qr_in_image"],
    ["a code that is not a WeChat url", { image: renderPng("https://example.com/").toString("base64") }, 404, "unknown_code"],
    ["two sources", { ticket: "a", url: "b" }, 400, "invalid_request"],
    ["no source", {}, 400, "invalid_request"],
  ])("refuses a scan of %s", async (_case, source, status, reason) => {
    const result = await scan(platform, { openId: "o1", ...source });
    expect(result.status).toBe(status);
    expect(result.body).toMatchObject({ pushed: false, reason, message: expect.any(String) });
    expect(receiver.messages).toHaveLength(0);
  });

  it.each([
    ["", "empty"],
    ["a b", "a space"],
    ["x".repeat(65), "65 characters"],
  ])("refuses the openId %j (%s)", async (openId) => {
    expect((await scan(platform, { openId, ticket: "t" })).body).toMatchObject({ pushed: false, reason: "invalid_request" });
  });

  it("refuses a scan of an expired temporary code with 410", async () => {
    const code = await platform.client().qrcodes.createTemporary({ sceneId: 5, expireSeconds: 60 });
    platform.clock.advance(60_000);
    const result = await scan(platform, { openId: "o1", ticket: code.ticket });
    expect(result.status).toBe(410);
    expect(result.body).toMatchObject({ pushed: false, reason: "expired" });
    expect((await send(platform, "GET", "/emulator/followers")).body["followers"]).toEqual([]);
  });

  it("refuses to unfollow for a non-follower with 409", async () => {
    const result = await send(platform, "POST", "/emulator/unsubscribe", { openId: "stranger" });
    expect(result.status).toBe(409);
    expect(result.body).toMatchObject({ pushed: false, reason: "not_following" });
  });
});

describe("delivery like the platform: 5 s deadline, 3 retries of the same message", () => {
  let platform: Platform;
  let receiver: TestReceiver;
  let ticket: string;
  beforeEach(async () => {
    ({ platform, receiver } = await start("safe", { timeoutMs: 200 }));
    ticket = (await platform.client().qrcodes.createPermanent({ sceneId: 1 })).ticket;
  });
  afterEach(async () => {
    await platform.close();
    await receiver.close();
  });

  it("sends the same message again after two timeouts, and the third answer counts", { timeout: 10_000 }, async () => {
    receiver.hangNext = 2;
    const result = await scan(platform, { openId: "r1", ticket });
    expect(delivery(result.body)).toMatchObject({
      outcome: "delivered",
      attempts: [
        { n: 1, error: "timeout" },
        { n: 2, error: "timeout" },
        { n: 3, status: 200 },
      ],
      userSaw: "welcome r1",
    });
    expect(receiver.messages).toHaveLength(3);
    const keys = receiver.messages.map((m) => [m.openId, m.createTime, m.dedupeKey]);
    expect(new Set(keys.map((k) => JSON.stringify(k))).size).toBe(1);
    expect(receiver.messages[0]).toMatchObject({ kind: "scan", isNewFollower: true, createTime: CREATE_TIME });
  });

  it("gives up after 1 + 3 attempts when nobody answers; the user sees WeChat's notice", { timeout: 10_000 }, async () => {
    receiver.hangNext = Infinity;
    const result = await scan(platform, { openId: "r2", ticket });
    expect(result.status).toBe(200);
    const record = delivery(result.body);
    expect(record).toMatchObject({ outcome: "failed", reply: null, userSaw: USER_NOTICE });
    expect(record.attempts.map((a) => a.error)).toEqual(["timeout", "timeout", "timeout", "timeout"]);
    expect(receiver.messages).toHaveLength(4);
    // The follow happened anyway: the next scan is SCAN.
    receiver.hangNext = 0;
    expect((await scan(platform, { openId: "r2", ticket })).body).toMatchObject({ event: "SCAN" });
  });

  it("retries a 503 answer", async () => {
    receiver.failNext = 1;
    const record = delivery((await scan(platform, { openId: "r3", ticket })).body);
    expect(record).toMatchObject({
      outcome: "delivered",
      attempts: [
        { n: 1, status: 503, error: "status" },
        { n: 2, status: 200 },
      ],
      userSaw: "welcome r3",
    });
  });

  it("retries a refused connection, and honours maxRetries", async () => {
    const closed = Fastify();
    await closed.listen({ port: 0, host: "127.0.0.1" });
    const { port } = closed.server.address() as { port: number };
    await closed.close();
    await send(platform, "PUT", "/emulator/push", { url: `http://127.0.0.1:${port}/wechat`, token: TOKEN, maxRetries: 1 });
    const record = delivery((await scan(platform, { openId: "r4", ticket })).body);
    expect(record).toMatchObject({ outcome: "failed", userSaw: USER_NOTICE, mode: "plain" });
    expect(record.attempts).toEqual([
      { n: 1, error: "network", detail: "ECONNREFUSED", durationMs: 0 },
      { n: 2, error: "network", detail: "ECONNREFUSED", durationMs: 0 },
    ]);
  });
});

describe("a receiver with an EncodingAESKey", () => {
  it("refuses plaintext pushes with 401, so a mode mismatch never stores anything", async () => {
    const platform = await startPlatform();
    const receiver = await startReceiver({ token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY, now: () => platform.clock.now() });
    try {
      await send(platform, "PUT", "/emulator/push", { url: receiver.url, token: TOKEN, mode: "plain" });
      const record = delivery((await send(platform, "POST", "/emulator/subscribe", { openId: "p1" })).body);
      expect(record.outcome).toBe("failed");
      expect(record.attempts[0]).toMatchObject({ n: 1, status: 401 });
      expect(receiver.messages).toEqual([]);
    } finally {
      await platform.close();
      await receiver.close();
    }
  });
});

describe("passive replies are verified like the platform", () => {
  let platform: Platform;
  let server: FastifyInstance;
  let answer = "";
  beforeAll(async () => {
    platform = await startPlatform();
    server = Fastify();
    server.addContentTypeParser("text/xml", { parseAs: "string" }, (_request, body, done) => done(null, body));
    server.post("/wechat", async (_request, reply) => reply.type("text/xml").send(answer));
    await server.listen({ port: 0, host: "127.0.0.1" });
    const { port } = server.server.address() as { port: number };
    await send(platform, "PUT", "/emulator/push", { url: `http://127.0.0.1:${port}/wechat`, token: TOKEN, encodingAESKey: AES_KEY, mode: "safe" });
  });
  afterAll(async () => {
    await platform.close();
    await server.close();
  });

  it.each([
    [
      "a plain reply in safe mode",
      "v1",
      `<xml><ToUserName><![CDATA[v1]]></ToUserName><FromUserName><![CDATA[${ORIGINAL_ID}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>`,
    ],
    ["something that is not XML", "v2", "OK"],
  ])("shows the notice for %s, without retrying", async (_case, openId, body) => {
    answer = body;
    const result = await send(platform, "POST", "/emulator/subscribe", { openId });
    expect(delivery(result.body)).toMatchObject({ outcome: "delivered", attempts: [{ n: 1, status: 200 }], reply: { kind: "invalid" }, userSaw: USER_NOTICE });
  });

  it("shows nothing for an empty body", async () => {
    answer = "";
    const result = await send(platform, "POST", "/emulator/subscribe", { openId: "empty1" });
    expect(delivery(result.body)).toMatchObject({ reply: { kind: "empty" }, userSaw: null });
  });
});
