import { describe, expect, it } from "vitest";
import { buildTextReplyXml } from "../push/reply.ts";
import { isReplyText } from "./reply-text.ts";

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
