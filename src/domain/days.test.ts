import { describe, expect, it } from "vitest";
import { addDays, calendarDays, dayInZone, dayStartInZone, isCalendarDay } from "./days.ts";

describe("dayInZone", () => {
  it("cuts days at the zone's midnight, also when the same minute is asked again", () => {
    const beforeMidnight = Date.UTC(2026, 10, 26, 15, 59, 59, 999); // 23:59:59.999 in Shanghai
    const afterMidnight = Date.UTC(2026, 10, 26, 16, 0, 0, 0);
    for (let i = 0; i < 2; i++) {
      expect(dayInZone(beforeMidnight, "Asia/Shanghai")).toBe("2026-11-26");
      expect(dayInZone(afterMidnight, "Asia/Shanghai")).toBe("2026-11-27");
      expect(dayInZone(afterMidnight, "UTC")).toBe("2026-11-26");
    }
  });

  it("agrees with Intl for many instants in zones with odd offsets", () => {
    for (const zone of ["Asia/Kathmandu", "America/St_Johns", "Asia/Shanghai"]) {
      const f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2026, 0, 3); t += 7 * 60_000 + 13_000) expect(dayInZone(t, zone)).toBe(f.format(t));
    }
  });
});

describe("isCalendarDay", () => {
  it("knows month lengths and leap years", () => {
    for (const day of ["2026-01-31", "2026-02-28", "2028-02-29", "2000-02-29", "2026-12-31", "0004-02-29"]) expect(isCalendarDay(day)).toBe(true);
    for (const day of ["2026-13-45", "2026-02-29", "1900-02-29", "2026-04-31", "2026-00-01", "2026-01-00", "2026-1-01", "20261125", "2026-11-25T00:00:00Z"]) {
      expect(isCalendarDay(day)).toBe(false);
    }
  });

  it("keeps dayStartInZone from rolling 2026-02-30 over into March", () => {
    expect(() => dayStartInZone("2026-02-30", "UTC")).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED", field: "day" }));
  });
});

describe("calendarDays and addDays", () => {
  it("lists every day of a range, both ends included, across a leap day and a year's end", () => {
    expect(calendarDays("2028-02-28", "2028-03-01")).toEqual(["2028-02-28", "2028-02-29", "2028-03-01"]);
    expect(calendarDays("2026-12-31", "2027-01-01")).toEqual(["2026-12-31", "2027-01-01"]);
    expect(calendarDays("2026-11-25", "2026-11-25")).toEqual(["2026-11-25"]);
    expect(calendarDays("2026-11-26", "2026-11-25")).toEqual([]);
    expect(calendarDays("2026-01-01", "2026-12-31")).toHaveLength(365);
  });

  it("refuses what is not a day, naming the bound", () => {
    expect(() => calendarDays("2026-02-30", "2026-03-01")).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED", field: "from" }));
    expect(() => calendarDays("2026-03-01", "tomorrow")).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED", field: "to" }));
  });

  it("moves a day forwards and backwards over month and year ends", () => {
    expect(addDays("2026-11-25", -6)).toBe("2026-11-19");
    expect(addDays("2026-11-25", -29)).toBe("2026-10-27");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2028-03-01", -1)).toBe("2028-02-29");
  });
});
