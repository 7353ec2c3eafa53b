import { describe, expect, it } from "vitest";
import { ConfigError, SignatureError } from "../errors.ts";
import type { ErrorCode, QrError, PushFormatError } from "../errors.ts";
import { createSeededRandom } from "../deps.ts";
import type { PushMessage } from "./events.ts";
import { encryptMessage } from "./msg-crypto.ts";
import { parsePushXml } from "./parse-xml.ts";
import { createPushReceiver } from "./receiver.ts";
import type { PushQuery, PushRequest } from "./receiver.ts";
import { computeMsgSignature, computeSignature } from "./signature.ts";
import {
  APP_ID,
  cases,
  encryptedRequest,
  encryptedRequestFor,
  event,
  KEY,
  NONCE,
  NOW_S,
  plainRequest,
  RANDOM16,
  receiver,
  safeReceiver,
  TOKEN,
  V2_ENCRYPT,
  V6_ENCRYPT,
  V6_MSG_SIGNATURE,
  V6_REPLY_ENCRYPT,
  V6_REPLY_MSG_SIGNATURE,
  V6_XML,
} from "../../test/fixtures/push-requests.ts";

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

describe("createPushReceiver: published vectors", () => {
  it("opens V6, the encrypted subscribe-with-scene push", () => {
    const r = receiver();
    const request: PushRequest = {
      query: {
        signature: "76480565cbe296026c53aaacd1ad523a1ddba24f",
        timestamp: "1409304348",
        nonce: "xxxxxx",
        encrypt_type: "aes",
        msg_signature: V6_MSG_SIGNATURE,
      },
      body: `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[${V6_ENCRYPT}]]></Encrypt></xml>`,
    };
    const { message } = r.open(request);
    expect(message).toEqual({
      kind: "scan",
      openId: "oia2TjjewbmiOUlr6X-1crbLOvLw",
      originalId: "gh_7f083739789a",
      createTime: 1409304348,
      encrypted: true,
      isNewFollower: true,
      scene: { str: "123123", id: 123123 },
      ticket: "TICKET",
      dedupeKey: "oia2TjjewbmiOUlr6X-1crbLOvLw|1409304348|subscribe|qrscene_123123",
      event: "subscribe",
      eventKeyAsSent: "qrscene_123123",
      raw: { ...parsePushXml(V6_XML) },
    });
  });

  it("reproduces V6's encrypted reply byte for byte", () => {
    const r = receiver();
    const reply = r.open(encryptedRequestFor(V6_ENCRYPT)).reply("welcome");
    expect(reply.contentType).toBe("application/xml");
    expect(reply.body).toBe(
      `<xml><Encrypt><![CDATA[${V6_REPLY_ENCRYPT}]]></Encrypt><MsgSignature><![CDATA[${V6_REPLY_MSG_SIGNATURE}]]></MsgSignature><TimeStamp>1409304348</TimeStamp><Nonce><![CDATA[xxxxxx]]></Nonce></xml>`,
    );
  });

  it("opens V2 (EasyWeChat), a text message, with its published msg_signature", () => {
    const r = receiver({ now: () => 1458300676_000 });
    const { message } = r.open({
      query: {
        signature: computeSignature(TOKEN, "1458300676", "260774613"),
        timestamp: "1458300676",
        nonce: "260774613",
        encrypt_type: "aes",
        msg_signature: "4f3ad57b6989f09f4eb392acce4f9e93942ed890",
      },
      body: `<xml><ToUserName><![CDATA[asdasdasd]]></ToUserName><Encrypt><![CDATA[${V2_ENCRYPT}]]></Encrypt></xml>`,
    });
    expect(message).toMatchObject({
      kind: "other",
      msgType: "text",
      openId: "asdasdasdsadasd",
      originalId: "asdasdasd",
      createTime: 1234567898,
      dedupeKey: "asdasdasdsadasd|1234567898|msg|12345",
      fields: { Content: "hello", URL: "http://wechat.laravel.so/server" },
    });
  });
});

