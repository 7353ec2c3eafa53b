import { describe, expect, it } from "vitest";
import { createPosterCache } from "./poster-cache.ts";

const png = (bytes: number): Buffer => Buffer.alloc(bytes, 1);

describe("createPosterCache", () => {
  it("drops the least recently used posters once their bytes pass the bound", () => {
    const cache = createPosterCache({ maxBytes: 300 });
    cache.set("v1\na", png(100));
    cache.set("v1\nb", png(100));
    cache.set("v1\nc", png(100));
    expect(cache.get("v1\na")).toBeDefined(); // a is now the most recent
    cache.set("v1\nd", png(100));
    expect(cache.get("v1\nb")).toBeUndefined();
    expect([cache.get("v1\na"), cache.get("v1\nc"), cache.get("v1\nd")].every(Boolean)).toBe(true);
    expect(cache.bytes).toBe(300);
  });

  it("keeps nothing larger than the whole bound, and replaces an entry's bytes", () => {
    const cache = createPosterCache({ maxBytes: 300 });
    cache.set("v1\na", png(301));
    expect(cache.size).toBe(0);
    cache.set("v1\na", png(100));
    cache.set("v1\na", png(50));
    expect(cache.bytes).toBe(50);
  });

  it("drops a design's posters by the version prefix", () => {
    const cache = createPosterCache({ maxBytes: 1_000 });
    cache.set("v1\na", png(10));
    cache.set("v1\nb", png(10));
    cache.set("v2\na", png(10));
    cache.dropPrefix("v1\n");
    expect(cache.size).toBe(1);
    expect(cache.get("v2\na")).toBeDefined();
    expect(cache.bytes).toBe(10);
  });
});
