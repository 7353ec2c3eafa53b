import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.ts";
import { createSeededRandom } from "./deps.ts";

describe("backoffDelayMs", () => {
  it("doubles per retry, caps, and jitters between half and all of the step", () => {
    const random = createSeededRandom(7);
    for (let retry = 1; retry <= 6; retry++) {
      const step = Math.min(1_000, 200 * 2 ** (retry - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelayMs({ baseDelayMs: 200, maxDelayMs: 1_000 }, retry, random);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });

  it("doubles the webhook's delay with each failure, between half and all of it, capped at an hour", () => {
    const random = createSeededRandom(5);
    const steps = { baseDelayMs: 1_000, maxDelayMs: 3_600_000 };
    for (let failures = 1; failures <= 30; failures++) {
      const full = Math.min(3_600_000, 1_000 * 2 ** (failures - 1));
      const delay = backoffDelayMs(steps, failures, random);
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThanOrEqual(full);
    }
    expect(backoffDelayMs(steps, 1_000, { ...random, float: () => 0.999_999 })).toBeLessThanOrEqual(3_600_000);
  });

  it("stays a number for a zero base however many retries", () => {
    expect(backoffDelayMs({ baseDelayMs: 0, maxDelayMs: 1_000 }, 5_000, createSeededRandom(1))).toBe(0);
  });
});
