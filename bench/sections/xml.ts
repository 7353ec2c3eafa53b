/**
 * The push envelope parser against the library it replaces, side by side in one run:
 * `parsePushXml` (purpose-built, strict, single pass) and fast-xml-parser configured to read the
 * same fields (entities off, values as text). Their agreement is tested in
 * src/push/parse-xml.differential.test.ts.
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { parsePushXml } from "../../src/push/parse-xml.ts";
import { measure, type BenchContext, type BenchRow } from "../lib.ts";

export const name = "xml";
export const description = "push XML parsing, ops/s (higher is better)";

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const fast = new XMLParser({ processEntities: false, parseTagValue: false, trimValues: false, ignoreDeclaration: true, ignoreAttributes: true });
  const scan = readFileSync(join(ctx.root, "test/fixtures/push/subscribe-scene-id.xml"), "utf8");
  // A long text message: the parser's cost grows with the body.
  const long = `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${"二维码 scan me ".repeat(120)}]]></Content><MsgId>1234567890123456</MsgId></xml>`;
  const rows: BenchRow[] = [];
  for (const [label, xml] of [
    ["subscribe + scene push", scan],
    ["2 KB text message", long],
  ] as const) {
    const bounds = { minMs: 1_000, maxMs: 2_000, maxIterations: 2_000_000 };
    ctx.log(`xml: ${label}`);
    const ours = await measure(() => parsePushXml(xml), bounds);
    const theirs = await measure(() => fast.parse(xml), bounds);
    rows.push(
      {
        case: `parsePushXml, ${label}`,
        "ops/s": Math.round(ours.opsPerSec),
        "µs/op": Math.round(ours.msPerOp * 10_000) / 10,
        "× fast-xml-parser": Math.round((ours.opsPerSec / theirs.opsPerSec) * 10) / 10,
        bytes: Buffer.byteLength(xml),
      },
      {
        case: `fast-xml-parser, ${label}`,
        "ops/s": Math.round(theirs.opsPerSec),
        "µs/op": Math.round(theirs.msPerOp * 10_000) / 10,
        "× fast-xml-parser": 1,
        bytes: Buffer.byteLength(xml),
      },
    );
  }
  return rows;
}