describe("verifyUrl", () => {
  it("returns echostr unchanged for a valid signature", () => {
    const query = { ...plainRequest("").query, echostr: "5837397520186787553 +/=" };
    expect(receiver().verifyUrl(query)).toBe("5837397520186787553 +/=");
  });

  it("works without an EncodingAESKey, and ignores encrypt_type (OA echostr is plain)", () => {
    const query = { ...plainRequest("").query, echostr: "abc", encrypt_type: "aes" };
    expect(receiver({ encodingAESKey: undefined }).verifyUrl(query)).toBe("abc");
  });

  it.each<[string, PushQuery, ErrorCode]>([
    ["a wrong signature", { ...plainRequest("").query, signature: "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", echostr: "e" }, "SIGNATURE_INVALID"],
    ["no signature", { timestamp: String(NOW_S), nonce: NONCE, echostr: "e" }, "SIGNATURE_INVALID"],
    ["no echostr", plainRequest("").query, "SIGNATURE_INVALID"],
    ["an empty echostr", { ...plainRequest("").query, echostr: "" }, "SIGNATURE_INVALID"],
    ["a stale timestamp", { ...plainRequest("", { timestamp: String(NOW_S - 1000) }).query, echostr: "e" }, "TIMESTAMP_STALE"],
  ])("refuses %s", (_name, query, code) => {
    const err = caught(() => receiver().verifyUrl(query));
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as SignatureError).code).toBe(code);
  });
});

describe("open", () => {
  it("opens a plain push: no encrypt_type, or encrypt_type=raw", () => {
    const r = receiver();
    const xml = event({ Event: "SCAN", EventKey: "123", Ticket: "T" });
    for (const query of [{}, { encrypt_type: "raw" }, { encrypt_type: "" }]) {
      expect(r.open(plainRequest(xml, { query })).message).toMatchObject({
        kind: "scan",
        encrypted: false,
        isNewFollower: false,
        scene: { str: "123", id: 123 },
        ticket: "T",
      });
    }
  });

  it("accepts the body as raw bytes", () => {
    const m = receiver().open(plainRequest(Buffer.from(event({ Event: "subscribe", EventKey: "qrscene_渠道" })))).message;
    expect(m.kind === "scan" && m.scene.str).toBe("渠道");
    const u8 = new Uint8Array(Buffer.from(` ${event({ Event: "unsubscribe" })}`)).subarray(1);
    expect(receiver().open(plainRequest(u8)).message.kind).toBe("unsubscribe");
  });

  it("trusts only the decrypted fields in compatible mode", () => {
    const inner = event({ Event: "SCAN", EventKey: "real" });
    const encrypt = encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: inner, random16: RANDOM16 });
    const lying = (enc: string) => `${event({ Event: "SCAN", EventKey: "forged" }).slice(0, -6)}<Encrypt><![CDATA[${enc}]]></Encrypt></xml>`;
    const m = receiver().open(encryptedRequestFor(encrypt, { envelope: lying })).message;
    expect(m.kind === "scan" && m.scene.str).toBe("real");
    expect(m.encrypted).toBe(true);
    expect(m.raw.Encrypt).toBeUndefined();
    // Without encrypt_type=aes the same body is read as plain text.
    const plain = receiver().open(plainRequest(lying(encrypt))).message;
    expect(plain.kind === "scan" && plain.scene.str).toBe("forged");
    expect(plain.encrypted).toBe(false);
  });

  it("accepts timestamps exactly at the skew limit, in both directions", () => {
    const xml = event({ Event: "unsubscribe" });
    expect(receiver().open(plainRequest(xml, { timestamp: String(NOW_S - 300) })).message.kind).toBe("unsubscribe");
    expect(receiver().open(plainRequest(xml, { timestamp: String(NOW_S + 300) })).message.kind).toBe("unsubscribe");
    expect(receiver({ maxClockSkewSeconds: 0 }).open(plainRequest(xml)).message.kind).toBe("unsubscribe");
  });

  it("skips the age check when maxClockSkewSeconds is null", () => {
    expect(receiver({ maxClockSkewSeconds: null }).open(plainRequest(event({ Event: "unsubscribe" }), { timestamp: "1" })).message.kind).toBe("unsubscribe");
  });

  it("accepts a body of exactly maxBodyBytes, counted in UTF-8 bytes", () => {
    const xml = event({ Event: "SCAN", EventKey: "渠道" });
    const bytes = Buffer.byteLength(xml);
    expect(receiver({ maxBodyBytes: bytes }).open(plainRequest(xml)).message.kind).toBe("scan");
    expect(receiver({ maxBodyBytes: bytes }).open(plainRequest(Buffer.from(xml))).message.kind).toBe("scan");
    const err = caught(() => receiver({ maxBodyBytes: bytes - 1 }).open(plainRequest(xml)).message);
    expect((err as PushFormatError).code).toBe("PUSH_TOO_LARGE");
  });

  it("uses the system clock and randomness by default", () => {
    const r = createPushReceiver({ token: TOKEN, appId: APP_ID, encodingAESKey: KEY, maxClockSkewSeconds: null });
    const reply = r.open(encryptedRequestFor(V6_ENCRYPT)).reply("hi");
    expect(reply.body).toMatch(/^<xml><Encrypt>/);
    expect(reply.body).not.toContain(V6_REPLY_ENCRYPT);
  });
});

