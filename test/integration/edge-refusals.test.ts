/**
 * Issue 8 item 5 (design.md invariant 8): what can never succeed is answered 4xx in the service's
 * error shape `{error, message}`, never 503 — WeChat redelivers a 5xx push forever, and a client
 * retries a 5xx request in vain. Over loopback against the real service, identically on SQLite
 * and PostgreSQL (which, unlike SQLite, refuses a NUL in TEXT).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSeededRandom } from "../../src/deps.ts";
import { buildEventXml, buildPushBody, signPushQuery, withQuery } from "../../src/emulator/push-message.ts";
import { CREATE_TIME_MAX_SEC } from "../../src/push/events.ts";
import * as followers from "../../src/store/followers.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { AES_KEY, PUSH_TOKEN, SERVICE_APP_ID, startServiceHarness, type ServiceHarness } from "../helpers/service.ts";

const ORIGINAL_ID = "gh_000000edge01";

function describeRefusals(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  let h: ServiceHarness;

  beforeAll(async () => {
    factory = makeFactory();
    const { db } = await factory.create();
    h = await startServiceHarness({ db, seed: 85 });
  });
  afterAll(async () => {
    await h.close();
    await factory.cleanup();
  });

  /** An authentic, encrypted (safe-mode) subscribe push with the given CreateTime, as WeChat would sign it. */
  async function push(openId: string, createTimeSec: number): Promise<{ status: number; body: unknown }> {
    const random = createSeededRandom(createTimeSec % 1_000);
    const xml = buildEventXml({ originalId: ORIGINAL_ID, openId, createTimeSec, event: "subscribe", eventKey: "" });
    const { body, encrypt } = buildPushBody({
      mode: "safe",
      encodingAESKey: AES_KEY,
      appId: SERVICE_APP_ID,
      originalId: ORIGINAL_ID,
      xml,
      random16: random.bytes(16),
    });
    const query = signPushQuery({ token: PUSH_TOKEN, timestamp: String(Math.floor(h.clock.now() / 1000)), nonce: "edge0001", openId, encrypt });
    const res = await fetch(withQuery(h.pushUrl, query), { method: "POST", body, headers: { "content-type": "text/xml" } });
    const text = await res.text();
    return { status: res.status, body: (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text };
  }

  it("refuses with 400 an authentic push whose CreateTime is no instant (999999999999999), and stores nothing", async () => {
    const refused = await push("oFarFuture", 999_999_999_999_999);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: "PUSH_MALFORMED", field: "CreateTime", message: expect.any(String) });
    expect(await push("oFarFuture", CREATE_TIME_MAX_SEC + 1)).toMatchObject({ status: 400 });
    expect(await h.db.read((sql) => followers.getFollower(sql, SERVICE_APP_ID, "oFarFuture"))).toBeUndefined();
    // The last representable second is an instant like any other: stored, answered 200.
    expect(await push("oLate", CREATE_TIME_MAX_SEC)).toEqual({ status: 200, body: "success" });
    expect(await h.db.read((sql) => followers.getFollower(sql, SERVICE_APP_ID, "oLate"))).toMatchObject({ subscribed: true });
  });

  it("refuses with 400 naming the field a NUL (or any control character) in a channel name, label or scene string", async () => {
    const name = await h.api("POST", "/api/channels", { name: "poster\u0000A" });
    expect(name.status).toBe(400);
    expect(name.body).toMatchObject({ error: "VALIDATION_FAILED", field: "name" });
    expect((await h.api("POST", "/api/channels", { name: "tab\there" })).body).toMatchObject({ error: "VALIDATION_FAILED", field: "name" });
    expect((await h.api("POST", "/api/qrcodes", { type: "temporary", label: "a\u0000b" })).body).toMatchObject({ error: "VALIDATION_FAILED", field: "label" });
    expect((await h.api("POST", "/api/qrcodes", { type: "temporary", sceneStr: "s\u0000" })).body).toMatchObject({
      error: "VALIDATION_FAILED",
      field: "sceneStr",
    });
    // Nothing was stored, and the same name without the NUL is free.
    expect((await h.api("GET", "/api/channels")).body.channels).toEqual([]);
    expect((await h.api("POST", "/api/channels", { name: "posterA" })).status).toBe(201);
  });

  // Channels take up to 3 MB (a follow-up image travels as base64); other routes 1 MB.
  it("answers 413 to a JSON body over its route's limit", async () => {
    const big = await h.api("POST", "/api/channels", { name: "big", welcome: "x".repeat(4 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: "BODY_TOO_LARGE", message: expect.any(String) });
  });

  it("answers an unknown route in the service's error shape, naming the path but not the query", async () => {
    const res = await fetch(`${h.serviceUrl}/api/nothing-here?access_token=SECRET123`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: string; message: string };
    expect(body).toEqual({ error: "NOT_FOUND", message: expect.stringContaining("/api/nothing-here") });
    expect(body.message).not.toContain("SECRET123");
    const root = await fetch(`${h.serviceUrl}/no/such/page`);
    expect(root.status).toBe(404);
    expect(await root.json()).toMatchObject({ error: "NOT_FOUND" });
  });
}

describeOnBothEngines("4xx refusals at the edge", describeRefusals);
