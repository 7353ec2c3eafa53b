import { describe, expect, it } from "vitest";
import { buildTextReplyXml } from "../push/reply.ts";
import { fillPlaceholders, isReplyText } from "./reply-text.ts";

describe("isReplyText", () => {
  it("accepts text with line feeds, CJK and emoji", () => {
    expect(isReplyText("欢迎关注!\n第二行 🎉")).toBe(true);
  });

  it.each(["\u0000", "\u0007", "\t", "\r", "\u000B", "\u001F", "\u007F", "\u0085", "\uFFFE", "\uFFFF"])("refuses %j", (ch) => {
    expect(isReplyText(`a${ch}b`)).toBe(false);
  });

  it("accepts nothing that the reply builder would refuse", () => {
    for (let c = 0; c <= 0xffff; c++) {
      const text = `a${String.fromCharCode(c)}b`;
      if (!isReplyText(text)) continue;
      if (c >= 0xd800 && c <= 0xdfff) continue; // lone surrogates: not a control character
      expect(() => buildTextReplyXml({ openId: "o", originalId: "gh", createTime: 1, content: text })).not.toThrow();
    }
  });
});

describe("fillPlaceholders", () => {
  const values = { scene: "store-12", channel: "门店 A" };

  it("puts the scene and the channel's name in place of each of their placeholders", () => {
    expect(fillPlaceholders("{channel}: {scene}, again {scene}", values)).toBe("门店 A: store-12, again store-12");
  });

  it("leaves unknown placeholders, stray braces and XML characters as written", () => {
    expect(fillPlaceholders("{x} {Scene} {scene {} <b>&amp;", values)).toBe("{x} {Scene} {scene {} <b>&amp;");
  });

  it("does not expand a placeholder that a value brings in", () => {
    expect(fillPlaceholders("{channel}", { scene: "s", channel: "{scene}" })).toBe("{scene}");
  });
});
