import { describe, expect, it } from "vitest";
import { fromZoneInput, toZoneInput } from "./zone-time.ts";

describe("datetime inputs in Asia/Shanghai", () => {
  it("writes an instant as Beijing's wall clock, whatever the browser's zone", () => {
    expect(toZoneInput(Date.UTC(2026, 10, 24, 16, 30))).toBe("2026-11-25T00:30");
    expect(toZoneInput(null)).toBe("");
  });

  it("reads the wall clock back as the same instant", () => {
    expect(fromZoneInput("2026-11-25T00:30")).toBe(Date.UTC(2026, 10, 24, 16, 30));
    expect(fromZoneInput("2027-01-01T00:00")).toBe(Date.UTC(2026, 11, 31, 16, 0));
  });

  it("reads an empty input as no time, and refuses what is not a time", () => {
    expect(fromZoneInput("")).toBeNull();
    expect(fromZoneInput("2026-02-30T10:00")).toBeUndefined();
    expect(fromZoneInput("tomorrow")).toBeUndefined();
  });
});
