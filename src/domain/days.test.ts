import { describe, expect, it } from "vitest";
import { dayInZone } from "./days.ts";

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
