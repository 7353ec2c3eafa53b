/** The emulator's push configuration: options, `/emulator/push`, and what happens without one. */
import { afterEach, describe, expect, it } from "vitest";
import { createEmulator, defaultOriginalId } from "../../src/emulator/index.ts";
import { APP_ID, APP_SECRET, startEmulator, type Harness } from "../helpers/emulator-harness.ts";
import { startReceiver, type TestReceiver } from "../helpers/push-receiver.ts";

const TOKEN = "pushToken123";
const AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

let h: Harness | undefined;
let receiver: TestReceiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
  h = undefined;
  receiver = undefined;
});

function problemKeys(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    return (err as { problems: { key: string }[] }).problems.map((p) => p.key);
  }
  throw new Error("no error thrown");
}

describe("push options", () => {
  it("names every bad push option", () => {
    const keys = problemKeys(() =>
      createEmulator({
        appId: APP_ID,
        appSecret: APP_SECRET,
        push: { url: "ftp://x", token: "a", encodingAESKey: "short", mode: "safe", timeoutMs: 0, maxRetries: 11, originalId: "gh x" },
      }),
    );
    expect(keys).toEqual(["push.originalId", "push.url", "push.token", "push.encodingAESKey", "push.timeoutMs", "push.maxRetries"]);
  });

  it("requires the AES key in compatible and safe mode", () => {
    expect(
      problemKeys(() => createEmulator({ appId: APP_ID, appSecret: APP_SECRET, push: { url: "http://127.0.0.1:1/", token: TOKEN, mode: "compatible" } })),
    ).toEqual(["push.encodingAESKey"]);
  });

  it("pushes to the URL given in the options, as the account's derived gh_ id", async () => {
    // The receiver reads the emulator's clock, which exists once the emulator does.
    let emulatorNow = (): number => 0;
    receiver = await startReceiver({ token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY, now: () => emulatorNow() });
    h = await startEmulator({ push: { url: receiver.url, token: TOKEN, encodingAESKey: AES_KEY, mode: "compatible" } });
    emulatorNow = h.emulator.now;
    const { status, body } = await h.control("POST", "/emulator/subscribe", { openId: "u1" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ pushed: true, delivery: { outcome: "delivered", mode: "compatible" } });
    expect(receiver.messages[0]).toMatchObject({ kind: "subscribe", originalId: defaultOriginalId(APP_ID), encrypted: true });
    expect(defaultOriginalId(APP_ID)).toMatch(/^gh_[0-9a-f]{12}$/);
  });
});

describe("/emulator/push", () => {
  it("is set at run time, shown without its secrets, and removed", async () => {
    h = await startEmulator();
    expect((await h.control("GET", "/emulator/push")).body).toEqual({ accountId: defaultOriginalId(APP_ID), push: null });
    const put = await h.control("PUT", "/emulator/push", {
      url: "http://127.0.0.1:9/wechat",
      token: TOKEN,
      encodingAESKey: AES_KEY,
      mode: "safe",
      accountId: "gh_abcdefabcdef",
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      accountId: "gh_abcdefabcdef",
      push: { url: "http://127.0.0.1:9/wechat", mode: "safe", timeoutMs: 5000, maxRetries: 3, hasEncodingAESKey: true },
    });
    const shown = JSON.stringify((await h.control("GET", "/emulator/push")).body);
    expect(shown).not.toContain(TOKEN);
    expect(shown).not.toContain(AES_KEY);
    expect((await h.control("DELETE", "/emulator/push")).body).toMatchObject({ push: null });
  });

  it.each([
    ["safe mode without a key", { url: "http://127.0.0.1:9/", token: TOKEN, mode: "safe" }],
    ["a bad url", { url: "not a url", token: TOKEN }],
    ["an unknown mode", { url: "http://127.0.0.1:9/", token: TOKEN, mode: "secret" }],
    ["an unknown field", { url: "http://127.0.0.1:9/", token: TOKEN, appSecret: "x" }],
    ["no token", { url: "http://127.0.0.1:9/" }],
  ])("refuses %s with 400", async (_case, body) => {
    h = await startEmulator();
    const { status, body: answer } = await h.control("PUT", "/emulator/push", body);
    expect(status).toBe(400);
    expect(answer["message"]).toEqual(expect.any(String));
  });

  it("refuses user actions while no push URL is set, changing nothing", async () => {
    h = await startEmulator();
    const token = await h.classicToken();
    const code = await h.createQr(token, { action_name: "QR_LIMIT_SCENE", action_info: { scene: { scene_id: 1 } } });
    const { status, body } = await h.control("POST", "/emulator/scan", { openId: "u1", ticket: code["ticket"] });
    expect(status).toBe(409);
    expect(body).toMatchObject({ pushed: false, reason: "push_not_configured" });
    expect((await h.control("GET", "/emulator/followers")).body).toEqual({ followers: [], subscribed: 0 });
  });

  it("refuses a bad deliveries limit", async () => {
    h = await startEmulator();
    expect((await h.control("GET", "/emulator/deliveries?limit=0")).status).toBe(400);
    expect((await h.control("GET", "/emulator/deliveries?limit=5")).body).toEqual({ deliveries: [] });
  });
});
