import { describe, expect, it } from "vitest";
import { createGroupCommitter } from "./group-commit.ts";

describe("group commit", () => {
  it("puts everything submitted in one pass of the event loop into one batch, even with a synchronous driver", async () => {
    const batches: number[][] = [];
    const committer = createGroupCommitter<number, number>({
      runBatch: async (items) => {
        batches.push([...items]);
        return items.map((i) => ({ ok: true as const, value: i * 2 }));
      },
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => committer.submit(i)));
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  it("work submitted while a batch commits goes into the next batch", async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const committer = createGroupCommitter<string, string>({
      runBatch: async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await held;
        return items.map((value) => ({ ok: true as const, value }));
      },
    });
    const first = committer.submit("a");
    await new Promise((r) => setImmediate(r));
    const later = [committer.submit("b"), committer.submit("c")];
    release();
    expect(await Promise.all([first, ...later])).toEqual(["a", "b", "c"]);
    expect(batches).toEqual([["a"], ["b", "c"]]);
  });

  it("rejects each failed item alone, and every item when the batch fails", async () => {
    let failWhole = false;
    const committer = createGroupCommitter<number, number>({
      runBatch: async (items) => {
        if (failWhole) throw new Error("database down");
        return items.map((i) => (i % 2 ? { ok: false as const, error: new Error(`item ${i}`) } : { ok: true as const, value: i }));
      },
      maxBatch: 3,
    });
    const settled = await Promise.allSettled([0, 1, 2, 3].map((i) => committer.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
    failWhole = true;
    await expect(committer.submit(4)).rejects.toThrow("database down");
    await committer.drain();
    expect(committer.pending).toBe(0);
  });
});

describe("group commit with two batches in flight", () => {
  it("starts a second batch while the first still waits, and a third only once one of them is done", async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const committer = createGroupCommitter<string, string>({
      maxInFlight: 2,
      runBatch: async (items) => {
        batches.push([...items]);
        await held;
        return items.map((value) => ({ ok: true as const, value }));
      },
    });
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
    const first = committer.submit("a");
    await turn();
    const second = committer.submit("b");
    await turn();
    expect(batches).toEqual([["a"], ["b"]]);
    const third = committer.submit("c");
    await turn();
    await turn();
    expect(batches).toEqual([["a"], ["b"]]);
    const drained = committer.drain();
    release();
    expect(await Promise.all([first, second, third])).toEqual(["a", "b", "c"]);
    await drained;
    expect(batches).toEqual([["a"], ["b"], ["c"]]);
  });
});

describe("group commit back-pressure", () => {
  it("refuses at once, as storage unavailable, when too many items already wait", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const committer = createGroupCommitter<number, number>({
      maxPending: 3,
      runBatch: async (items) => {
        await held;
        return items.map((value) => ({ ok: true as const, value }));
      },
    });
    const first = committer.submit(0);
    await new Promise((r) => setImmediate(r)); // item 0 is now in the running batch
    const waiting = [1, 2, 3].map((i) => committer.submit(i));
    await expect(committer.submit(4)).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    release();
    expect(await Promise.all([first, ...waiting])).toEqual([0, 1, 2, 3]);
  });
});
