/**
 * `message/custom/send` on the emulator through the typed client over loopback (wechat-api.md
 * §10.1): the send windows on the emulator's manual clock, the per-message errcodes, and the
 * received-messages log with a passive reply from a real push receiver before the
 * customer-service messages.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, WeChatApiError } from "../../src/errors.ts";
import { createSeededRandom } from "../../src/deps.ts";
import { createEmulator, USER_NOTICE } from "../../src/emulator/index.ts";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { renderPng } from "../../src/qr/png.ts";
import { createWeChatClient, type WeChatClient } from "../../src/wechat/index.ts";
import { APP_ID, APP_SECRET, startPlatform, type Platform } from "../helpers/platform.ts";
import { startReceiver, type TestReceiver } from "../helpers/push-receiver.ts";

const TOKEN = "t0kenForPushes";
const USER = "oUser_custom_send_1";

let platform: Platform | undefined;
let receiver: TestReceiver | undefined;
let dir: string | undefined;
afterEach(async () => {
  await platform?.close();
  await receiver?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  platform = undefined;
  receiver = undefined;
  dir = undefined;
});

/** The emulator with a real push receiver that welcomes every scan and subscribe with a passive text. */
async function start(options: Parameters<typeof startPlatform>[0] = {}): Promise<{ p: Platform; client: WeChatClient }> {
  let now: () => number = () => 0;
  receiver = await startReceiver({
    token: TOKEN,
    appId: APP_ID,
    now: () => now(),
    reply: (m) => (m.kind === "scan" || m.kind === "subscribe" ? { text: `welcome ${m.openId}` } : undefined),
  });
  platform = await startPlatform({ ...options, push: { url: receiver.url, token: TOKEN } });
  const p = platform;
  now = () => p.clock.now();
  return { p, client: p.client() };
}

async function scan(p: Platform, client: WeChatClient, openId = USER): Promise<void> {
  const code = await client.qrcodes.createPermanent({ sceneStr: "channel-a" });
  const res = await fetch(`${p.url}/emulator/scan`, { method: "POST", body: JSON.stringify({ openId, ticket: code.ticket }) });
  expect(res.status).toBe(200);
}

async function control(p: Platform, path: string, body: unknown): Promise<Response> {
  return fetch(`${p.url}${path}`, { method: "POST", body: JSON.stringify(body) });
}

async function errcodeOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(WeChatApiError);
    expect((err as WeChatApiError).retryable).toBe(false);
    return (err as WeChatApiError).errcode;
  }
}

const text = (content: string) => ({ touser: USER, text: content });

interface Received {
  id: number;
  at: number;
  via: string;
  msgType: string;
  text?: string;
  mediaId?: string;
  mediaUrl?: string;
}

async function received(p: Platform, openId = USER): Promise<Received[]> {
  return ((await p.control("GET", `/emulator/users/${openId}/messages`)) as { messages: Received[] }).messages;
}

describe("emulator: customer-service send windows", () => {
  it("allows 3 messages within a minute of a scan: the 4th is 45047, and a minute after the scan 45015", async () => {
    const { p, client } = await start();
    await scan(p, client);
    for (const n of [1, 2, 3]) await client.sendCustomMessage(text(`follow-up ${n}`));
    expect(await errcodeOf(client.sendCustomMessage(text("a 4th")))).toBe(45047);
    p.clock.advance(60_000);
    expect(await errcodeOf(client.sendCustomMessage(text("too late")))).toBe(45015);
    expect((await p.counters())["message/custom/send"]).toBe(5);
  });

  it("closes the window at 1 minute even with messages left (no message from the user), and a new scan opens a fresh one", async () => {
    const { p, client } = await start();
    await scan(p, client);
    p.clock.advance(59_999);
    await client.sendCustomMessage(text("just in time"));
    p.clock.advance(1);
    expect(await errcodeOf(client.sendCustomMessage(text("one ms late")))).toBe(45015);
    p.clock.advance(120_000);
    await scan(p, client);
    for (const n of [1, 2, 3]) await client.sendCustomMessage(text(`again ${n}`));
    expect(await errcodeOf(client.sendCustomMessage(text("a 4th")))).toBe(45047);
  });

  it("opens the same window on a plain subscribe", async () => {
    const { p, client } = await start();
    expect((await control(p, "/emulator/subscribe", { openId: USER })).status).toBe(200);
    await client.sendCustomMessage(text("hello"));
    p.clock.advance(2 * 60_000);
    expect(await errcodeOf(client.sendCustomMessage(text("late")))).toBe(45015);
  });

  it("answers 45015 to a follower who never interacted", async () => {
    const { p, client } = await start();
    await p.control("POST", "/emulator/followers", { openIds: [USER] });
    expect(await errcodeOf(client.sendCustomMessage(text("hello?")))).toBe(45015);
  });

  it("allows 5 messages within 48 hours of the user's own message", async () => {
    const { p, client } = await start();
    await p.control("POST", "/emulator/followers", { openIds: [USER] });
    expect((await control(p, "/emulator/message", { openId: USER, content: "hi" })).status).toBe(200);
    p.clock.advance(47 * 3_600_000);
    for (const n of [1, 2, 3, 4, 5]) await client.sendCustomMessage(text(`answer ${n}`));
    expect(await errcodeOf(client.sendCustomMessage(text("a 6th")))).toBe(45047);
    p.clock.advance(3_600_000);
    expect(await errcodeOf(client.sendCustomMessage(text("after 48 h")))).toBe(45015);
  });

  it("uses the window closing first when a scan and a user's message both opened one", async () => {
    const { p, client } = await start();
    await scan(p, client);
    expect((await control(p, "/emulator/message", { openId: USER, content: "hi" })).status).toBe(200);
    for (let n = 1; n <= 8; n++) await client.sendCustomMessage(text(`m${n}`));
    expect(await errcodeOf(client.sendCustomMessage(text("a 9th")))).toBe(45047);
  });

  it("answers 45015 once the user unfollowed, inside the minute", async () => {
    const { p, client } = await start();
    await scan(p, client);
    expect((await control(p, "/emulator/unsubscribe", { openId: USER })).status).toBe(200);
    expect(await errcodeOf(client.sendCustomMessage(text("still there?")))).toBe(45015);
  });

  it("takes its windows from the options (older rules) and from PUT /emulator/config", async () => {
    const { p, client } = await start({ sendWindows: { afterEvent: { messages: 20, seconds: 172_800 } } });
    await scan(p, client);
    p.clock.advance(47 * 3_600_000);
    for (let n = 1; n <= 20; n++) await client.sendCustomMessage(text(`m${n}`));
    expect(await errcodeOf(client.sendCustomMessage(text("a 21st")))).toBe(45047);
    await p.control("PUT", "/emulator/config", { sendWindows: { afterEvent: { messages: 1, seconds: 10 } } });
    p.clock.advance(2 * 86_400_000);
    await scan(p, client);
    await client.sendCustomMessage(text("the one"));
    expect(await errcodeOf(client.sendCustomMessage(text("a 2nd")))).toBe(45047);
  });
});

