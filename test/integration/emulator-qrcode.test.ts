import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Harness } from "../helpers/emulator-harness.ts";

const RID = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
const URL_SHAPE = /^http:\/\/weixin\.qq\.com\/q\/[A-Za-z0-9]{22}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function expectErrcode(body: Record<string, unknown>, errcode: number, errmsg: string): void {
  expect(Object.keys(body).sort()).toEqual(["errcode", "errmsg"]);
  expect(body["errcode"]).toBe(errcode);
  expect(String(body["errmsg"]).replace(RID, "")).toBe(errmsg);
}

const temp = (scene: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  action_name: "scene_id" in scene ? "QR_SCENE" : "QR_STR_SCENE",
  action_info: { scene },
  ...extra,
});
const perm = (scene: Record<string, unknown>) => ({
  action_name: "scene_id" in scene ? "QR_LIMIT_SCENE" : "QR_LIMIT_STR_SCENE",
  action_info: { scene },
});

describe("emulator: POST /cgi-bin/qrcode/create", () => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await startEmulator();
    token = await h.classicToken();
  });
  afterEach(async () => {
    await h.close();
  });

  it("answers a temporary code with ticket, expire_seconds and url", async () => {
    const body = await h.createQr(token, temp({ scene_id: 123 }, { expire_seconds: 604800 }));
    expect(Object.keys(body).sort()).toEqual(["expire_seconds", "ticket", "url"]);
    expect(body["expire_seconds"]).toBe(604800);
    expect(body["url"]).toMatch(URL_SHAPE);
    const ticket = String(body["ticket"]);
    expect(ticket).toMatch(BASE64);
    expect(ticket.startsWith("gQ")).toBe(true);
    for (const ch of ["+", "/", "="]) expect(ticket).toContain(ch); // clients must URL-encode it
    expect(Buffer.from(ticket, "base64").toString("latin1")).toContain(String(body["url"]));
  });

  it("answers a permanent code with ticket and url only", async () => {
    const body = await h.createQr(token, perm({ scene_str: "poster-7" }));
    expect(Object.keys(body).sort()).toEqual(["ticket", "url"]);
  });

  it("escapes slashes in its JSON as the platform does", async () => {
    const res = await h.post(`/cgi-bin/qrcode/create?access_token=${token}`, JSON.stringify(perm({ scene_id: 9 })));
    expect(await res.text()).toContain('"url":"http:\\/\\/weixin.qq.com\\/q\\/');
  });

  it("reads JSON posted with a form content type (as the seed's PHP does), or none that fits", async () => {
    for (const contentType of ["application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]) {
      const body = await h.postJson(`/cgi-bin/qrcode/create?access_token=${token}`, temp({ scene_str: contentType }), contentType);
      expect(body["url"], contentType).toMatch(URL_SHAPE);
    }
  });

  it("gives an omitted expire_seconds the documented 60 s default", async () => {
    const body = await h.createQr(token, temp({ scene_id: 1 }));
    expect(body["expire_seconds"]).toBe(60);
  });

  it("returns the same ticket and url for the same permanent scene, using no more quota", async () => {
    const a = await h.createQr(token, perm({ scene_id: 42 }));
    const b = await h.createQr(token, perm({ scene_id: 42 }));
    expect(b).toEqual(a);
    const s1 = await h.createQr(token, perm({ scene_str: "42" }));
    expect(s1["ticket"]).not.toBe(a["ticket"]); // an id and a string are different scenes
    const { body } = await h.control("GET", "/emulator/qrcodes");
    expect(body["permanentUsed"]).toBe(2);
  });

  it("gives a new ticket for each temporary code, even with the same scene", async () => {
    const a = await h.createQr(token, temp({ scene_id: 7 }));
    const b = await h.createQr(token, temp({ scene_id: 7 }));
    expect(b["ticket"]).not.toBe(a["ticket"]);
    expect(b["url"]).not.toBe(a["url"]);
  });

  it("answers 45029 once the permanent quota is used up, but still returns existing codes", async () => {
    await h.close();
    h = await startEmulator({ permanentQuota: 3 });
    token = await h.classicToken();
    for (const id of [1, 2, 3]) expect(await h.createQr(token, perm({ scene_id: id }))).toHaveProperty("ticket");
    expectErrcode(await h.createQr(token, perm({ scene_str: "fourth" })), 45029, "qrcode count out of limit");
    expect(await h.createQr(token, perm({ scene_id: 2 }))).toHaveProperty("ticket");
    expect(await h.createQr(token, temp({ scene_id: 4 }))).toHaveProperty("ticket"); // temporary codes have no such quota
  });

  it("hands out unique tickets and urls over 1,000 creations", async () => {
    const tickets = new Set<string>();
    const urls = new Set<string>();
    for (let batch = 0; batch < 50; batch++) {
      const bodies = await Promise.all(
        Array.from({ length: 20 }, (_, j) => {
          const i = batch * 20 + j + 1;
          return h.createQr(token, i % 2 === 0 ? temp({ scene_id: i }) : perm({ scene_str: `s${i}` }));
        }),
      );
      for (const body of bodies) {
        tickets.add(String(body["ticket"]));
        urls.add(String(body["url"]));
      }
    }
    expect(tickets.size).toBe(1000);
    expect(urls.size).toBe(1000);
  });

  describe("token checks", () => {
    it("answers 41001 without access_token", async () => {
      expectErrcode(await h.postJson("/cgi-bin/qrcode/create", temp({ scene_id: 1 })), 41001, "access_token missing");
      expectErrcode(await h.postJson("/cgi-bin/qrcode/create?access_token=", temp({ scene_id: 1 })), 41001, "access_token missing");
    });
    it("answers 40001 for a token it never issued", async () => {
      const body = await h.createQr("86_made-up", temp({ scene_id: 1 }));
      expectErrcode(body, 40001, "invalid credential, access_token is invalid or not latest");
    });
  });

  it("answers GET with 43002", async () => {
    expectErrcode(await h.getJson(`/cgi-bin/qrcode/create?access_token=${token}`), 43002, "require POST method");
  });

  it.each([
    ["a body that is not JSON", "{action_name: QR_SCENE}", 47001, "data format error"],
    ["a JSON array", "[]", 47001, "data format error"],
    ["an empty body", "", 47001, "data format error"],
    ["an unknown action_name", { action_name: "QR_FOREVER", action_info: { scene: { scene_id: 1 } } }, 40052, "invalid action name"],
    ["no action_name", { action_info: { scene: { scene_id: 1 } } }, 40052, "invalid action name"],
    ["no action_info", { action_name: "QR_SCENE" }, 40053, "invalid action info"],
    ["action_info without scene", { action_name: "QR_SCENE", action_info: { scene_id: 1 } }, 40053, "invalid action info"],
    ["scene_str for QR_SCENE", { action_name: "QR_SCENE", action_info: { scene: { scene_str: "a" } } }, 40053, "invalid action info"],
    ["scene_id for QR_LIMIT_STR_SCENE", { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_id: 1 } } }, 40053, "invalid action info"],
    ["temporary scene_id 0", temp({ scene_id: 0 }), 40053, "invalid action info"],
    ["temporary scene_id 2^32", temp({ scene_id: 4294967296 }), 40053, "invalid action info"],
    ["a fractional scene_id", temp({ scene_id: 1.5 }), 40053, "invalid action info"],
    ["a scene_id given as a string", temp({ scene_id: "12" }), 40053, "invalid action info"],
    ["permanent scene_id 100001", perm({ scene_id: 100001 }), 40053, "invalid action info"],
    ["permanent scene_id 0", perm({ scene_id: 0 }), 40053, "invalid action info"],
    ["an empty scene_str", temp({ scene_str: "" }), 40053, "invalid action info"],
    ["a 65-character scene_str", perm({ scene_str: "x".repeat(65) }), 40053, "invalid action info"],
    ["expire_seconds 59", temp({ scene_id: 1 }, { expire_seconds: 59 }), 40035, "invalid args"],
    ["expire_seconds 2592001", temp({ scene_id: 1 }, { expire_seconds: 2592001 }), 40035, "invalid args"],
    ["a fractional expire_seconds", temp({ scene_id: 1 }, { expire_seconds: 600.5 }), 40035, "invalid args"],
    ["expire_seconds as a string", temp({ scene_id: 1 }, { expire_seconds: "600" }), 40035, "invalid args"],
  ])("answers %s with its errcode", async (_case, body, errcode, errmsg) => {
    expectErrcode(await h.createQr(token, body), errcode, errmsg);
  });

  it.each([
    ["temporary scene_id 4294967295", temp({ scene_id: 4294967295 })],
    ["permanent scene_id 100000", perm({ scene_id: 100000 })],
    ["a 64-character scene_str", perm({ scene_str: "x".repeat(64) })],
    ["a 64-character Chinese scene_str (characters, not bytes)", temp({ scene_str: "码".repeat(64) })],
    ["expire_seconds 60", temp({ scene_id: 1 }, { expire_seconds: 60 })],
    ["expire_seconds 2592000", temp({ scene_id: 1 }, { expire_seconds: 2592000 })],
    ["a permanent code with a nonsense expire_seconds (ignored)", { ...perm({ scene_id: 5 }), expire_seconds: -3 }],
  ])("accepts %s", async (_case, body) => {
    expect(await h.createQr(token, body)).toHaveProperty("ticket");
  });

  it("answers 45009 past its daily quota (after the token check)", async () => {
    await h.close();
    h = await startEmulator({ dailyQuota: { "qrcode/create": 2 } });
    token = await h.classicToken();
    await h.createQr(token, temp({ scene_id: 1 }));
    await h.createQr(token, temp({ scene_id: 2 }));
    expectErrcode(await h.createQr(token, temp({ scene_id: 3 })), 45009, "reach max api daily quota limit");
  });
});
