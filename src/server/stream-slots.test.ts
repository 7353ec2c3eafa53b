import { describe, expect, it } from "vitest";
import { StreamLimitError } from "../errors.ts";
import { createStreamSlots } from "./stream-slots.ts";

describe("stream slots", () => {
  it("bounds streams per session and per client, and frees a slot once, however often released", () => {
    const slots = createStreamSlots({ perSession: 2, perClient: 3 });
    const a1 = slots.acquire("s1", "ip-a");
    slots.acquire("s1", "ip-a");
    expect(() => slots.acquire("s1", "ip-b")).toThrow(StreamLimitError);
    slots.acquire("s2", "ip-a");
    expect(() => slots.acquire("s3", "ip-a")).toThrow(expect.objectContaining({ code: "RATE_LIMITED", limit: 3 }));
    a1();
    a1();
    expect(slots.open({ sessionId: "s1" })).toBe(1);
    expect(slots.open({ client: "ip-a" })).toBe(2);
    slots.acquire("s3", "ip-a");
    expect(() => slots.acquire("s4", "ip-a")).toThrow(StreamLimitError);
  });

  it("a refused stream takes no slot of either kind", () => {
    const slots = createStreamSlots({ perSession: 1, perClient: 5 });
    slots.acquire("s1", "ip-a");
    expect(() => slots.acquire("s1", "ip-b")).toThrow(StreamLimitError);
    expect(slots.open({ client: "ip-b" })).toBe(0);
  });

  it("a stream of no session counts against its client only", () => {
    const slots = createStreamSlots({ perSession: 1, perClient: 2 });
    const feed = slots.acquire(null, "ip-a");
    slots.acquire(null, "ip-a");
    expect(() => slots.acquire(null, "ip-a")).toThrow(expect.objectContaining({ code: "RATE_LIMITED", limit: 2 }));
    expect(() => slots.acquire("s1", "ip-a")).toThrow(StreamLimitError);
    feed();
    slots.acquire("s1", "ip-a");
    expect(slots.open({ client: "ip-a" })).toBe(2);
  });
});
