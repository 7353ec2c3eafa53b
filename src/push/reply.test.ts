import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { parsePushXml } from "./parse-xml.ts";
import { buildEncryptedReplyXml, buildTextReplyXml, cdata, SUCCESS_REPLY } from "./reply.ts";

describe("buildTextReplyXml", () => {
  it("builds V6's reply plaintext exactly", () => {
    expect(buildTextReplyXml({ openId: "oia2TjjewbmiOUlr6X-1crbLOvLw", originalId: "gh_7f083739789a", createTime: 1409304348, content: "welcome" })).toBe(
      "<xml><ToUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[welcome]]></Content></xml>",
    );
  });

  it("splits ]]> in content so the reply parses back to the same text", () => {
    const content = "a]]>b]]]]>c<![CDATA[&amp;</xml>";
    const xml = buildTextReplyXml({ openId: "o", originalId: "gh", createTime: 1, content });
    expect(parsePushXml(xml).Content).toBe(content);
  });

  it("keeps newlines, tabs and unicode", () => {
    const content = "第一行\n\tsecond 🎉";
    expect(parsePushXml(buildTextReplyXml({ openId: "o", originalId: "gh", createTime: 1, content })).Content).toBe(content);
  });

  it.each<[string, Partial<Parameters<typeof buildTextReplyXml>[0]>, string]>([
    ["content with a control character", { content: "a\u0000b" }, "text"],
    ["an openId with a control character", { openId: "o\u0001" }, "openId"],
    ["an originalId with U+FFFF", { originalId: "gh\uFFFF" }, "originalId"],
    ["a fractional createTime", { createTime: 1.5 }, "createTime"],
    ["a negative createTime", { createTime: -1 }, "createTime"],
  ])("refuses %s", (_name, override, field) => {
    try {
      buildTextReplyXml({ openId: "o", originalId: "gh", createTime: 1, content: "x", ...override });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
  });
});

describe("buildEncryptedReplyXml", () => {
  it("builds the four-field envelope", () => {
    const xml = buildEncryptedReplyXml({ encrypt: "RU5D", msgSignature: "abc", timestamp: "1409304348", nonce: "xxxxxx" });
    expect(xml).toBe(
      "<xml><Encrypt><![CDATA[RU5D]]></Encrypt><MsgSignature><![CDATA[abc]]></MsgSignature><TimeStamp>1409304348</TimeStamp><Nonce><![CDATA[xxxxxx]]></Nonce></xml>",
    );
    expect({ ...parsePushXml(xml) }).toEqual({ Encrypt: "RU5D", MsgSignature: "abc", TimeStamp: "1409304348", Nonce: "xxxxxx" });
  });
});

describe("cdata and SUCCESS_REPLY", () => {
  it("wraps and splits", () => {
    expect(cdata("")).toBe("<![CDATA[]]>");
    expect(cdata("]]>")).toBe("<![CDATA[]]]]><![CDATA[>]]>");
  });

  it("is the plain word success, and frozen", () => {
    expect(SUCCESS_REPLY).toEqual({ body: "success", contentType: "text/plain" });
    expect(Object.isFrozen(SUCCESS_REPLY)).toBe(true);
  });
});