describe("emulator: customer-service message checks", () => {
  it("answers 40003 for an OpenID the account never had", async () => {
    const { client } = await start();
    const error = await errcodeOf(client.sendCustomMessage({ touser: "oNobody", text: "hi" }));
    expect(error).toBe(40003);
  });

  it("answers 44004 to an empty text and 45002 past 2,048 characters (2,048 CJK characters pass)", async () => {
    const { p, client } = await start();
    await scan(p, client);
    expect(await errcodeOf(client.sendCustomMessage(text("")))).toBe(44004);
    expect(await errcodeOf(client.sendCustomMessage(text("好".repeat(2_049))))).toBe(45002);
    await client.sendCustomMessage(text("好".repeat(2_048)));
  });

  it("answers 40007 for an unknown media_id, media of another type, and an image 3 days after its upload", async () => {
    const { p, client } = await start();
    const image = await client.uploadMedia("image", renderPng("http://weixin.qq.com/q/x"), "x.png", "image/png");
    const voice = await client.uploadMedia("voice", Buffer.from("#!AMR\nxxxx"), "v.amr", "audio/amr");
    await scan(p, client);
    expect(await errcodeOf(client.sendCustomMessage({ touser: USER, image: { mediaId: "unknown" } }))).toBe(40007);
    expect(await errcodeOf(client.sendCustomMessage({ touser: USER, image: { mediaId: voice.mediaId } }))).toBe(40007);
    p.clock.advance(3 * 86_400_000 - 1);
    await scan(p, client);
    await client.sendCustomMessage({ touser: USER, image: { mediaId: image.mediaId } });
    p.clock.advance(1);
    expect(await errcodeOf(client.sendCustomMessage({ touser: USER, image: { mediaId: image.mediaId } }))).toBe(40007);
    const err = await client.sendCustomMessage({ touser: USER, image: { mediaId: image.mediaId } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });

  it("answers 40008 for another msgtype, 45008 for news of two articles, 47001 for a body that is not JSON", async () => {
    const { p, client } = await start();
    await scan(p, client);
    const token = await client.accessToken.get();
    const send = (body: string) => p.raw(`/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`, body);
    expect((await send(JSON.stringify({ touser: USER, msgtype: "hologram", hologram: {} })))["errcode"]).toBe(40008);
    const article = { title: "t", description: "d", url: "https://example.com/", picurl: "https://example.com/p.png" };
    expect((await send(JSON.stringify({ touser: USER, msgtype: "news", news: { articles: [article, article] } })))["errcode"]).toBe(45008);
    expect((await send("{not json"))["errcode"]).toBe(47001);
    expect(await send(JSON.stringify({ touser: USER, msgtype: "news", news: { articles: [article] } }))).toEqual({ errcode: 0, errmsg: "ok" });
  });

  it("answers an armed fault, which the client retries (-1)", async () => {
    const { p, client } = await start();
    await scan(p, client);
    await p.fault("/cgi-bin/message/custom/send", -1, 1);
    await client.sendCustomMessage(text("after a hiccup"));
    expect((await p.counters())["message/custom/send"]).toBe(2);
    expect((await received(p)).map((m) => m.text)).toEqual([`welcome ${USER}`, "after a hiccup"]);
  });
});

describe("emulator: GET /emulator/users/:openId/messages", () => {
  it("lists the passive welcome of a scan, then the customer-service text and image in order, the image's bytes decodable", async () => {
    const { p, client } = await start();
    const poster = renderPng("http://weixin.qq.com/q/personal-code-of-the-user");
    const media = await client.uploadMedia("image", poster, "poster.png", "image/png");
    await scan(p, client);
    p.clock.advance(1_000);
    await client.sendCustomMessage(text("here is your poster"));
    await client.sendCustomMessage({ touser: USER, image: { mediaId: media.mediaId } });
    await scan(p, client, "oSomeoneElse");

    const messages = await received(p);
    expect(messages.map(({ via, msgType, text: t, mediaId }) => ({ via, msgType, text: t, mediaId }))).toEqual([
      { via: "passive_reply", msgType: "text", text: `welcome ${USER}`, mediaId: undefined },
      { via: "customer_service", msgType: "text", text: "here is your poster", mediaId: undefined },
      { via: "customer_service", msgType: "image", text: undefined, mediaId: media.mediaId },
    ]);
    expect(messages.map((m) => m.id)).toEqual([...messages.map((m) => m.id)].sort((a, b) => a - b));
    expect(messages.map((m) => m.at)).toEqual([p.clock.now() - 1_000, p.clock.now(), p.clock.now()]);
    const image = new Uint8Array(await (await fetch(`${p.url}${messages[2]?.mediaUrl ?? ""}`)).arrayBuffer());
    expect(decodeQrImage(image)).toBe("http://weixin.qq.com/q/personal-code-of-the-user");
    expect((await received(p, "oSomeoneElse")).map((m) => m.text)).toEqual(["welcome oSomeoneElse"]);
  });

  it("shows WeChat's notice when the push failed, and the open windows", async () => {
    const { p, client } = await start();
    await p.control("PUT", "/emulator/push", { url: receiver?.url, token: TOKEN, maxRetries: 0 });
    if (receiver !== undefined) receiver.failNext = 1;
    await scan(p, client);
    const body = (await p.control("GET", `/emulator/users/${USER}/messages`)) as { messages: Received[]; sendWindows: unknown[] };
    expect(body.messages.map((m) => [m.via, m.msgType, m.text])).toEqual([["passive_reply", "notice", USER_NOTICE]]);
    expect(body.sendWindows).toEqual([{ trigger: "event", openedAt: p.clock.now(), closesAt: p.clock.now() + 60_000, allowed: 3, used: 0 }]);
  });

  it("refuses an openId that cannot be one with 400, and lists nothing for a stranger", async () => {
    const { p } = await start();
    expect((await fetch(`${p.url}/emulator/users/${encodeURIComponent("not an id!")}/messages`)).status).toBe(400);
    expect(await received(p, "oStranger")).toEqual([]);
  });
});

describe("emulator: the state file keeps media, windows, received messages and tags", () => {
  it("continues after a restart", async () => {
    dir = mkdtempSync(join(tmpdir(), "wxqr-emu-cs-"));
    const stateFile = join(dir, "state.json");
    const { p, client } = await start({ stateFile });
    const png = renderPng("http://weixin.qq.com/q/kept");
    const media = await client.uploadMedia("image", png, "kept.png", "image/png");
    await scan(p, client);
    await client.sendCustomMessage({ touser: USER, image: { mediaId: media.mediaId } });
    const tag = await client.createTag("渠道A");
    await client.batchTag(tag.id, [USER]);
    const before = await received(p);
    await p.close();
    platform = undefined;

    const again = createEmulator({ appId: APP_ID, appSecret: APP_SECRET, stateFile }, { clock: p.clock, random: createSeededRandom(9) });
    const url = await again.listen({ port: 0 });
    try {
      expect(again.restored).toBe(true);
      const client2 = createWeChatClient(
        { appId: APP_ID, appSecret: APP_SECRET, apiBase: url, mpBase: url },
        { clock: p.clock, random: createSeededRandom(10) },
      );
      const after = (await (await fetch(`${url}/emulator/users/${USER}/messages`)).json()) as { messages: Received[] };
      expect(after.messages).toEqual(before);
      const bytes = new Uint8Array(await (await fetch(`${url}/emulator/media/${media.mediaId}`)).arrayBuffer());
      expect(Buffer.from(bytes).equals(png)).toBe(true);
      expect(await client2.getTagIdsOf(USER)).toEqual([tag.id]);
      // The window opened before the restart still has its last message.
      await client2.sendCustomMessage({ touser: USER, text: "the 2nd of 3" });
      await client2.sendCustomMessage({ touser: USER, text: "the 3rd of 3" });
      expect(await errcodeOf(client2.sendCustomMessage({ touser: USER, text: "a 4th" }))).toBe(45047);
    } finally {
      await again.close();
    }
  });
});
