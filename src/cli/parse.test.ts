import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { parseDuration, parseWholeNumber } from "./parse.ts";

describe("parseDuration", () => {
  it.each([
    ["3600", 3600],
    ["90s", 90],
    ["45m", 2700],
    ["1h", 3600],
    ["30d", 2_592_000],
  ])("reads %s as %i seconds", (text, seconds) => {
    expect(parseDuration(text, "expireSeconds")).toBe(seconds);
  });

  it.each(["", "1w", "-5", "1.5h", "h"])("rejects %j naming the field", (text) => {
    expect(() => parseDuration(text, "expireSeconds")).toThrow(ValidationError);
    try {
      parseDuration(text, "expireSeconds");
    } catch (err) {
      expect((err as ValidationError).field).toBe("expireSeconds");
    }
  });
});

describe("parseWholeNumber", () => {
  it("reads integers, negative ones too (the range check is the library's)", () => {
    expect(parseWholeNumber("123", "sceneId")).toBe(123);
    expect(parseWholeNumber("0", "sceneId")).toBe(0);
    expect(parseWholeNumber("-4", "sceneId")).toBe(-4);
  });
  it.each(["abc", "1e3", "12.5", ""])("rejects %j", (text) => {
    expect(() => parseWholeNumber(text, "sceneId")).toThrow(ValidationError);
  });
});
