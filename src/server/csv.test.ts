import { describe, expect, it } from "vitest";
import { attachmentDisposition, csvDocument, csvField } from "./csv.ts";

describe("csvDocument", () => {
  it("starts with the UTF-8 BOM and ends every line with CRLF", () => {
    const doc = csvDocument(
      ["date", "scans"],
      [
        ["2026-11-25", 3],
        ["2026-11-26", 0],
      ],
    );
    expect([...Buffer.from(doc, "utf8").subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(doc.slice(1)).toBe("date,scans\r\n2026-11-25,3\r\n2026-11-26,0\r\n");
  });

  it("quotes a field with a separator, a quote or a line break, doubling its quotes", () => {
    expect(csvField("plain 文字")).toBe("plain 文字");
    expect(csvField('say "hi", twice')).toBe('"say ""hi"", twice"');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(42)).toBe("42");
  });
});

describe("attachmentDisposition", () => {
  it("gives an ASCII name as it is", () => {
    expect(attachmentDisposition("poster A-2026-11-25-2026-11-30.csv")).toBe('attachment; filename="poster A-2026-11-25-2026-11-30.csv"');
  });

  it("gives a non-ASCII name as RFC 5987 UTF-8 beside an ASCII stand-in", () => {
    const header = attachmentDisposition("海报 A-2026-11-25.csv");
    expect(header).toBe(`attachment; filename="__ A-2026-11-25.csv"; filename*=UTF-8''%E6%B5%B7%E6%8A%A5%20A-2026-11-25.csv`);
    const encoded = /filename\*=UTF-8''(.+)$/.exec(header)![1]!;
    expect(decodeURIComponent(encoded)).toBe("海报 A-2026-11-25.csv");
  });

  it("never lets a quote, a backslash or a character outside attr-char through unencoded", () => {
    const header = attachmentDisposition(`a"b\\c'(d)*é.csv`);
    expect(header).toBe(`attachment; filename="a_b_c'(d)*_.csv"; filename*=UTF-8''a%22b%5Cc%27%28d%29%2A%C3%A9.csv`);
  });
});
