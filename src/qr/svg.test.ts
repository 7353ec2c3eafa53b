import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { encodeQr } from "./matrix.ts";
import { renderSvg } from "./svg.ts";

const URL_TEXT = "http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrStUv";

interface Run {
  x: number;
  y: number;
  len: number;
}

/** Reads the runs back out of the path: every subpath must be `M x y h len v1 h -len z`. */
function parseRuns(svg: string): Run[] {
  const d = /<path [^>]*d="([^"]*)"/.exec(svg)?.[1];
  if (d === undefined) throw new Error("no path");
  const runs: Run[] = [];
  const re = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/gy;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(d)) !== null) {
    expect(m[4]).toBe(m[3]);
    runs.push({ x: Number(m[1]), y: Number(m[2]), len: Number(m[3]) });
    consumed = re.lastIndex;
  }
  expect(consumed).toBe(d.length); // nothing in d that is not a run
  return runs;
}

/** Enough of an XML check for generated markup: one root, tags balanced, attributes quoted. */
function expectWellFormed(xml: string): void {
  const tags = xml.match(/<[^>]+>/g) ?? [];
  const stack: string[] = [];
  for (const tag of tags) {
    expect(tag).toMatch(/^<\/?[a-zA-Z][\w-]*(\s+[\w:-]+="[^"<&]*")*\s*\/?>$/);
    const name = /^<\/?([\w-]+)/.exec(tag)![1]!;
    if (tag.startsWith("</")) expect(stack.pop()).toBe(name);
    else if (!tag.endsWith("/>")) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(xml.replace(/<[^>]+>/g, "").trim()).toBe("");
}

describe("renderSvg", () => {
  it("is a well-formed svg document with one path", () => {
    const svg = renderSvg(URL_TEXT);
    expectWellFormed(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
    expect(svg).toContain('shape-rendering="crispEdges"');
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg.match(/<rect [^>]*fill="#fff"/g)).toHaveLength(1);
  });

  it.each([
    [430, 4],
    [200, 0],
    [1000, 2],
  ])("sizes %i px with a viewBox of modules plus a %i-module margin", (size, margin) => {
    const svg = renderSvg(URL_TEXT, { size, margin });
    const matrix = encodeQr(URL_TEXT, "M");
    const total = matrix.size + 2 * margin;
    expect(svg).toContain(`viewBox="0 0 ${total} ${total}"`);
    expect(svg).toContain(`width="${size}" height="${size}"`);
  });

  it.each(["L", "M", "Q", "H"] as const)("draws exactly the matrix's dark modules at level %s", (level) => {
    const margin = 3;
    const matrix = encodeQr(URL_TEXT, level);
    const runs = parseRuns(renderSvg(URL_TEXT, { margin, errorCorrectionLevel: level }));
    const darkInMatrix = matrix.modules.reduce((sum, v) => sum + v, 0);
    expect(runs.reduce((sum, r) => sum + r.len, 0)).toBe(darkInMatrix);

    const drawn = new Uint8Array(matrix.size * matrix.size);
    for (const { x, y, len } of runs) {
      const mx = x - margin;
      const my = y - margin;
      expect(my).toBeGreaterThanOrEqual(0);
      expect(my).toBeLessThan(matrix.size);
      expect(mx).toBeGreaterThanOrEqual(0);
      expect(mx + len).toBeLessThanOrEqual(matrix.size);
      for (let i = 0; i < len; i++) drawn[my * matrix.size + mx + i] = 1;
    }
    expect(Buffer.from(drawn).equals(Buffer.from(matrix.modules))).toBe(true);
  });

  it.each([
    [{ size: 0 }, "size"],
    [{ margin: -1 }, "margin"],
  ])("rejects %j with a ValidationError on %s", (options, field) => {
    let error: unknown;
    try {
      renderSvg(URL_TEXT, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", field });
  });
});
