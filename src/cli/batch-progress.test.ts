import { describe, expect, it } from "vitest";
import { createManualClock } from "../deps.ts";
import { createBatchProgress } from "./batch-progress.ts";

function sink(): { write(text: string): void; text: string } {
  return {
    text: "",
    write(text) {
      this.text += text;
    },
  };
}

describe("createBatchProgress without a terminal", () => {
  it("writes one line each time another 10 % is done", async () => {
    const clock = createManualClock(0);
    const out = sink();
    const progress = await createBatchProgress({ total: 30, stream: out, clock });
    for (let done = 1; done <= 30; done++) {
      clock.advance(100);
      progress.update({ done, created: done, failed: 0 });
    }
    progress.stop();
    const lines = out.text.trimEnd().split("\n");
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe("3/30 (10%): 3 created, 0 failed, 0.3 s");
    expect(lines[9]).toBe("30/30 (100%): 30 created, 0 failed, 3.0 s");
  });

  it("writes once per crossing when each code is more than 10 %", async () => {
    const out = sink();
    const progress = await createBatchProgress({ total: 3, stream: out, clock: createManualClock(0) });
    progress.update({ done: 1, created: 0, failed: 1 });
    progress.update({ done: 2, created: 1, failed: 1 });
    progress.update({ done: 3, created: 2, failed: 1 });
    expect(out.text.trimEnd().split("\n")).toEqual([
      "1/3 (33%): 0 created, 1 failed, 0.0 s",
      "2/3 (66%): 1 created, 1 failed, 0.0 s",
      "3/3 (100%): 2 created, 1 failed, 0.0 s",
    ]);
  });

  it("stays silent when quiet (--json)", async () => {
    const out = sink();
    const progress = await createBatchProgress({ total: 2, stream: out, quiet: true, clock: createManualClock(0) });
    progress.update({ done: 2, created: 2, failed: 0 });
    progress.stop();
    expect(out.text).toBe("");
  });
});
