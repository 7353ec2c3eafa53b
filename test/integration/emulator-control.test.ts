import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom } from "../../src/deps.ts";
import { createEmulator } from "../../src/emulator/index.ts";
import { APP_ID, APP_SECRET, START_MS, ZERO_COUNTS, countsToday, startEmulator, type Harness } from "../helpers/emulator-harness.ts";

const RID = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
const SCENE = { action_name: "QR_SCENE", expire_seconds: 300, action_info: { scene: { scene_id: 1 } } };
const tokenPath = `/cgi-bin/token?grant_type=client_credential&appid=${APP_ID}&secret=${APP_SECRET}`;

describe("emulator: /emulator control endpoints", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startEmulator();
  });
  afterEach(async () => {
    await h.close();
  });

  describe("clock", () => {
    it("reports the injected clock's time", async () => {
      const { status, body } = await h.control("GET", "/emulator/clock");
      expect(status).toBe(200);
      expect(body).toEqual({ now: START_MS, iso: new Date(START_MS).toISOString() });
      h.advanceSeconds(5);
      expect((await h.control("GET", "/emulator/clock")).body["now"]).toBe(START_MS + 5000);
    });

    it("moves forward by advanceSeconds, and tokens expire by that clock", async () => {
      const token = await h.classicToken();
      const { body } = await h.control("POST", "/emulator/clock", { advanceSeconds: 7200 });
      expect(body["now"]).toBe(START_MS + 7_200_000);
      expect(h.emulator.now()).toBe(START_MS + 7_200_000);
      expect((await h.createQr(token, SCENE))["errcode"]).toBe(42001);
    });

    it("jumps to an absolute time with {now}, and keeps following the injected clock", async () => {
      const target = Date.UTC(2027, 5, 1);
      expect((await h.control("POST", "/emulator/clock", { now: target })).body["now"]).toBe(target);
      h.advanceSeconds(1);
      expect((await h.control("GET", "/emulator/clock")).body["now"]).toBe(target + 1000);
    });

    it.each([
      ["a negative advance", { advanceSeconds: -1 }],
      ["both fields", { advanceSeconds: 1, now: START_MS }],
      ["neither field", {}],
      ["a string", { advanceSeconds: "60" }],
      ["a body that is not JSON", "advance=60"],
    ])("rejects %s with 400 and a message", async (_case, body) => {
      const res = await h.control("POST", "/emulator/clock", body);
      expect(res.status).toBe(400);
      expect(res.body["message"]).toMatch(/^POST \/emulator\/clock/);
      expect(h.emulator.now()).toBe(START_MS);
    });
  });

  describe("faults", () => {
    it("answers the next `count` calls with the errcode, then works again", async () => {
      const token = await h.classicToken();
      const armed = await h.control("POST", "/emulator/faults", { path: "/cgi-bin/qrcode/create", errcode: -1, count: 2 });
      expect(armed.body).toEqual({ pending: [{ path: "/cgi-bin/qrcode/create", errcode: -1, remaining: 2 }] });
      for (let i = 0; i < 2; i++) {
        const body = await h.createQr(token, SCENE);
        expect(body["errcode"]).toBe(-1);
        expect(String(body["errmsg"]).replace(RID, "")).toBe("system error");
      }
      expect(await h.createQr(token, SCENE)).toHaveProperty("ticket");
      expect((await h.control("GET", "/emulator/faults")).body).toEqual({ pending: [] });
    });

    it("with `after`, lets that many calls through first, then answers the errcode", async () => {
      const token = await h.classicToken();
      const armed = await h.control("POST", "/emulator/faults", { path: "/cgi-bin/qrcode/create", errcode: 45009, count: 2, after: 3 });
      expect(armed.body).toEqual({ pending: [{ path: "/cgi-bin/qrcode/create", errcode: 45009, remaining: 2, after: 3 }] });
      for (let i = 0; i < 3; i++) expect(await h.createQr(token, SCENE)).toHaveProperty("ticket");
      expect((await h.control("GET", "/emulator/faults")).body).toEqual({ pending: [{ path: "/cgi-bin/qrcode/create", errcode: 45009, remaining: 2 }] });
      for (let i = 0; i < 2; i++) expect((await h.createQr(token, SCENE))["errcode"]).toBe(45009);
      expect(await h.createQr(token, SCENE)).toHaveProperty("ticket");
    });

    it("applies only to its path, and queues in order", async () => {
      await h.control("POST", "/emulator/faults", { path: "/cgi-bin/token", errcode: 45011 });
      await h.control("POST", "/emulator/faults", { path: "/cgi-bin/token", errcode: 40164, count: 1 });
      expect((await h.stableToken()).token).toMatch(/^86_/);
      expect((await h.getJson(tokenPath))["errcode"]).toBe(45011);
      expect((await h.getJson(tokenPath))["errcode"]).toBe(40164);
      expect(await h.getJson(tokenPath)).toHaveProperty("access_token");
    });

    it("can be cleared", async () => {
      await h.control("POST", "/emulator/faults", { path: "/cgi-bin/stable_token", errcode: -1, count: 5 });
      expect((await h.control("DELETE", "/emulator/faults")).body).toEqual({ pending: [] });
      expect((await h.stableToken()).token).toMatch(/^86_/);
    });

    it.each([
      ["an unknown path", { path: "/cgi-bin/menu/create", errcode: -1, count: 1 }],
      ["errcode 0", { path: "/cgi-bin/token", errcode: 0, count: 1 }],
      ["a zero count", { path: "/cgi-bin/token", errcode: -1, count: 0 }],
      ["an unknown field", { path: "/cgi-bin/token", errcode: -1, count: 1, delayMs: 10 }],
      ["a negative after", { path: "/cgi-bin/token", errcode: -1, count: 1, after: -1 }],
    ])("rejects %s with 400", async (_case, body) => {
      const res = await h.control("POST", "/emulator/faults", body);
      expect(res.status).toBe(400);
      expect(typeof res.body["message"]).toBe("string");
    });
  });

  it("revoke makes every classic and stable token answer 40001, and new ones can be had", async () => {
    const classic = await h.classicToken();
    const stable = await h.stableToken();
    expect((await h.control("POST", "/emulator/tokens/revoke")).body).toEqual({ revoked: 2 });
    for (const token of [classic, stable.token]) expect((await h.createQr(token, SCENE))["errcode"]).toBe(40001);
    const fresh = await h.stableToken();
    expect(fresh.token).not.toBe(stable.token);
    expect(await h.createQr(fresh.token, SCENE)).toHaveProperty("ticket");
  });

  describe("counters", () => {
    it("counts calls per endpoint today and in total", async () => {
      const token = await h.classicToken();
      await h.stableToken();
      await h.createQr(token, SCENE);
      await h.get("/cgi-bin/showqrcode?ticket=nope");
      const { body } = await h.control("GET", "/emulator/counters");
      const one = { ...ZERO_COUNTS, token: 1, stable_token: 1, "qrcode/create": 1, showqrcode: 1 };
      expect(body).toEqual({ day: "2026-01-01", today: one, totals: one });
    });

    it("starts a new day at midnight in Beijing, keeping totals", async () => {
      await h.classicToken();
      h.advanceSeconds(14 * 3600 - 1); // 23:59:59 in Beijing
      expect((await countsToday(h))["token"]).toBe(1);
      h.advanceSeconds(1);
      const { body } = await h.control("GET", "/emulator/counters");
      expect(body["day"]).toBe("2026-01-02");
      expect((body["today"] as Record<string, number>)["token"]).toBe(0);
      expect((body["totals"] as Record<string, number>)["token"]).toBe(1);
    });

    it("reset-counters zeroes them, which also frees the daily quota", async () => {
      await h.close();
      h = await startEmulator({ dailyQuota: { token: 1 } });
      await h.classicToken();
      expect((await h.getJson(tokenPath))["errcode"]).toBe(45009);
      const { body } = await h.control("POST", "/emulator/reset-counters");
      expect(body["today"]).toEqual(ZERO_COUNTS);
      expect(await h.getJson(tokenPath)).toHaveProperty("access_token");
    });

    it("does not count control calls", async () => {
      await h.control("GET", "/emulator/qrcodes");
      expect(await countsToday(h)).toEqual(ZERO_COUNTS);
    });
  });

  it("lists the codes created", async () => {
    const token = await h.classicToken();
    const temp = await h.createQr(token, SCENE);
    const perm = await h.createQr(token, { action_name: "QR_LIMIT_STR_SCENE", action_info: { scene: { scene_str: "shop-1" } } });
    const { body } = await h.control("GET", "/emulator/qrcodes");
    expect(body).toEqual({
      qrcodes: [
        {
          ticket: temp["ticket"],
          url: temp["url"],
          action: "QR_SCENE",
          kind: "temporary",
          scene: { id: 1 },
          createdAt: START_MS,
          expiresAt: START_MS + 300_000,
        },
        {
          ticket: perm["ticket"],
          url: perm["url"],
          action: "QR_LIMIT_STR_SCENE",
          kind: "permanent",
          scene: { str: "shop-1" },
          createdAt: START_MS,
          expiresAt: null,
        },
      ],
      permanentUsed: 1,
      permanentQuota: 100000,
    });
  });

  describe("config", () => {
    it("changes quotas at run time and never shows the secret", async () => {
      const { status, body } = await h.control("PUT", "/emulator/config", { permanentQuota: 1, dailyQuota: { "qrcode/create": 5 } });
      expect(status).toBe(200);
      expect(body).toEqual({
        appId: APP_ID,
        permanentQuota: 1,
        dailyQuota: { token: 2000, stable_token: 500000, "qrcode/create": 5, "media/upload": 100_000, "message/custom/send": 500_000 },
        tokenTtlSeconds: 7200,
        mediaMaxBytes: { image: 10_485_760, voice: 2_097_152, video: 10_485_760, thumb: 65_536 },
        mediaTtlSeconds: 259_200,
        sendWindows: { afterEvent: { messages: 3, seconds: 60 }, afterUserMessage: { messages: 5, seconds: 172_800 } },
      });
      expect(JSON.stringify((await h.control("GET", "/emulator/config")).body)).not.toContain(APP_SECRET);
      const token = await h.classicToken();
      expect(await h.createQr(token, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 1 } } })).toHaveProperty("ticket");
      expect((await h.createQr(token, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 2 } } }))["errcode"]).toBe(45029);
    });

    it.each([
      ["a negative quota", { permanentQuota: -1 }],
      ["an unknown endpoint", { dailyQuota: { "menu/create": 5 } }],
      ["an unknown field", { appSecret: "x" }],
    ])("rejects %s with 400", async (_case, body) => {
      expect((await h.control("PUT", "/emulator/config", body)).status).toBe(400);
    });
  });

  it("answers unknown paths with 404", async () => {
    expect((await h.get("/cgi-bin/menu/get")).status).toBe(404);
  });

  describe("users", () => {
    it("names a user with PUT /emulator/users/:openId; the name shows in /emulator/users and /emulator/followers once they follow", async () => {
      expect(await h.control("PUT", "/emulator/users/u1", { nickname: " 小明 " })).toEqual({
        status: 200,
        body: { openId: "u1", nickname: "小明", subscribed: false, since: null },
      });
      await h.control("POST", "/emulator/followers", { openIds: ["u2", "u1"] });
      expect((await h.control("PUT", "/emulator/users/u2", { nickname: "Lee" })).body).toMatchObject({ subscribed: true, since: START_MS });
      expect((await h.control("GET", "/emulator/users")).body).toEqual({
        users: [
          { openId: "u1", nickname: "小明", subscribed: true, since: START_MS },
          { openId: "u2", nickname: "Lee", subscribed: true, since: START_MS },
        ],
      });
      expect((await h.control("GET", "/emulator/followers")).body["followers"]).toEqual([
        { openId: "u2", nickname: "Lee", subscribed: true, since: START_MS },
        { openId: "u1", nickname: "小明", subscribed: true, since: START_MS },
      ]);
    });

    it.each([
      ["an empty nickname", "/emulator/users/u1", { nickname: "  " }],
      ["a nickname of 33 characters", "/emulator/users/u1", { nickname: "名".repeat(33) }],
      ["a control character", "/emulator/users/u1", { nickname: "a\nb" }],
      ["an openId with a space", "/emulator/users/u%201", { nickname: "ok" }],
      ["an unknown field", "/emulator/users/u1", { nickname: "ok", avatar: "x" }],
    ])("refuses %s with 400 invalid_request", async (_case, path, body) => {
      const res = await h.control("PUT", path, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ pushed: false, reason: "invalid_request" });
      expect((await h.control("GET", "/emulator/users")).body).toEqual({ users: [] });
    });
  });
});

