import { describe, expect, it } from "vitest";
import { createMemoryTokenStore } from "./token-store.ts";

describe("memory token store", () => {
  it("expires a token only while it is still the stored one", async () => {
    const store = createMemoryTokenStore();
    await store.set("k", { token: "A", expiresAt: 10 });
    await store.set("k", { token: "B", expiresAt: 20 });
    expect(await store.expireIfEqual("k", "A")).toBe(false);
    expect((await store.get("k"))?.token).toBe("B");
    expect(await store.expireIfEqual("k", "B")).toBe(true);
    expect(await store.get("k")).toBeUndefined();
  });

  it("grants the lease to one holder until it is released or runs out", async () => {
    const store = createMemoryTokenStore();
    expect(await store.acquireLease("k", "p1", 0, 100)).toBe(true);
    expect(await store.acquireLease("k", "p2", 50, 150)).toBe(false);
    expect(await store.acquireLease("k", "p2", 101, 200)).toBe(true);
    await store.releaseLease("k", "p1"); // not p1's any more: no effect
    expect(await store.acquireLease("k", "p1", 150, 250)).toBe(false);
    await store.releaseLease("k", "p2");
    expect(await store.acquireLease("k", "p1", 150, 250)).toBe(true);
  });
});

describe("memory token store waiting", () => {
  it("wakes a waiter when the lease holder stores a token, and does not block when no lease is held", async () => {
    const store = createMemoryTokenStore();
    await store.waitForChange!("k"); // no lease: resolves at once
    await store.acquireLease("k", "p1", 0, 100);
    let woke = false;
    const waiting = store.waitForChange!("k").then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    await store.set("k", { token: "T", expiresAt: 50 });
    await waiting;
    expect(woke).toBe(true);
  });
});

describe("refresh lease", () => {
  it("outlasts a whole refresh: every attempt timing out after the longest backoff, twice", async () => {
    const { refreshLeaseMs } = await import("./access-token.ts");
    const lease = refreshLeaseMs({ timeoutMs: 10_000 }, { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 3_000 });
    expect(lease).toBeGreaterThanOrEqual(2 * (4 * 10_000 + 3 * 3_000));
  });
});