describe("requireEncryption", () => {
  const scan = event({ Event: "SCAN", EventKey: "forged" });
  const compatibleBody = `${scan.slice(0, -6)}<Encrypt><![CDATA[${V6_ENCRYPT}]]></Encrypt></xml>`;

  it.each<[string, PushRequest]>([
    ["no encrypt_type", plainRequest(scan)],
    ["encrypt_type=raw", plainRequest(scan, { query: { encrypt_type: "raw" } })],
    ["an empty encrypt_type", plainRequest(scan, { query: { encrypt_type: "" } })],
    ["a compatible-mode body sent without encrypt_type", plainRequest(compatibleBody)],
    ["a plain push as raw bytes", plainRequest(Buffer.from(scan))],
  ])("refuses a correctly signed plain push (%s) when a key is configured", (_name, request) => {
    const err = caught(() => safeReceiver().open(request).message);
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as SignatureError).code).toBe("SIGNATURE_INVALID");
  });

  it("checks signature and timestamp first", () => {
    expect((caught(() => safeReceiver().open(plainRequest(scan, { token: "other" })).message) as SignatureError).code).toBe("SIGNATURE_INVALID");
    expect((caught(() => safeReceiver().open(plainRequest(scan, { timestamp: String(NOW_S - 1000) })).message) as SignatureError).code).toBe("TIMESTAMP_STALE");
  });

  it("opens encrypted pushes, safe and compatible", () => {
    expect(safeReceiver().open(encryptedRequestFor(V6_ENCRYPT)).message).toMatchObject({ kind: "scan", encrypted: true });
    const m = safeReceiver().open(encryptedRequestFor(V6_ENCRYPT, { envelope: () => compatibleBody })).message;
    expect(m.kind === "scan" && m.scene.str).toBe("123123");
  });

  it("still answers URL verification, whose echostr is plain in safe mode", () => {
    expect(safeReceiver().verifyUrl({ ...plainRequest("").query, echostr: "e" })).toBe("e");
  });

  it("accepts plain pushes without a key (plaintext mode), or with requireEncryption: false", () => {
    const plainMode = createPushReceiver({ token: TOKEN, appId: APP_ID, now: () => NOW_S * 1000 });
    expect(plainMode.open(plainRequest(scan)).message).toMatchObject({ kind: "scan", encrypted: false });
    expect(safeReceiver({ requireEncryption: false }).open(plainRequest(scan)).message).toMatchObject({ kind: "scan", encrypted: false });
  });

  it("is a ConfigError without a key, or when not a boolean", () => {
    const noKey = caught(() => createPushReceiver({ token: TOKEN, appId: APP_ID, requireEncryption: true })) as ConfigError;
    expect(noKey).toBeInstanceOf(ConfigError);
    expect(noKey.problems.map((p) => p.key)).toEqual(["requireEncryption"]);
    const notBoolean = caught(() => safeReceiver({ requireEncryption: "yes" as unknown as boolean })) as ConfigError;
    expect(notBoolean.problems.map((p) => p.key)).toEqual(["requireEncryption"]);
  });
});