describe("emulator: options and logging", () => {
  it("rejects bad options, naming each problem", () => {
    let thrown: unknown;
    try {
      createEmulator({ appId: "", appSecret: "", permanentQuota: -1, tokenTtlSeconds: 0 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "CONFIG_INVALID" });
    const keys = (thrown as { problems: { key: string }[] }).problems.map((p) => p.key);
    expect(keys).toEqual(["appId", "appSecret", "permanentQuota", "tokenTtlSeconds"]);
  });

  it("honours tokenTtlSeconds", async () => {
    const h = await startEmulator({ tokenTtlSeconds: 60 });
    try {
      const { expiresIn } = await h.stableToken();
      expect(expiresIn).toBe(60);
      h.advanceSeconds(30);
      expect((await h.stableToken()).expiresIn).toBe(30); // the 300 s rotation margin shrinks to half a short TTL
      h.advanceSeconds(1);
      expect((await h.stableToken()).expiresIn).toBe(60);
    } finally {
      await h.close();
    }
  });

  it("logs requests without access_token or secret values", async () => {
    const lines: string[] = [];
    const clock = createManualClock(START_MS);
    const emulator = createEmulator(
      { appId: APP_ID, appSecret: APP_SECRET, logger: { level: "info", stream: { write: (line) => void lines.push(line) } } },
      { clock, random: createSeededRandom(3) },
    );
    const base = await emulator.listen({ port: 0 });
    try {
      const { access_token: token } = (await (await fetch(base + tokenPath)).json()) as { access_token: string };
      await fetch(`${base}/cgi-bin/qrcode/create?access_token=${token}`, { method: "POST", body: JSON.stringify(SCENE) });
      await fetch(`${base}/cgi-bin/nothing-here?access_token=${token}&secret=${APP_SECRET}`);
      await fetch(`${base}/cgi-bin/stable_token`, {
        method: "POST",
        body: JSON.stringify({ grant_type: "client_credential", appid: APP_ID, secret: APP_SECRET }),
      });
    } finally {
      await emulator.close();
    }
    const log = lines.join("");
    expect(log).toContain("/cgi-bin/qrcode/create?access_token=[redacted]");
    expect(log).toContain("secret=[redacted]");
    expect(log).not.toContain(APP_SECRET);
    expect(log).not.toMatch(/86_[A-Za-z0-9_-]{20}/);
  });
});
