import { describe, expect, it } from "vitest";
import { createManualTimer } from "./deps.ts";

describe("createManualTimer", () => {
  it("resolves the delays that fall due when advanced, earliest first, and no others", async () => {
    const timer = createManualTimer();
    const done: string[] = [];
    const last = timer.delay(300).then(() => done.push("300"));
    const due = [
      timer.delay(200).then(() => done.push("200 (b)")),
      timer.delay(100).then(() => done.push("100")),
      timer.delay(200).then(() => done.push("200 (c)")),
    ];
    timer.advance(250);
    await Promise.all(due);
    expect(done).toEqual(["100", "200 (b)", "200 (c)"]);
    expect(timer.pending).toBe(1);
    timer.advance(50);
    await last;
    expect(done).toEqual(["100", "200 (b)", "200 (c)", "300"]);
  });

  it("counts a delay started after an advance from the advanced time", async () => {
    const timer = createManualTimer();
    timer.advance(1_000);
    let resolved = false;
    const wait = timer.delay(100).then(() => (resolved = true));
    timer.advance(99);
    await Promise.resolve();
    expect(resolved).toBe(false);
    timer.advance(1);
    await wait;
    expect(resolved).toBe(true);
  });

  it("resolves an aborted delay at once and forgets it", async () => {
    const timer = createManualTimer();
    const abort = new AbortController();
    const wait = timer.delay(60_000, abort.signal);
    expect(timer.pending).toBe(1);
    abort.abort();
    await wait;
    expect(timer.pending).toBe(0);
    await timer.delay(60_000, abort.signal);
    expect(timer.pending).toBe(0);
  });

  it("tells when a number of delays are waiting", async () => {
    const timer = createManualTimer();
    let two = false;
    const waiting = timer.waitingFor(2).then(() => (two = true));
    void timer.delay(10);
    await Promise.resolve();
    expect(two).toBe(false);
    void timer.delay(10);
    await waiting;
    expect(two).toBe(true);
  });
});