describe("reply", () => {
  const r = receiver();
  const plainScan = r.open(plainRequest(event({ Event: "SCAN", EventKey: "1" })));

  it("answers success when there is nothing to say", () => {
    expect(plainScan.reply()).toEqual({ body: "success", contentType: "text/plain" });
    expect(plainScan.reply(undefined)).toEqual({ body: "success", contentType: "text/plain" });
    expect(plainScan.reply("")).toEqual({ body: "success", contentType: "text/plain" });
  });

  it("answers success to an unfollow, which WeChat cannot deliver a reply for", () => {
    expect(r.open(plainRequest(event({ Event: "unsubscribe" }))).reply("bye").body).toBe("success");
  });

  it("answers a plain push with plain text XML, To and From swapped, CreateTime now", () => {
    const late = receiver({ now: () => 1_700_000_000_999, maxClockSkewSeconds: null });
    expect(late.open(plainRequest(event({ Event: "SCAN", EventKey: "1" }))).reply("a]]>b")).toEqual({
      body: "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>",
      contentType: "application/xml",
    });
  });

  it("encrypts the reply to an encrypted push; the reply opens with the same key", () => {
    const body = r.open(encryptedRequest(event({ Event: "SCAN", EventKey: "1" }), { nonce: "123456" })).reply("你好").body;
    const envelope = parsePushXml(body);
    expect(envelope.Nonce).toBe("123456");
    expect(envelope.TimeStamp).toBe(String(NOW_S));
    expect(envelope.MsgSignature).toBe(computeMsgSignature(TOKEN, envelope.TimeStamp!, envelope.Nonce!, envelope.Encrypt!));
    const reopened = receiver().open(encryptedRequestFor(envelope.Encrypt!, { nonce: "123456" })).message;
    expect(reopened).toMatchObject({ kind: "other", msgType: "text", openId: "gh_7f083739789a", originalId: "oUser", raw: { Content: "你好" } });
  });

  it("draws a fresh nonce from random when the request's cannot be echoed", () => {
    const seeded = receiver({ random: createSeededRandom(7) });
    const { reply } = seeded.open(encryptedRequest(event({ Event: "SCAN", EventKey: "1" }), { nonce: "not-alnum!" }));
    const nonce = parsePushXml(reply("x").body).Nonce!;
    expect(nonce).toMatch(/^[0-9]{10}$/);
  });

  it("replies alike however the message was passed around: the reply carries the request's nonce, not the message object", () => {
    const { message, reply } = r.open(encryptedRequest(event({ Event: "SCAN", EventKey: "1" }), { nonce: "778899" }));
    const copy: PushMessage = structuredClone(message);
    expect(copy).toEqual(message);
    expect(parsePushXml(reply("x").body).Nonce).toBe("778899");
  });
});

describe("createPushReceiver options", () => {
  it("reports every problem at once", () => {
    const err = caught(() => createPushReceiver({ token: "", appId: "", encodingAESKey: "short", maxClockSkewSeconds: -1, maxBodyBytes: 0 })) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.problems.map((p) => p.key).sort()).toEqual(["WECHAT_APP_ID", "WECHAT_ENCODING_AES_KEY", "WECHAT_TOKEN", "maxBodyBytes", "maxClockSkewSeconds"]);
  });

  it("never puts the token or key in error messages", () => {
    const err = caught(() => createPushReceiver({ token: "secret-token", appId: APP_ID, encodingAESKey: `${KEY}x` })) as ConfigError;
    expect(err.message).not.toContain(KEY);
    const sigErr = caught(() => receiver().open(plainRequest("<xml/>", { token: "other" })).message) as SignatureError;
    expect(sigErr.message).not.toContain(TOKEN);
  });

  it.each([NaN, Infinity, 1.5])("refuses maxBodyBytes %s", (maxBodyBytes) => {
    expect(caught(() => receiver({ maxBodyBytes }))).toBeInstanceOf(ConfigError);
  });
});

describe("open: hostile and unusual pushes", () => {
  it("has at least 30 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = receiver(c.options);
    const request = c.request();
    if ("check" in c.expect) {
      c.expect.check(r.open(request).message);
      return;
    }
    const err = caught(() => r.open(request).message);
    expect(err).toBeInstanceOf(c.expect.error);
    expect((err as QrError).code).toBe(c.expect.code);
    if (c.expect.field !== undefined) expect((err as PushFormatError).field).toBe(c.expect.field);
  });
});
