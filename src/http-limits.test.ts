import { describe, expect, it } from "vitest";
import { connectionCapFor, connectionsCheckingIntervalMs, DEFAULT_HTTP_TIMEOUTS, resolveHttpLimits } from "./http-limits.ts";

describe("HTTP limits", () => {
  it("caps connections at three quarters of the open-file limit, at most 2,000", () => {
    expect(connectionCapFor(1_024)).toBe(768);
    expect(connectionCapFor(1_048_576)).toBe(2_000);
    expect(connectionCapFor(undefined)).toBe(2_000);
    expect(connectionCapFor(8)).toBe(16);
  });

  it("keeps the 30-second promise with the defaults: deadlines checked at least once a second", () => {
    const limits = resolveHttpLimits({ maxConnections: 100 });
    const check = connectionsCheckingIntervalMs(limits);
    expect(check).toBe(1_000);
    expect(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs + check).toBeLessThanOrEqual(30_000);
    expect(DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs + check).toBeLessThanOrEqual(30_000);
    // Short test limits are checked often enough to be observable.
    expect(connectionsCheckingIntervalMs(resolveHttpLimits({ headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 1 }))).toBe(75);
  });

  it("refuses limits Node would reject or that disable the protection", () => {
    expect(() => resolveHttpLimits({ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    expect(() => resolveHttpLimits({ idleTimeoutMs: 0 })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    expect(() => resolveHttpLimits({ maxConnections: 1.5 })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });
});
