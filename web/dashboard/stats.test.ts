import { describe, expect, it } from "vitest";
import { fillDays } from "./stats.ts";

describe("fillDays", () => {
  it("gives every day of the range, zeros where the API listed none", () => {
    const days = fillDays({ from: "2026-11-01", to: "2026-11-03" }, [
      { date: "2026-11-02", scans: 5, uniqueScanners: 4, newFollowers: 3, returningFollowers: 1, unfollows: 2 },
    ]);
    expect(days.map((d) => [d.date, d.scans])).toEqual([
      ["2026-11-01", 0],
      ["2026-11-02", 5],
      ["2026-11-03", 0],
    ]);
  });
});
