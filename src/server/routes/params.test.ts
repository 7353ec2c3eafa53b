import { describe, expect, it } from "vitest";
import { ValidationError } from "../../errors.ts";
import { parseInstant } from "./params.ts";

describe("parseInstant", () => {
  it("reads days, ISO date-times and epoch milliseconds", () => {
    expect(parseInstant(undefined, "from")).toBeUndefined();
    expect(parseInstant("", "from")).toBeUndefined();
    expect(parseInstant("2026-11-25", "from")).toBe("2026-11-25");
    expect(parseInstant("2028-02-29", "from")).toBe("2028-02-29");
    expect(parseInstant("1795572000000", "from")).toBe(1795572000000);
    expect(parseInstant("2026-11-25T10:00:00+08:00", "to")).toBe(Date.UTC(2026, 10, 25, 2));
    expect(parseInstant("2026-11-25T02:00:00.5Z", "to")).toBe(Date.UTC(2026, 10, 25, 2, 0, 0, 500));
    expect(parseInstant("2026-11-25 02:00Z", "to")).toBe(Date.UTC(2026, 10, 25, 2));
  });

  it.each([
    "2026-13-45",
    "2026-02-30",
    "2027-02-29",
    "2026-00-10",
    "2026-04-31",
    "2026-11-00",
    "2026-02-30T00:00:00Z",
    "2026-11-25T25:00Z",
    "1 2 3",
    "yesterday",
    "2026-11-25T10:00+08",
    "-1",
  ])("refuses %j, naming the field", (value) => {
    let err: unknown;
    try {
      parseInstant(value, "to");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: "VALIDATION_FAILED", field: "to" });
  });
});
