import { describe, expect, it } from "vitest";
import { detectLocale, translate } from "./i18n.tsx";

describe("detectLocale", () => {
  it("is Chinese by default and for any Chinese browser", () => {
    expect(detectLocale(null, [])).toBe("zh-CN");
    expect(detectLocale(null, ["fr-FR"])).toBe("zh-CN");
    expect(detectLocale(null, ["zh-TW", "en-US"])).toBe("zh-CN");
  });

  it("follows an English browser on the first visit", () => {
    expect(detectLocale(null, ["en-GB", "zh-CN"])).toBe("en");
    expect(detectLocale(null, ["de-DE", "en"])).toBe("en");
  });

  it("keeps a stored choice over the browser's language, and ignores a stored value it does not know", () => {
    expect(detectLocale("zh-CN", ["en-US"])).toBe("zh-CN");
    expect(detectLocale("en", ["zh-CN"])).toBe("en");
    expect(detectLocale("xx", ["en-US"])).toBe("en");
  });
});

describe("translate", () => {
  it("fills placeholders", () => {
    expect(translate("en", "channels.pageOf", { page: 2, pages: 7 })).toBe("Page 2 of 7");
    expect(translate("zh-CN", "channels.pageOf", { page: 2, pages: 7 })).toBe("第 2 / 7 页");
  });
});
