import { describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom } from "../deps.ts";
import { NetworkError, ValidationError } from "../errors.ts";
import { backoffDelayMs, buildUrl, withRetries } from "./request.ts";

const policy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 1_000 };

describe("backoffDelayMs", () => {
  it("doubles per retry, caps, and jitters between half and all of the step", () => {
    const random = createSeededRandom(7);
    for (let retry = 1; retry <= 6; retry++) {
      const step = Math.min(1_000, 200 * 2 ** (retry - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelayMs(policy, retry, random);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });
});

describe("withRetries", () => {
  it("retries retryable errors with the injected clock and stops at maxAttempts", async () => {
    const clock = createManualClock(0);
    let calls = 0;
    await expect(
      withRetries(policy, { clock, random: createSeededRandom(1) }, async () => {
        calls++;
        throw new NetworkError("/x", "down");
      }),
    ).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toBe(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it("does not retry an error that is not retryable", async () => {
    const clock = createManualClock(0);
    let calls = 0;
    await expect(
      withRetries(policy, { clock, random: createSeededRandom(1) }, async () => {
        calls++;
        throw new ValidationError("sceneId", "bad");
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("returns the first success", async () => {
    const clock = createManualClock(0);
    let calls = 0;
    const value = await withRetries(policy, { clock, random: createSeededRandom(1) }, async () => {
      if (++calls < 3) throw new NetworkError("/x", "flaky");
      return "ok";
    });
    expect(value).toBe("ok");
    expect(clock.sleeps).toHaveLength(2);
  });
});

describe("buildUrl", () => {
  it("encodes each query value exactly once and drops undefined ones", () => {
    expect(buildUrl("http://h/", "/cgi-bin/showqrcode", { ticket: "gQ+a/b==", skip: undefined })).toBe(
      "http://h/cgi-bin/showqrcode?ticket=gQ%2Ba%2Fb%3D%3D",
    );
  });
});
