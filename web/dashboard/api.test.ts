import { describe, expect, it } from "vitest";
import { withQuery } from "./api.ts";

describe("withQuery", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(withQuery("/api/channels", { search: "门店 A&B", sort: "name", offset: 0, limit: undefined, order: "" })).toBe(
      "/api/channels?search=%E9%97%A8%E5%BA%97+A%26B&sort=name&offset=0",
    );
    expect(withQuery("/api/overview", {})).toBe("/api/overview");
  });
});
