import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { validateScene } from "../wechat/qr-ticket.ts";
import { planScenes, type ScenePlanOptions } from "./batch-scenes.ts";

function fieldOf(options: ScenePlanOptions): string {
  try {
    planScenes(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).field;
  }
  throw new Error("expected a ValidationError");
}

describe("planScenes by --scene-start", () => {
  it("numbers the codes from the start", () => {
    const plan = planScenes({ type: "permanent", count: 3, sceneStart: 10 });
    expect([0, 1, 2].map((i) => plan.sceneAt(i))).toEqual([{ sceneId: 10 }, { sceneId: 11 }, { sceneId: 12 }]);
    expect(plan.sceneValue(2)).toBe(12);
    expect(plan.range).toBe("10..12");
  });

  it("accepts a range that ends exactly at the type's limit", () => {
    expect(planScenes({ type: "permanent", count: 20, sceneStart: 99_981 }).range).toBe("99981..100000");
    expect(planScenes({ type: "temporary", count: 2, sceneStart: 4_294_967_294 }).range).toBe("4294967294..4294967295");
  });

  it("rejects the whole range when its end is past the limit, naming --scene-start", () => {
    expect(fieldOf({ type: "permanent", count: 20, sceneStart: 99_990 })).toBe("sceneStart");
    expect(() => planScenes({ type: "permanent", count: 20, sceneStart: 99_990 })).toThrow(
      /end at scene 100009.*start at 99981 at most, or lower --count to 11/,
    );
    expect(fieldOf({ type: "temporary", count: 3, sceneStart: 4_294_967_294 })).toBe("sceneStart");
  });

  it("uses the permanent limit for permanent codes only", () => {
    expect(planScenes({ type: "temporary", count: 20, sceneStart: 99_990 }).range).toBe("99990..100009");
  });

  it.each([0, -1, 1.5])("rejects a start of %s", (sceneStart) => {
    expect(fieldOf({ type: "temporary", count: 1, sceneStart })).toBe("sceneStart");
  });

  it("names --count when no start could fit the batch", () => {
    expect(fieldOf({ type: "permanent", count: 100_001, sceneStart: 1 })).toBe("count");
  });
});

describe("planScenes by --scene-prefix", () => {
  it("zero-pads the number to the width of the count, from 1", () => {
    const plan = planScenes({ type: "temporary", count: 20, scenePrefix: "poster-" });
    expect(plan.sceneAt(0)).toEqual({ sceneStr: "poster-01" });
    expect(plan.sceneAt(19)).toEqual({ sceneStr: "poster-20" });
    expect(plan.range).toBe("poster-01..poster-20");
    expect(planScenes({ type: "permanent", count: 100, scenePrefix: "p" }).sceneValue(6)).toBe("p007");
    expect(planScenes({ type: "permanent", count: 9, scenePrefix: "p" }).sceneValue(8)).toBe("p9");
  });

  it("allows an empty prefix", () => {
    expect(planScenes({ type: "temporary", count: 10, scenePrefix: "" }).sceneValue(0)).toBe("01");
  });

  it("accepts scene strings of exactly 64 characters, which the API validation accepts too", () => {
    const plan = planScenes({ type: "temporary", count: 100, scenePrefix: "x".repeat(61) });
    const last = plan.sceneAt(99);
    expect(last.sceneStr).toHaveLength(64);
    expect(() => validateScene(last, "temporary")).not.toThrow();
  });

  it("rejects a prefix whose longest scene would pass 64 characters, counting characters, not bytes", () => {
    expect(fieldOf({ type: "temporary", count: 100, scenePrefix: "x".repeat(62) })).toBe("scenePrefix");
    expect(() => planScenes({ type: "temporary", count: 100, scenePrefix: "x".repeat(62) })).toThrow(/65 characters.*at most 61/);
    // 62 CJK characters are 186 bytes in UTF-8 but 62 characters: with a two-digit number, 64.
    expect(planScenes({ type: "temporary", count: 10, scenePrefix: "码".repeat(62) }).sceneValue(9)).toHaveLength(64);
  });

  it.each(["a/b", "a\\b", "a\nb", "\u0000"])("rejects %j: the scene names a file", (scenePrefix) => {
    expect(fieldOf({ type: "temporary", count: 2, scenePrefix })).toBe("scenePrefix");
  });
});

describe("planScenes arguments", () => {
  it.each([0, -3, 2.5, Number.MAX_SAFE_INTEGER + 1])("rejects a count of %s", (count) => {
    expect(fieldOf({ type: "temporary", count, sceneStart: 1 })).toBe("count");
  });

  it("needs exactly one of --scene-start and --scene-prefix", () => {
    expect(fieldOf({ type: "temporary", count: 2 })).toBe("batchScene");
    expect(fieldOf({ type: "temporary", count: 2, sceneStart: 1, scenePrefix: "a" })).toBe("batchScene");
  });

  it("computes scenes from the index, holding no list of them", () => {
    const plan = planScenes({ type: "temporary", count: 1_000_000_000, sceneStart: 1 });
    expect(plan.sceneAt(999_999_999)).toEqual({ sceneId: 1_000_000_000 });
  });
});

describe("ScenePlan.indexOf", () => {
  it("finds the index of every scene id in the range and nothing outside it", () => {
    const plan = planScenes({ type: "permanent", count: 5, sceneStart: 10 });
    expect([10, 12, 14].map((v) => plan.indexOf(v))).toEqual([0, 2, 4]);
    for (const outside of [9, 15, 11.5, "11", null]) expect(plan.indexOf(outside)).toBeUndefined();
  });

  it("finds scene strings only in their zero-padded form", () => {
    const plan = planScenes({ type: "temporary", count: 20, scenePrefix: "码-" });
    expect(plan.indexOf("码-01")).toBe(0);
    expect(plan.indexOf("码-20")).toBe(19);
    for (const outside of ["码-1", "码-00", "码-21", "码-1e1", "x-01", 1]) expect(plan.indexOf(outside)).toBeUndefined();
  });
});
