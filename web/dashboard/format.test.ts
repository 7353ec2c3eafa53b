import { describe, expect, it } from "vitest";
import { addDays, dayOf, daysBetween, formatDay, isDay } from "./format.ts";

describe("days in Asia/Shanghai", () => {
  it("cuts the day at midnight Beijing time, not UTC", () => {
    expect(dayOf(Date.UTC(2026, 10, 24, 15, 59))).toBe("2026-11-24");
    expect(dayOf(Date.UTC(2026, 10, 24, 16, 0))).toBe("2026-11-25");
  });

  it("moves across months, years and leap days", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2028-03-01", -1)).toBe("2028-02-29");
  });

  it("lists every day of a range, both ends included", () => {
    expect(daysBetween("2026-02-27", "2026-03-02")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(daysBetween("2026-03-02", "2026-03-01")).toEqual([]);
  });

  it("takes only days of the calendar", () => {
    expect(isDay("2026-02-28")).toBe(true);
    expect(isDay("2026-02-30")).toBe(false);
    expect(isDay("2026-2-3")).toBe(false);
  });

  it("writes a day for the locale without shifting it", () => {
    expect(formatDay("zh-CN", "2026-01-01")).toBe("2026年1月1日");
    expect(formatDay("en", "2026-01-01")).toBe("Jan 1, 2026");
  });
});
