import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APP_ID, APP_SECRET, startEmulator, type Harness } from "../helpers/emulator-harness.ts";

const RID = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
const SCENE = { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: "stable" } } };

function expectErrcode(body: Record<string, unknown>, errcode: number, errmsg: string): void {
  expect(body["errcode"]).toBe(errcode);
  expect(String(body["errmsg"]).replace(RID, "")).toBe(errmsg);
}

async function works(h: Harness, token: string): Promise<boolean> {
  const body = await h.createQr(token, SCENE);
  return typeof body["ticket"] === "string";
}

describe("emulator: POST /cgi-bin/stable_token", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startEmulator();
  });
  afterEach(async () => {
    await h.close();
  });

  it("returns the same token while it is valid, with the seconds it has left", async () => {
    const first = await h.stableToken();
    expect(first.expiresIn).toBe(7200);
    h.advanceSeconds(1000);
    const again = await h.stableToken();
    expect(again).toEqual({ token: first.token, expiresIn: 6200 });
  });

  it("still returns the same token with exactly 300 s left", async () => {
    const first = await h.stableToken();
    h.advanceSeconds(6900);
    expect(await h.stableToken()).toEqual({ token: first.token, expiresIn: 300 });
  });

  it("rotates below 300 s left, and the old token works until its own expiry", async () => {
    const first = await h.stableToken();
    h.advanceSeconds(6901);
    const next = await h.stableToken();
    expect(next.token).not.toBe(first.token);
    expect(next.expiresIn).toBe(7200);
    expect(await h.stableToken()).toEqual({ token: next.token, expiresIn: 7200 });
    h.advanceSeconds(298);
    expect(await works(h, first.token)).toBe(true);
    h.advanceSeconds(1); // 7200 s after the first was issued
    expectErrcode(await h.createQr(first.token, SCENE), 42001, "access_token expired");
    expect(await works(h, next.token)).toBe(true);
  });

  it("force_refresh invalidates the previous token at once", async () => {
    const first = await h.stableToken();
    h.advanceSeconds(60);
    const forced = await h.stableToken(true);
    expect(forced.token).not.toBe(first.token);
    expect(forced.expiresIn).toBe(7200);
    expectErrcode(await h.createQr(first.token, SCENE), 40001, "invalid credential, access_token is invalid or not latest");
    expect(await works(h, forced.token)).toBe(true);
  });

  it("ignores a force_refresh less than 30 s after the last one", async () => {
    const first = await h.stableToken(true);
    h.advanceSeconds(29);
    expect((await h.stableToken(true)).token).toBe(first.token);
    h.advanceSeconds(1);
    expect((await h.stableToken(true)).token).not.toBe(first.token);
  });

  it("honours at most 20 force_refresh calls a Beijing day", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      seen.add((await h.stableToken(true)).token);
      h.advanceSeconds(30);
    }
    expect(seen.size).toBe(20);
    const last = await h.stableToken(false);
    expect(seen.has(last.token)).toBe(true);
    expect((await h.stableToken(true)).token).toBe(last.token); // the 21st: no refresh
    h.advanceSeconds(14 * 3600); // past midnight in Beijing (the token has expired too)
    const nextDay = await h.stableToken(false);
    h.advanceSeconds(30);
    expect((await h.stableToken(true)).token).not.toBe(nextDay.token);
  });

  it("keeps stable and classic tokens isolated from each other", async () => {
    const stable = await h.stableToken();
    const classic = await h.classicToken();
    expect(classic).not.toBe(stable.token);
    h.advanceSeconds(400);
    await h.classicToken(); // supersedes the classic one only (after its overlap)
    h.advanceSeconds(400);
    expect(await works(h, stable.token)).toBe(true);
    expect((await h.stableToken()).token).toBe(stable.token);
    h.advanceSeconds(30);
    await h.stableToken(true); // invalidates the stable one only
    const classic2 = await h.classicToken();
    expect(await works(h, classic2)).toBe(true);
    expectErrcode(await h.createQr(stable.token, SCENE), 40001, "invalid credential, access_token is invalid or not latest");
  });

  it("answers GET with 43002 require POST method", async () => {
    const res = await h.get(`/cgi-bin/stable_token?grant_type=client_credential&appid=${APP_ID}&secret=${APP_SECRET}`);
    expect(res.status).toBe(200);
    expectErrcode((await res.json()) as Record<string, unknown>, 43002, "require POST method");
  });

  it.each([
    ["not JSON", "grant_type=client_credential", 47001, "data format error"],
    ["a wrong grant_type", { grant_type: "x", appid: APP_ID, secret: APP_SECRET }, 40002, "invalid grant_type"],
    ["no appid", { grant_type: "client_credential", secret: APP_SECRET }, 41002, "appid missing"],
    ["no secret", { grant_type: "client_credential", appid: APP_ID }, 41004, "appsecret missing"],
    ["a wrong appid", { grant_type: "client_credential", appid: "wx1", secret: APP_SECRET }, 40013, "invalid appid"],
    ["a wrong secret", { grant_type: "client_credential", appid: APP_ID, secret: "nope" }, 40125, "invalid appsecret"],
  ])("answers %s with its errcode", async (_case, body, errcode, errmsg) => {
    expectErrcode(await h.postJson("/cgi-bin/stable_token", body), errcode, errmsg);
  });

  it("answers 45009 past its daily quota", async () => {
    await h.close();
    h = await startEmulator({ dailyQuota: { stable_token: 1 } });
    await h.stableToken();
    expectErrcode(
      await h.postJson("/cgi-bin/stable_token", { grant_type: "client_credential", appid: APP_ID, secret: APP_SECRET }),
      45009,
      "reach max api daily quota limit",
    );
  });
});
