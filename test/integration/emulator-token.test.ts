import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APP_ID, APP_SECRET, ZERO_COUNTS, countsToday, startEmulator, type Harness } from "../helpers/emulator-harness.ts";

const RID = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{120,}$/;

function expectWireError(body: Record<string, unknown>, errcode: number, errmsg: string): void {
  expect(Object.keys(body).sort()).toEqual(["errcode", "errmsg"]);
  expect(body["errcode"]).toBe(errcode);
  expect(body["errmsg"]).toMatch(RID);
  expect(String(body["errmsg"]).replace(RID, "")).toBe(errmsg);
}

const tokenUrl = (q: Record<string, string>) => `/cgi-bin/token?${new URLSearchParams(q).toString()}`;
const GOOD = { grant_type: "client_credential", appid: APP_ID, secret: APP_SECRET };

describe("emulator: GET /cgi-bin/token", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startEmulator();
  });
  afterEach(async () => {
    await h.close();
  });

  it("issues an opaque token for 7200 s, shaped exactly like the platform's answer", async () => {
    const res = await h.get(tokenUrl(GOOD));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; encoding=utf-8");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in"]);
    expect(body["expires_in"]).toBe(7200);
    expect(body["access_token"]).toMatch(TOKEN_SHAPE);
  });

  it("issues a different token on every call", async () => {
    const tokens = new Set([await h.classicToken(), await h.classicToken(), await h.classicToken()]);
    expect(tokens.size).toBe(3);
  });

  it.each([
    ["a wrong grant_type", { ...GOOD, grant_type: "password" }, 40002, "invalid grant_type"],
    ["a missing grant_type", { appid: APP_ID, secret: APP_SECRET }, 40002, "invalid grant_type"],
    ["a missing appid", { grant_type: "client_credential", secret: APP_SECRET }, 41002, "appid missing"],
    ["a missing secret", { grant_type: "client_credential", appid: APP_ID }, 41004, "appsecret missing"],
    ["a wrong appid", { ...GOOD, appid: "wx0000000000000000" }, 40013, "invalid appid"],
    ["a wrong secret", { ...GOOD, secret: "not-the-secret" }, 40125, "invalid appsecret"],
  ])("answers %s with HTTP 200 and the platform's errcode", async (_case, query, errcode, errmsg) => {
    const res = await h.get(tokenUrl(query));
    expect(res.status).toBe(200);
    expectWireError((await res.json()) as Record<string, unknown>, errcode, errmsg);
  });

  it("keeps the previous token working for 5 minutes after a new one, then answers 40001", async () => {
    const old = await h.classicToken();
    h.advanceSeconds(10);
    const fresh = await h.classicToken();
    h.advanceSeconds(299);
    expect(await h.createQr(old, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 1 } } })).toHaveProperty("ticket");
    h.advanceSeconds(2); // 301 s after the new token
    expectWireError(
      await h.createQr(old, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 1 } } }),
      40001,
      "invalid credential, access_token is invalid or not latest",
    );
    expect(await h.createQr(fresh, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 1 } } })).toHaveProperty("ticket");
  });

  it("answers 42001 once a token has lived its 7200 s", async () => {
    const token = await h.classicToken();
    h.advanceSeconds(7199);
    expect(await h.createQr(token, { action_name: "QR_SCENE", action_info: { scene: { scene_id: 5 } } })).toHaveProperty("ticket");
    h.advanceSeconds(1);
    expectWireError(await h.createQr(token, { action_name: "QR_SCENE", action_info: { scene: { scene_id: 5 } } }), 42001, "access_token expired");
  });

  it("answers 45009 once the daily quota is used, and again the next Beijing day it works", async () => {
    await h.close();
    h = await startEmulator({ dailyQuota: { token: 2 } });
    await h.classicToken();
    await h.classicToken();
    expectWireError(await h.getJson(tokenUrl(GOOD)), 45009, "reach max api daily quota limit");
    // START is 10:00 in Beijing; 14 h later is the next day there.
    h.advanceSeconds(14 * 3600);
    expect(await h.classicToken()).toMatch(TOKEN_SHAPE);
  });

  it("counts every call, failed ones included", async () => {
    await h.classicToken();
    expect((await countsToday(h))["token"]).toBe(1);
    await h.getJson(tokenUrl({ ...GOOD, secret: "wrong" }));
    expect(await countsToday(h)).toEqual({ ...ZERO_COUNTS, token: 2 });
  });
});
