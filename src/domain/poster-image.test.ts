import { describe, expect, it } from "vitest";
import { checkLayout, escapeXml, textBox } from "./poster-image.ts";
import { validationFieldOf } from "../../test/helpers/validation.ts";

describe("checkLayout", () => {
  const text = { text: "扫码关注", fontSizePx: 40, color: "#112233", x: 10, y: 10 };

  it("accepts a code and a line that lie inside the image, edges included", () => {
    expect(validationFieldOf(() => checkLayout({ qr: { x: 880, y: 1720, sizePx: 200 }, text: { ...text, y: 1920 - 52 } }, 1080, 1920))).toBeUndefined();
  });

  it("names the field that puts the code or the line outside the image", () => {
    expect(validationFieldOf(() => checkLayout({ qr: { x: 881, y: 0, sizePx: 200 }, text: null }, 1080, 1920))).toBe("qr.x");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 1721, sizePx: 200 }, text: null }, 1080, 1920))).toBe("qr.y");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 0, sizePx: 99 }, text: null }, 1080, 1920))).toBe("qr.size");
    expect(validationFieldOf(() => checkLayout({ qr: { x: -1, y: 0, sizePx: 200 }, text: null }, 1080, 1920))).toBe("qr.x");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 0, sizePx: 200 }, text: { ...text, y: 1920 - 51 } }, 1080, 1920))).toBe("text.y");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 0, sizePx: 200 }, text: { ...text, x: 1080 } }, 1080, 1920))).toBe("text.x");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 0, sizePx: 200 }, text: { ...text, color: "#12345" } }, 1080, 1920))).toBe("text.color");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 0, sizePx: 200 }, text: { ...text, text: "a\u0000b" } }, 1080, 1920))).toBe("text.text");
    expect(validationFieldOf(() => checkLayout({ qr: { x: 0, y: 0, sizePx: 200 }, text: { ...text, fontSizePx: 401 } }, 1080, 1920))).toBe("text.fontSize");
  });

  it("gives the line a box from its corner to the right edge, 1.3 font sizes high", () => {
    expect(textBox({ width: 1080, text })).toEqual({ left: 10, top: 10, width: 1070, height: 52 });
  });
});

describe("escapeXml", () => {
  it("turns every markup character into an entity, so a line cannot add SVG", () => {
    expect(escapeXml(`<image href="x"/>&'`)).toBe("&lt;image href=&quot;x&quot;/&gt;&amp;&apos;");
  });
});
