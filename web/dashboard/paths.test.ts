import { describe, expect, it } from "vitest";
import { matchPath, safeNext } from "./paths.ts";

describe("matchPath", () => {
  it("matches the root only at the root", () => {
    expect(matchPath("/", "/")).toEqual({});
    expect(matchPath("/", "/channels")).toBeNull();
  });

  it("takes a decoded parameter, with or without a trailing slash", () => {
    expect(matchPath("/channels/:id", "/channels/ch%201")).toEqual({ id: "ch 1" });
    expect(matchPath("/channels/:id", "/channels/abc/")).toEqual({ id: "abc" });
  });

  it("does not match a longer, shorter or malformed path", () => {
    expect(matchPath("/channels", "/channels/abc")).toBeNull();
    expect(matchPath("/channels/:id", "/channels")).toBeNull();
    expect(matchPath("/channels/:id", "/channels/%E0%A4%A")).toBeNull();
  });
});

describe("safeNext", () => {
  it("keeps a path of this site", () => {
    expect(safeNext("/channels/abc?compare=x")).toBe("/channels/abc?compare=x");
  });

  it("refuses another site, a missing value and the sign-in page itself", () => {
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext(null)).toBe("/");
    expect(safeNext("/sign-in?next=/x")).toBe("/");
  });
});
