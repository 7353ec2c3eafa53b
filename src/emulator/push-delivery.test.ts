import { describe, expect, it } from "vitest";
import { buildEncryptedReplyXml, buildTextReplyXml, computeMsgSignature, encryptMessage } from "../push/index.ts";
import { readReply } from "./push-delivery.ts";

// Vector V6's encrypted reply (wechat-api.md §6): the emulator must accept what the platform accepts.
const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID = "wxb11529c136998cb6";
const ORIGINAL_ID = "gh_7f083739789a";
const OPEN_ID = "oia2TjjewbmiOUlr6X-1crbLOvLw";
const V6_REPLY_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv2w4sePYQdD6NGsLnUAZaXUMQ9GZqG3LR/7dHyqhL7uoRUYsml20OUichn6ld2qdUhxRnRtvamXVbM3CZESAk1hl6hDCHKLIOkgc10b7FnnR9275CjFHt1hiXYmARo9erPNPBLGaJmlytHj7fUhR/IU00NTh8aIa91xcOxwCpo9zpTRxoYOK7f7P1SO6JEywYiQedWxI+TiDsv68OQHR9EDasETWrLGgAnjkceiIvRtiGugBW0WYrJ71KuUcyRjqXRYmaxOQHapOac9wXuUd/XkFWKDF+FQQSxVld0dcTRDim1w0k802Nhcblf29Tz++DRHecjj85uxOt89xR+xzCRdHJtmFFmOE3hSzWSqj1ao3/";
const V6_REPLY = buildEncryptedReplyXml({
  encrypt: V6_REPLY_ENCRYPT,
  msgSignature: "4f98556c66fa12eaf9774033d888172b24d995a8",
  timestamp: "1409304348",
  nonce: "xxxxxx",
});
const base = { token: "pamtest", encodingAESKey: KEY, appId: APP_ID, originalId: ORIGINAL_ID, openId: OPEN_ID };
const plainReply = (over: Partial<{ openId: string; originalId: string; content: string }> = {}) =>
  buildTextReplyXml({ openId: OPEN_ID, originalId: ORIGINAL_ID, createTime: 1409304348, content: "hi", ...over });

function encrypted(xml: string, appId = APP_ID, token = "pamtest"): string {
  const encrypt = encryptMessage({ encodingAESKey: KEY, appId, xml, random16: Buffer.alloc(16, 7) });
  return buildEncryptedReplyXml({ encrypt, msgSignature: computeMsgSignature(token, "1", "n", encrypt), timestamp: "1", nonce: "n" });
}

describe("readReply", () => {
  it("reads V6's encrypted text reply in safe and compatible mode", () => {
    expect(readReply({ ...base, mode: "safe", text: V6_REPLY })).toEqual({ kind: "text", text: "welcome" });
    expect(readReply({ ...base, mode: "compatible", text: V6_REPLY })).toEqual({ kind: "text", text: "welcome" });
  });

  it.each([
    ["success", "success"],
    ["", "empty"],
    ["  \n", "empty"],
  ])("takes %j as saying nothing (%s)", (text, kind) => {
    expect(readReply({ ...base, mode: "safe", text })).toEqual({ kind });
  });

  it("accepts a plain reply in plain and compatible mode but not in safe mode", () => {
    expect(readReply({ ...base, mode: "plain", text: plainReply() })).toEqual({ kind: "text", text: "hi" });
    expect(readReply({ ...base, mode: "compatible", text: plainReply() })).toEqual({ kind: "text", text: "hi" });
    expect(readReply({ ...base, mode: "safe", text: plainReply() })).toMatchObject({ kind: "invalid" });
  });

  it("passes on a valid non-text reply as other, with an image's MediaId", () => {
    const image = plainReply().replace(
      "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content>",
      "<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[m]]></MediaId></Image>",
    );
    expect(readReply({ ...base, mode: "plain", text: image })).toEqual({ kind: "other", msgType: "image", mediaId: "m" });
    const news = plainReply().replace(
      "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content>",
      "<MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount>",
    );
    expect(readReply({ ...base, mode: "plain", text: news })).toEqual({ kind: "other", msgType: "news" });
  });

  it.each([
    ["not XML", "ok", "plain"],
    ["an encrypted reply in plain mode", V6_REPLY, "plain"],
    ["a reply to someone else", plainReply({ openId: "other" }), "plain"],
    ["a reply from another account", plainReply({ originalId: "gh_000000000000" }), "plain"],
    ["an empty text reply", plainReply({ content: "" }), "plain"],
    ["a bad MsgSignature", V6_REPLY.replace("4f98556c", "00000000"), "safe"],
    ["a MsgSignature made with another token", encrypted(plainReply(), APP_ID, "othertoken"), "safe"],
    ["another AppID inside", encrypted(plainReply(), "wx0000000000000000"), "safe"],
    ["a missing MsgSignature", `<xml><Encrypt><![CDATA[${V6_REPLY_ENCRYPT}]]></Encrypt></xml>`, "safe"],
  ] as const)("refuses %s", (_case, text, mode) => {
    expect(readReply({ ...base, mode, text })).toMatchObject({ kind: "invalid", error: expect.any(String) });
  });

  it("accepts a reply encrypted with a fresh random and its own timestamp", () => {
    expect(readReply({ ...base, mode: "safe", text: encrypted(plainReply()) })).toEqual({ kind: "text", text: "hi" });
  });
});
