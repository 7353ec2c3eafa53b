import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSeededRandom } from "../deps.ts";
import { parsePushXml } from "../push/index.ts";
import { buildEventXml, buildPushBody, generateNonce, signPushQuery, withQuery } from "./push-message.ts";

// Vector V6 (wechat-api.md §6): the emulator must produce the platform's bytes, not merely agree with our receiver.
const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID = "wxb11529c136998cb6";
const ORIGINAL_ID = "gh_7f083739789a";
const OPEN_ID = "oia2TjjewbmiOUlr6X-1crbLOvLw";
const RANDOM16 = Buffer.from("aaaabbbbccccdddd");
const V6_XML =
  "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>";
const V6_ENCRYPT_START = "jn1L23DB+6ELqJ+6bruv23bYF/d/cxBf0szhrD8BQ1Mko";
const FIXTURES = new URL("../../test/fixtures/push/", import.meta.url);
const fixtureFields = (file: string) => parsePushXml(readFileSync(new URL(file, FIXTURES), "utf8"));

const v6Push = {
  originalId: ORIGINAL_ID,
  openId: OPEN_ID,
  createTimeSec: 1409304348,
  event: "subscribe",
  eventKey: "qrscene_123123",
  ticket: "TICKET",
} as const;

describe("buildEventXml", () => {
  it("writes a follow through a code exactly as vector V6's plaintext", () => {
    expect(buildEventXml(v6Push)).toBe(V6_XML);
  });

  it("writes SCAN with the bare scene and the same fields as the fixture", () => {
    const fixture = fixtureFields("scan-scene-id.xml");
    const xml = buildEventXml({ ...v6Push, event: "SCAN", eventKey: "123123", ticket: fixture.Ticket });
    expect(parsePushXml(xml)).toEqual({ ...fixture });
  });

  it("gives plain follows and unfollows an empty EventKey and no Ticket", () => {
    const fields = parsePushXml(buildEventXml({ originalId: ORIGINAL_ID, openId: OPEN_ID, createTimeSec: 1, event: "unsubscribe", eventKey: "" }));
    expect(fields).toMatchObject({ Event: "unsubscribe", EventKey: "" });
    expect(fields).not.toHaveProperty("Ticket");
  });

  it("keeps a scene_str holding ']]>' intact", () => {
    const fields = parsePushXml(buildEventXml({ ...v6Push, event: "SCAN", eventKey: "a]]>b" }));
    expect(fields.EventKey).toBe("a]]>b");
  });
});

describe("buildPushBody", () => {
  const input = { encodingAESKey: KEY, appId: APP_ID, originalId: ORIGINAL_ID, xml: V6_XML, random16: RANDOM16 };

  it("sends the XML itself in plain mode", () => {
    expect(buildPushBody({ ...input, mode: "plain" })).toEqual({ body: V6_XML, encrypt: undefined });
  });

  it("sends only ToUserName and the V6 ciphertext in safe mode, like the fixture", () => {
    const { body, encrypt } = buildPushBody({ ...input, mode: "safe" });
    expect(encrypt?.startsWith(V6_ENCRYPT_START)).toBe(true);
    expect(parsePushXml(body)).toEqual({ ...fixtureFields("subscribe-scene-id-safe.xml") });
  });

  it("adds Encrypt after the plaintext fields in compatible mode, like the fixture", () => {
    const { body } = buildPushBody({ ...input, mode: "compatible" });
    expect(parsePushXml(body)).toEqual({ ...fixtureFields("subscribe-scene-id-compatible.xml") });
  });
});

describe("signPushQuery", () => {
  it("signs like the fixtures: signature, timestamp, nonce, openid; plus encrypt_type and msg_signature when encrypted", () => {
    const base = { token: "pamtest", timestamp: "1409304348", nonce: "xxxxxx", openId: OPEN_ID };
    expect(Object.fromEntries(new URLSearchParams(signPushQuery({ ...base, encrypt: undefined })))).toEqual({
      signature: "76480565cbe296026c53aaacd1ad523a1ddba24f",
      timestamp: "1409304348",
      nonce: "xxxxxx",
      openid: OPEN_ID,
    });
    const { encrypt } = buildPushBody({ mode: "safe", encodingAESKey: KEY, appId: APP_ID, originalId: ORIGINAL_ID, xml: V6_XML, random16: RANDOM16 });
    expect(Object.fromEntries(new URLSearchParams(signPushQuery({ ...base, encrypt })))).toMatchObject({
      encrypt_type: "aes",
      msg_signature: "e7d01d4a2a34e9c43bf40a8cf8143b46f43c25a3",
    });
  });

  it("appends to a URL that already has a query, dropping a fragment", () => {
    expect(withQuery("http://h/wechat", "a=1")).toBe("http://h/wechat?a=1");
    expect(withQuery("http://h/wechat?acct=2#x", "a=1")).toBe("http://h/wechat?acct=2&a=1");
  });
});

describe("generateNonce", () => {
  it("is ten decimal digits without a leading zero, like the platform's", () => {
    const random = createSeededRandom(1);
    for (let i = 0; i < 50; i++) expect(generateNonce(random)).toMatch(/^[1-9][0-9]{9}$/);
  });
});
