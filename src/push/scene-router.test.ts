import { describe, expect, expectTypeOf, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { toPushMessage, type ScanMessage } from "./events.ts";
import { parsePushXml } from "./parse-xml.ts";
import { createSceneRouter } from "./scene-router.ts";

/** Both forms a scan arrives in, read from the wire XML as the receiver reads it. */
function scans(scene: string): Array<[string, ScanMessage]> {
  const xml = (event: string, key: string): string =>
    `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event><EventKey><![CDATA[${key}]]></EventKey><Ticket><![CDATA[T]]></Ticket></xml>`;
  return [
    ["subscribe + qrscene_", toPushMessage(parsePushXml(xml("subscribe", `qrscene_${scene}`)), false) as ScanMessage],
    ["SCAN", toPushMessage(parsePushXml(xml("SCAN", scene)), false) as ScanMessage],
  ];
}

const router = createSceneRouter<string>()
  .on("poster-*", (_m, match) => `prefix poster- rest ${match.rest}`)
  .on("poster-vip-*", (_m, match) => `prefix poster-vip- rest ${match.rest}`)
  .on("poster-7", (_m, match) => `exact ${match.value}`)
  .on(123, (_m, match) => `id ${match.id}`)
  .onExact("star*", () => "literal star")
  .onMatch(
    (scene) => /^shop-(\d+)$/.exec(scene.str)?.[1],
    (_m, match) => `shop ${match.value}`,
  )
  .fallback((m, match) => `fallback ${match.scene.str} for ${m.openId}`);

describe("createSceneRouter", () => {
  it.each([
    ["poster-42", "prefix poster- rest 42"],
    ["poster-", "prefix poster- rest "],
    ["poster-vip-9", "prefix poster-vip- rest 9"],
    ["poster-7", "exact poster-7"],
    ["123", "id 123"],
    ["star*", "literal star"],
    ["shop-88", "shop 88"],
    ["shop-x", "fallback shop-x for oUser"],
    ["0123", "fallback 0123 for oUser"],
  ])("routes scene %j the same way in both event forms", async (scene, expected) => {
    for (const [form, message] of scans(scene)) {
      expect(await router.route(message), form).toBe(expected);
    }
  });

  it("gives undefined when nothing matches and there is no fallback", async () => {
    const bare = createSceneRouter<number>().on("a", () => 1);
    for (const [, message] of scans("b")) expect(await bare.route(message)).toBeUndefined();
  });

  it("finds one of 200,000 exact values and 10,000 prefixes by lookup", async () => {
    const big = createSceneRouter<string>();
    for (let i = 0; i < 200_000; i++) big.on(`store-${i}`, (_m, { value }) => value);
    for (let i = 0; i < 10_000; i++) big.on(`region-${i}-*`, (_m, { prefix, rest }) => `${prefix}|${rest}`);
    const [, message] = scans("store-199999")[1]!;
    expect(await big.route(message)).toBe("store-199999");
    const [, regional] = scans("region-9999-shop-1")[0]!;
    expect(await big.route(regional)).toBe("region-9999-|shop-1");
  });

  it("awaits async handlers", async () => {
    const slow = createSceneRouter<string>().on("a*", async (_m, { rest }) => `async ${rest}`);
    expect(await slow.route(scans("abc")[0]![1])).toBe("async bc");
  });

  it.each([
    ["a*b", "* not last"],
    ["", "empty"],
    ["x".repeat(65), "longer than a scene"],
    [-1, "negative id"],
    [4_294_967_296, "id past 32 bits"],
  ])("refuses the pattern %j at registration (%s)", (pattern, _why) => {
    expect(() => createSceneRouter().on(pattern, () => undefined)).toThrow(ValidationError);
  });

  it("refuses a pattern registered twice, and a second fallback", () => {
    expect(() =>
      createSceneRouter()
        .on("a", () => undefined)
        .on("a", () => undefined),
    ).toThrow(ValidationError);
    expect(() =>
      createSceneRouter()
        .on("a*", () => undefined)
        .on("a*", () => undefined),
    ).toThrow(ValidationError);
    expect(() =>
      createSceneRouter()
        .on(5, () => undefined)
        .on("5", () => undefined),
    ).toThrow(ValidationError);
    expect(() =>
      createSceneRouter()
        .fallback(() => undefined)
        .fallback(() => undefined),
    ).toThrow(ValidationError);
  });

  it("types the matched part by pattern", () => {
    createSceneRouter()
      .on("poster-*", (_m, match) => {
        expectTypeOf(match.kind).toEqualTypeOf<"prefix">();
        expectTypeOf(match.prefix).toEqualTypeOf<"poster-">();
        expectTypeOf(match.rest).toEqualTypeOf<string>();
      })
      .on("vip", (_m, match) => {
        expectTypeOf(match.kind).toEqualTypeOf<"exact">();
        expectTypeOf(match.value).toEqualTypeOf<string>();
      })
      .on(7, (_m, match) => {
        expectTypeOf(match.id).toEqualTypeOf<number>();
      })
      .onMatch(
        (scene) => (scene.id === undefined ? undefined : { shop: scene.id }),
        (_m, match) => {
          expectTypeOf(match.value).toEqualTypeOf<{ shop: number }>();
        },
      );
  });
});
