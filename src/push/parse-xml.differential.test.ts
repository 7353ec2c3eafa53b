/**
 * The purpose-built envelope parser against the library it replaces (fast-xml-parser): on every
 * flat WeChat envelope both must read the same fields. The bench (`npm run bench xml`) compares
 * their speed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { createSeededRandom } from "../deps.ts";
import { parsePushXml } from "./parse-xml.ts";

const reference = new XMLParser({ processEntities: false, parseTagValue: false, trimValues: false, ignoreDeclaration: true, ignoreAttributes: true });

function referenceFields(xml: string): Record<string, string> {
  const root = (reference.parse(xml) as { xml: Record<string, unknown> }).xml;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(root)) if (k !== "#text") out[k] = String(v);
  return out;
}

const FIXTURES = new URL("../../test/fixtures/push/", import.meta.url);
const NAMES = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey", "Ticket", "Content", "MsgId", "Latitude", "Precision"];
const CHARS = "abcXYZ019_-+/=:;., 我是中文二维码&<>'\"";

describe("parsePushXml agrees with fast-xml-parser", () => {
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith(".xml") && !f.includes("menu")))("on fixture %s", (file) => {
    const xml = readFileSync(new URL(file, FIXTURES), "utf8");
    const ours = parsePushXml(xml);
    const theirs = referenceFields(xml);
    for (const [k, v] of Object.entries(theirs)) expect(ours[k]).toBe(v);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  });

  it("on 2,000 generated flat envelopes", () => {
    const random = createSeededRandom(2026);
    const pick = (n: number): number => Math.floor(random.float() * n);
    for (let i = 0; i < 2_000; i++) {
      const fields: Array<[string, string, boolean]> = [];
      const names = [...NAMES].sort(() => random.float() - 0.5).slice(0, 3 + pick(NAMES.length - 3));
      for (const name of names) {
        const numeric = name === "CreateTime" || name === "MsgId";
        const length = 1 + pick(40);
        let value = numeric
          ? String(1 + pick(2 ** 31))
          : Array.from({ length }, () => CHARS[pick(CHARS.length)])
              .join("")
              .trim();
        if (value === "") value = "x";
        fields.push([name, value, !numeric]);
      }
      const sep = random.float() < 0.5 ? "" : "\n  ";
      const xml = `<xml>${fields.map(([n, v, cdata]) => `${sep}<${n}>${cdata ? `<![CDATA[${v}]]>` : v}</${n}>`).join("")}${sep ? "\n" : ""}</xml>`;
      const expected = Object.fromEntries(fields.map(([n, v]) => [n, v]));
      expect(parsePushXml(xml)).toEqual(expected);
      expect(referenceFields(xml)).toEqual(expected);
    }
  });
});
