import { describe, expect, it } from "vitest";
import { pollWhileWatched } from "./poll-while-watched.ts";

describe("pollWhileWatched", () => {
  it("starts the poll with the first holder, keeps one poll for many, and stops it when the last lets go", () => {
    const signals: AbortSignal[] = [];
    const hold = pollWhileWatched(async (signal) => void signals.push(signal));
    const a = hold();
    const b = hold();
    expect(signals).toHaveLength(1);
    a();
    a(); // letting go twice counts once
    expect(signals[0]!.aborted).toBe(false);
    b();
    expect(signals[0]!.aborted).toBe(true);
    const c = hold();
    expect(signals).toHaveLength(2);
    expect(signals[1]!.aborted).toBe(false);
    c();
    expect(signals[1]!.aborted).toBe(true);
  });
});
