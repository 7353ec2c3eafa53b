import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, DecryptError, PushFormatError, SignatureError } from "../errors.ts";
import type { ErrorCode, QrError } from "../errors.ts";
import { createSeededRandom } from "../deps.ts";
import type { PushMessage } from "./events.ts";
import { deriveAesKey, encryptMessage } from "./msg-crypto.ts";
import { parsePushXml } from "./parse-xml.ts";
import { createPushReceiver } from "./receiver.ts";
import type { PushQuery, PushReceiverOptions, PushRequest } from "./receiver.ts";
import { computeMsgSignature, computeSignature } from "./signature.ts";

// Vector V1/V6 parameters (wechat-api.md §6).
const TOKEN = "pamtest";
const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID = "wxb11529c136998cb6";
const NOW_S = 1409304348;
const NONCE = "xxxxxx";
const RANDOM16 = Buffer.from("aaaabbbbccccdddd");
const V6_XML =
  "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>";
const V6_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv23bYF/d/cxBf0szhrD8BQ1MkorjFwC0rHlVODYXVB9IoGQ4CNo1VHAn/QmUDCsvVe82eyvUkmySBcDgs5PbFfKp2ePVamowQeOGiTDxQxfc0zZvbaYk0COUUiAaB/IEopgGDDJSgveMJDjHgkBx4Nx81IIBG9qe74QCHJuxFckKhp7Cuj2X7i4f9smx6Yw1aazrdxDv91w7cHwKTq8lVDIk/zuyq0ezzh3Xbdy23KenwkyrhtC4kJo7kB+ldn4/GO1SItIgZv3tgje6//fMu9F6enbRCzdYUxx/r+6rWoDS+tu+IsbMk44+4keY9yTnmgGCj1jLkjHS5iqR32YnP0dH3cG0WOGT04fyYH9R4gjOceILmUF+eXMFiSnIsOvOZzXQegH9nVOwrEaL2/dfAE6GR1eAGGsurIJ7/d7BZVsiDXJxXbVbRmnZWObU561ufa/WD5hjuGqCASNAnpvt8+W2nQ8pGJqSgBcqMmJUr0fL0";
const V6_MSG_SIGNATURE = "e7d01d4a2a34e9c43bf40a8cf8143b46f43c25a3";
const V6_REPLY_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv2w4sePYQdD6NGsLnUAZaXUMQ9GZqG3LR/7dHyqhL7uoRUYsml20OUichn6ld2qdUhxRnRtvamXVbM3CZESAk1hl6hDCHKLIOkgc10b7FnnR9275CjFHt1hiXYmARo9erPNPBLGaJmlytHj7fUhR/IU00NTh8aIa91xcOxwCpo9zpTRxoYOK7f7P1SO6JEywYiQedWxI+TiDsv68OQHR9EDasETWrLGgAnjkceiIvRtiGugBW0WYrJ71KuUcyRjqXRYmaxOQHapOac9wXuUd/XkFWKDF+FQQSxVld0dcTRDim1w0k802Nhcblf29Tz++DRHecjj85uxOt89xR+xzCRdHJtmFFmOE3hSzWSqj1ao3/";
const V6_REPLY_MSG_SIGNATURE = "4f98556c66fa12eaf9774033d888172b24d995a8";
const V2_ENCRYPT =
  "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==";

const fixedRandom = (n: number): Uint8Array => Buffer.alloc(n, RANDOM16);

/**
 * A receiver with the key that also accepts plaintext pushes (`requireEncryption: false`, as during a
 * migration), so one receiver reaches both paths; the safe-mode default has its own cases below.
 */
function receiver(options: Partial<PushReceiverOptions> = {}) {
  return createPushReceiver({ token: TOKEN, appId: APP_ID, encodingAESKey: KEY, requireEncryption: false, now: () => NOW_S * 1000, random: fixedRandom, ...options });
}
/** The receiver as configured in production: the key set, so only encrypted pushes (requireEncryption defaults to true). */
function safeReceiver(options: Partial<PushReceiverOptions> = {}) {
  return createPushReceiver({ token: TOKEN, appId: APP_ID, encodingAESKey: KEY, now: () => NOW_S * 1000, random: fixedRandom, ...options });
}

interface SignOptions {
  timestamp?: string;
  nonce?: string;
  token?: string;
  query?: Record<string, string | string[] | undefined>;
}

function plainRequest(body: string | Uint8Array, o: SignOptions = {}): PushRequest {
  const timestamp = o.timestamp ?? String(NOW_S);
  const nonce = o.nonce ?? NONCE;
  const signature = computeSignature(o.token ?? TOKEN, timestamp, nonce);
  return { query: { signature, timestamp, nonce, openid: "oia2TjjewbmiOUlr6X-1crbLOvLw", ...o.query }, body };
}

