import QRCode from "qrcode";
import { describe, expect, it } from "vitest";
import { createSeededRandom, type Random } from "../deps.ts";
import { encodeQr, type ErrorCorrectionLevel } from "./matrix.ts";

const LEVELS: readonly ErrorCorrectionLevel[] = ["L", "M", "Q", "H"];
const BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

function pick(random: Random, chars: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += chars[Math.floor(random.float() * chars.length)];
  return out;
}

/** Texts of every mode the encoder picks segments for: numeric, alphanumeric, byte (URLs, CJK, emoji), kanji, and mixes. */
function randomText(random: Random): string {
  const length = 1 + Math.floor(random.float() * (random.float() < 0.2 ? 400 : 80));
  switch (Math.floor(random.float() * 6)) {
    case 0:
      return pick(random, "0123456789", length);
    case 1:
      return pick(random, ALPHANUMERIC, length);
    case 2:
      return `http://weixin.qq.com/q/02${pick(random, BASE62, 22)}`;
    case 3:
      return pick(random, "扫码关注公众号二维码場景値漢字テスト", length);
    case 4:
      return Array.from({ length }, () => String.fromCodePoint(0x20 + Math.floor(random.float() * 0x2ff80)))
        .join("")
        .replace(/[\ud800-\udfff]/g, "x");
    default:
      return `${pick(random, "0123456789", length)}${pick(random, ALPHANUMERIC, length)}${pick(random, BASE62, length)}`.slice(0, 600);
  }
}

describe("encodeQr's own mask choice", () => {
  it("gives the qrcode package's matrix and mask for 1,600 random texts of every mode, length and level", () => {
    const random = createSeededRandom(11);
    const masksSeen = new Set<number>();
    const versionsSeen = new Set<number>();
    for (let n = 0; n < 400; n++) {
      const text = randomText(random);
      for (const level of LEVELS) {
        const expected = QRCode.create(text, { errorCorrectionLevel: level });
        const actual = encodeQr(text, level);
        expect(actual.size).toBe(expected.modules.size);
        // One comparison per text, not per module: a mismatch names the text and level.
        const same = Buffer.compare(Buffer.from(actual.modules), Buffer.from(expected.modules.data)) === 0;
        expect({ text, level, same }).toEqual({ text, level, same: true });
        masksSeen.add(expected.maskPattern!);
        versionsSeen.add(expected.version);
      }
    }
    // The inputs exercised the choice itself (every mask won somewhere) and version information (version 7+).
    expect([...masksSeen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Math.max(...versionsSeen)).toBeGreaterThanOrEqual(7);
  });
});
