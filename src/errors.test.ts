import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, QrError, ValidationError, WeChatBusyError } from "./errors.ts";

describe("error catalogue", () => {
  const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
  const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

  it("documents every error code in docs/errors.md", () => {
    expect(ERROR_CODES.filter((code) => !documented.has(code))).toEqual([]);
  });

  it("documents no code that does not exist", () => {
    expect([...documented].filter((code) => !(ERROR_CODES as readonly string[]).includes(code!))).toEqual([]);
  });

  it("names errors after their class and keeps code and retryable", () => {
    const busy = new WeChatBusyError({ errcode: -1, errmsg: "system error", path: "/cgi-bin/qrcode/create" });
    expect(busy).toBeInstanceOf(QrError);
    expect(busy.name).toBe("WeChatBusyError");
    expect(busy.code).toBe("WECHAT_BUSY");
    expect(busy.retryable).toBe(true);
    const invalid = new ValidationError("sceneId", "too big");
    expect(invalid.field).toBe("sceneId");
    expect(invalid.retryable).toBe(false);
  });
});