/** An encrypted push around a given Encrypt value, correctly signed (so the decrypter is reached). */
function encryptedRequestFor(encrypt: string, o: SignOptions & { envelope?: (encrypt: string) => string } = {}): PushRequest {
  const timestamp = o.timestamp ?? String(NOW_S);
  const nonce = o.nonce ?? NONCE;
  const body = o.envelope ? o.envelope(encrypt) : `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  const msgSignature = computeMsgSignature(o.token ?? TOKEN, timestamp, nonce, encrypt);
  return plainRequest(body, { ...o, query: { encrypt_type: "aes", msg_signature: msgSignature, ...o.query } });
}

function encryptedRequest(innerXml: string, o: SignOptions & { appId?: string } = {}): PushRequest {
  return encryptedRequestFor(encryptMessage({ encodingAESKey: KEY, appId: o.appId ?? APP_ID, xml: innerXml, random16: RANDOM16 }), o);
}

const aesKey = deriveAesKey(KEY);
/** AES-CBC over raw bytes without any padding, to craft bad padding and framing. */
function rawEncrypt(plain: Buffer): string {
  const cipher = createCipheriv("aes-256-cbc", aesKey, aesKey.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
}
function framed(msg: string, padding: number[], lenOverride?: number): Buffer {
  const m = Buffer.from(msg);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(lenOverride ?? m.length);
  return Buffer.concat([RANDOM16, len, m, Buffer.from(APP_ID), Buffer.from(padding)]);
}
const SHORT = "<xml/>"; // 20 + 6 + 18 = 44 bytes → 20 bytes of padding

const event = (fields: Record<string, string>): string =>
  `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>${NOW_S}</CreateTime><MsgType><![CDATA[event]]></MsgType>${Object.entries(
    fields,
  )
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join("")}</xml>`;

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
      query: { signature: "76480565cbe296026c53aaacd1ad523a1ddba24f", timestamp: "1409304348", nonce: "xxxxxx", encrypt_type: "aes", msg_signature: V6_MSG_SIGNATURE },
      body: `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[${V6_ENCRYPT}]]></Encrypt></xml>`,
    };
    const { message } = r.open(request);
    expect(message).toEqual({
      kind: "scan",
      openId: "oia2TjjewbmiOUlr6X-1crbLOvLw",
      accountId: "gh_7f083739789a",
      createTime: 1409304348,
      encrypted: true,
      isNewFollower: true,
      scene: { str: "123123", id: 123123 },
      ticket: "TICKET",
      dedupeKey: "oia2TjjewbmiOUlr6X-1crbLOvLw|1409304348|subscribe|qrscene_123123",
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
      accountId: "asdasdasd",
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
      expect(r.open(plainRequest(xml, { query })).message).toMatchObject({ kind: "scan", encrypted: false, isNewFollower: false, scene: { str: "123", id: 123 }, ticket: "T" });
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
    expect(reopened).toMatchObject({ kind: "other", msgType: "text", openId: "gh_7f083739789a", accountId: "oUser", raw: { Content: "你好" } });
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
    const err = caught(() =>
      createPushReceiver({ token: "", appId: "", encodingAESKey: "short", maxClockSkewSeconds: -1, maxBodyBytes: 0 }),
    ) as ConfigError;
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

// ---------------------------------------------------------------------------------------------
// Hostile and unusual pushes: each asserts the error class and code (and field), or the parsed value.

type Expectation =
  | { error: new (...args: never[]) => QrError; code: ErrorCode; field?: string }
  | { check: (m: PushMessage) => void };

interface Case {
  name: string;
  request: () => PushRequest;
  options?: Partial<PushReceiverOptions>;
  expect: Expectation;
}

const sig = (code: ErrorCode = "SIGNATURE_INVALID") => ({ error: SignatureError, code });
const dec = { error: DecryptError, code: "DECRYPT_FAILED" } as const;
const fmt = (field?: string) => ({ error: PushFormatError, code: "PUSH_MALFORMED" as const, ...(field === undefined ? {} : { field }) });
const scanXml = event({ Event: "SCAN", EventKey: "1" });
const scene = (kind: "scan", isNewFollower: boolean, expected: { str: string; id?: number }) => ({
  check: (m: PushMessage) => {
    expect(m.kind).toBe(kind);
    if (m.kind !== "scan") return;
    expect(m.isNewFollower).toBe(isNewFollower);
    expect(m.scene).toStrictEqual(expected);
  },
});
const without = (field: string) =>
  `<xml>${["ToUserName", "FromUserName", "CreateTime", "MsgType"]
    .filter((f) => f !== field)
    .map((f) => `<${f}>${f === "CreateTime" ? NOW_S : "x"}</${f}>`)
    .join("")}<Event>subscribe</Event></xml>`;
const stripQuery = (req: PushRequest, name: string): PushRequest => ({ ...req, query: Object.fromEntries(Object.entries(req.query).filter(([k]) => k !== name)) });

const cases: Case[] = [
  // Signatures and timestamps
  { name: "no signature", request: () => stripQuery(plainRequest(scanXml), "signature"), expect: sig() },
  { name: "no timestamp", request: () => stripQuery(plainRequest(scanXml), "timestamp"), expect: sig() },
  { name: "no nonce", request: () => stripQuery(plainRequest(scanXml), "nonce"), expect: sig() },
  { name: "an empty query", request: () => ({ query: {}, body: scanXml }), expect: sig() },
  { name: "a signature off by one digit", request: () => ({ ...plainRequest(scanXml), query: { ...plainRequest(scanXml).query, signature: `${computeSignature(TOKEN, String(NOW_S), NONCE).slice(0, -1)}0` } }), expect: sig() },
  { name: "a signature made with another token", request: () => plainRequest(scanXml, { token: "other" }), expect: sig() },
  { name: "an uppercase signature", request: () => ({ ...plainRequest(scanXml), query: { ...plainRequest(scanXml).query, signature: computeSignature(TOKEN, String(NOW_S), NONCE).toUpperCase() } }), expect: sig() },
  { name: "a repeated signature parameter", request: () => ({ ...plainRequest(scanXml), query: { ...plainRequest(scanXml).query, signature: [computeSignature(TOKEN, String(NOW_S), NONCE)] } }), expect: sig() },
  { name: "a non-numeric timestamp (signed)", request: () => plainRequest(scanXml, { timestamp: "14093043a8" }), expect: sig() },
  { name: "a negative timestamp (signed)", request: () => plainRequest(scanXml, { timestamp: "-1409304348" }), expect: sig() },
  { name: "a timestamp 301 s in the past", request: () => plainRequest(scanXml, { timestamp: String(NOW_S - 301) }), expect: sig("TIMESTAMP_STALE") },
  { name: "a timestamp 301 s in the future", request: () => plainRequest(scanXml, { timestamp: String(NOW_S + 301) }), expect: sig("TIMESTAMP_STALE") },
  { name: "a replay from a day ago", request: () => encryptedRequestFor(V6_ENCRYPT, { timestamp: String(NOW_S - 86400) }), expect: sig("TIMESTAMP_STALE") },
  { name: "a bad signature on an encrypted push (checked before msg_signature)", request: () => encryptedRequestFor(V6_ENCRYPT, { query: { signature: "0".repeat(40) } }), expect: sig() },
  // Safe mode
  { name: "a signed plain push to a receiver with a key (a leaked query carrying forged XML)", options: { requireEncryption: undefined }, request: () => plainRequest(scanXml), expect: sig() },
  { name: "encrypt_type=raw to a receiver with a key", options: { requireEncryption: undefined }, request: () => plainRequest(scanXml, { query: { encrypt_type: "raw" } }), expect: sig() },
  { name: "a plain push to a receiver with requireEncryption: true", options: { requireEncryption: true }, request: () => plainRequest(scanXml), expect: sig() },
  { name: "no msg_signature", request: () => stripQuery(encryptedRequestFor(V6_ENCRYPT), "msg_signature"), expect: sig() },
  { name: "a wrong msg_signature", request: () => encryptedRequestFor(V6_ENCRYPT, { query: { msg_signature: V6_MSG_SIGNATURE.replace("e7", "e8") } }), expect: sig() },
  { name: "a msg_signature over another Encrypt", request: () => encryptedRequestFor(V6_ENCRYPT, { query: { msg_signature: "82c962d39941aa48552f90ef55aa323dc620cc10" } }), expect: sig() },
  { name: "a wrong AppID inside the ciphertext", request: () => encryptedRequest(V6_XML, { appId: "wx0000000000000000" }), expect: sig("APPID_MISMATCH") },
  { name: "an empty AppID inside the ciphertext", request: () => encryptedRequest(V6_XML, { appId: "" }), expect: sig("APPID_MISMATCH") },
  { name: "bad base64 in Encrypt", request: () => encryptedRequestFor("@@@@not*base64"), expect: dec },
  { name: "base64 with a space in Encrypt", request: () => encryptedRequestFor(`${V6_ENCRYPT.slice(0, 20)} ${V6_ENCRYPT.slice(20)}`), expect: dec },
  { name: "padding value 0", request: () => encryptedRequestFor(rawEncrypt(framed(SHORT, [...Array<number>(19).fill(20), 0]))), expect: dec },
  { name: "padding value 33", request: () => encryptedRequestFor(rawEncrypt(framed(SHORT, [...Array<number>(19).fill(20), 33]))), expect: dec },
  { name: "inconsistent padding bytes", request: () => encryptedRequestFor(rawEncrypt(framed(SHORT, [...Array<number>(18).fill(20), 19, 20]))), expect: dec },
  { name: "a ciphertext truncated by one block", request: () => encryptedRequestFor(Buffer.from(V6_ENCRYPT, "base64").subarray(0, -16).toString("base64")), expect: dec },
  { name: "a ciphertext truncated mid-block", request: () => encryptedRequestFor(Buffer.from(V6_ENCRYPT, "base64").subarray(0, -5).toString("base64")), expect: dec },
  { name: "a length field beyond the buffer", request: () => encryptedRequestFor(rawEncrypt(framed(SHORT, Array<number>(20).fill(20), 0x7fffffff))), expect: dec },
  { name: "an Encrypt from another key", request: () => encryptedRequestFor(encryptMessage({ encodingAESKey: "Z".repeat(43), appId: APP_ID, xml: V6_XML, random16: RANDOM16 })), expect: dec },
  { name: "encrypt_type=aes without a configured key", options: { encodingAESKey: undefined }, request: () => encryptedRequestFor(V6_ENCRYPT), expect: dec },
  { name: "an unknown encrypt_type", request: () => plainRequest(scanXml, { query: { encrypt_type: "des" } }), expect: fmt("encrypt_type") },
  { name: "encrypt_type=aes with no Encrypt element", request: () => plainRequest(scanXml, { query: { encrypt_type: "aes", msg_signature: V6_MSG_SIGNATURE } }), expect: fmt("Encrypt") },
  { name: "a malformed envelope around Encrypt", request: () => encryptedRequestFor(V6_ENCRYPT, { envelope: (e) => `<xml><Encrypt>${e}</Encrypt>` }), expect: fmt() },
  { name: "a DOCTYPE inside the ciphertext", request: () => encryptedRequest(`<!DOCTYPE xml [<!ENTITY x "y">]>${V6_XML}`), expect: fmt() },
  { name: "a decrypted push missing FromUserName", request: () => encryptedRequest(without("FromUserName")), expect: fmt("FromUserName") },
  // XML
  { name: "a DOCTYPE", request: () => plainRequest(`<!DOCTYPE xml>${scanXml}`), expect: fmt() },
  { name: "a billion-laughs entity bomb", request: () => plainRequest(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, k) => `<!ENTITY lol${k + 1} "${`&lol${k || ""};`.repeat(10)}">`).join("")}]><xml><ToUserName>&lol9;</ToUserName></xml>`), expect: fmt() },
  { name: "an external entity", request: () => plainRequest(`<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><FromUserName>&xxe;</FromUserName></xml>`), expect: fmt() },
  { name: "an undeclared entity reference", request: () => plainRequest(event({ Event: "SCAN" }).replace("<Event>", "<EventKey>&xxe;</EventKey><Event>")), expect: fmt("EventKey") },
  { name: "a 10 MB body", request: () => plainRequest(`<xml><A>${"x".repeat(10 * 1024 * 1024)}</A></xml>`), expect: { error: PushFormatError, code: "PUSH_TOO_LARGE" } },
  { name: "a 10 MB body as bytes", request: () => plainRequest(Buffer.alloc(10 * 1024 * 1024, 0x20)), expect: { error: PushFormatError, code: "PUSH_TOO_LARGE" } },
  { name: "a body that is not XML", request: () => plainRequest('{"ToUserName":"gh_x"}'), expect: fmt() },
  { name: "an empty body", request: () => plainRequest(""), expect: fmt() },
  { name: "bytes that are not UTF-8", request: () => plainRequest(Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e])), expect: fmt() },
  { name: "a body that is neither string nor bytes", request: () => plainRequest(42 as unknown as string), expect: fmt() },
  { name: "unclosed tags", request: () => plainRequest(scanXml.replace("</xml>", "")), expect: fmt() },
  { name: "a mismatched closing tag", request: () => plainRequest(scanXml.replace("</MsgType>", "</MsgTyp>")), expect: fmt("MsgType") },
  { name: "text after the root", request: () => plainRequest(`${scanXml}<xml/>`), expect: fmt() },
  { name: "the wrong root element", request: () => plainRequest(scanXml.replaceAll("xml>", "root>")), expect: fmt() },
  { name: "a duplicated FromUserName", request: () => plainRequest(scanXml.replace("<CreateTime>", "<FromUserName>evil</FromUserName><CreateTime>")), expect: fmt("FromUserName") },
  { name: "a missing ToUserName", request: () => plainRequest(without("ToUserName")), expect: fmt("ToUserName") },
  { name: "a missing FromUserName", request: () => plainRequest(without("FromUserName")), expect: fmt("FromUserName") },
  { name: "a missing CreateTime", request: () => plainRequest(without("CreateTime")), expect: fmt("CreateTime") },
  { name: "a missing MsgType", request: () => plainRequest(without("MsgType")), expect: fmt("MsgType") },
  { name: "a non-numeric CreateTime", request: () => plainRequest(scanXml.replace(`<CreateTime>${NOW_S}`, "<CreateTime>yesterday")), expect: fmt("CreateTime") },
  // Parsed values
  { name: "an unknown event type (LOCATION)", request: () => plainRequest(event({ Event: "LOCATION", Latitude: "23.137466" })), expect: { check: (m) => expect(m).toMatchObject({ kind: "other", event: "LOCATION", fields: { Latitude: "23.137466" } }) } },
  { name: "an unknown message type", request: () => plainRequest(scanXml.replace("<![CDATA[event]]>", "<![CDATA[shortvideo]]>")), expect: { check: (m) => expect(m).toMatchObject({ kind: "other", msgType: "shortvideo" }) } },
  { name: "subscribe with qrscene_qrscene_x", request: () => plainRequest(event({ Event: "subscribe", EventKey: "qrscene_qrscene_x" })), expect: scene("scan", true, { str: "qrscene_x" }) },
  { name: "a unicode scene_str", request: () => encryptedRequest(event({ Event: "subscribe", EventKey: "qrscene_渠道-海报🎉" })), expect: scene("scan", true, { str: "渠道-海报🎉" }) },
  { name: "a 64-character scene_str", request: () => plainRequest(event({ Event: "SCAN", EventKey: "s".repeat(64) })), expect: scene("scan", false, { str: "s".repeat(64) }) },
  { name: "scene_id 0", request: () => plainRequest(event({ Event: "SCAN", EventKey: "0" })), expect: scene("scan", false, { str: "0", id: 0 }) },
  { name: "a leading-zero scene 007", request: () => plainRequest(event({ Event: "subscribe", EventKey: "qrscene_007" })), expect: scene("scan", true, { str: "007" }) },
  { name: "scene_id 4294967295", request: () => plainRequest(event({ Event: "SCAN", EventKey: "4294967295" })), expect: scene("scan", false, { str: "4294967295", id: 4294967295 }) },
  { name: "a scene with ]]> inside (split CDATA)", request: () => plainRequest(event({ Event: "SCAN", EventKey: "a]]]]><![CDATA[>b" })), expect: scene("scan", false, { str: "a]]>b" }) },
  { name: "a last_trade_no_ EventKey on subscribe", request: () => plainRequest(event({ Event: "subscribe", EventKey: "last_trade_no_4008072001201701105817415015" })), expect: { check: (m) => expect(m).toMatchObject({ kind: "subscribe", eventKey: "last_trade_no_4008072001201701105817415015" }) } },
  { name: "an empty EventKey on subscribe", request: () => plainRequest(event({ Event: "subscribe", EventKey: "" })), expect: { check: (m) => expect(m).toMatchObject({ kind: "subscribe", eventKey: undefined }) } },
  { name: "a self-closing EventKey on subscribe", request: () => plainRequest(scanXml.replace("<![CDATA[SCAN]]>", "subscribe").replace(/<EventKey>.*<\/EventKey>/, "<EventKey/>")), expect: { check: (m) => expect(m.kind).toBe("subscribe") } },
  { name: "SCAN spelled lowercase", request: () => plainRequest(event({ Event: "scan", EventKey: "42" })), expect: scene("scan", false, { str: "42", id: 42 }) },
  { name: "an unsubscribe with an empty EventKey", request: () => plainRequest(event({ Event: "unsubscribe", EventKey: "" })), expect: { check: (m) => expect(m.kind).toBe("unsubscribe") } },
  { name: "a nested video message (V1b shape)", request: () => encryptedRequest("<xml><ToUserName><![CDATA[u]]></ToUserName><FromUserName><![CDATA[gh]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[m]]></MediaId></Video></xml>"), expect: { check: (m) => expect(m).toMatchObject({ kind: "other", msgType: "video", fields: { "Video.MediaId": "m" } }) } },
];

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
