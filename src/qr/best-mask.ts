/**
 * The `qrcode` package's choice of data mask, made over plain byte arrays. The package scores
 * each of the 8 masks by reading every module through `BitMatrix.get` in four penalty passes,
 * about 40 % of a 430 px render (`npm run bench -- qr`, issue #11); the same rules over a
 * `Uint8Array` cost a fraction of that. `encodeQr` has the package encode with mask 0, then
 * lets this module choose, so both give the same matrix — `best-mask.test.ts` checks that against
 * the package on random texts of every mode and error correction level (house rule for hand-written
 * replacements of a library). The rules, the tie-break (the first lowest wins) and the format bits
 * follow qrcode/lib/core/{mask-pattern,format-info,qrcode}.js, not a reading of ISO/IEC 18004.
 * @module
 */
import type { ErrorCorrectionLevel } from "./matrix.ts";

const MASKS = 8;
// Penalty weights N1–N4 (qrcode/lib/core/mask-pattern.js).
const N1 = 3;
const N2 = 3;
const N3 = 40;
const N4 = 10;
// Format information: BCH(15,5) with generator G15, xored with G15_MASK (format-info.js).
const G15 = 0b101_0011_0111;
const G15_MASK = 0b101_0100_0001_0010;
const EC_LEVEL_BITS: Record<ErrorCorrectionLevel, number> = { L: 1, M: 0, Q: 3, H: 2 };

/** Mask `p` at row i, column j: 1 where the module is inverted. */
function maskAt(p: number, i: number, j: number): number {
  switch (p) {
    case 0:
      return (i + j) % 2 === 0 ? 1 : 0;
    case 1:
      return i % 2 === 0 ? 1 : 0;
    case 2:
      return j % 3 === 0 ? 1 : 0;
    case 3:
      return (i + j) % 3 === 0 ? 1 : 0;
    case 4:
      return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0 ? 1 : 0;
    case 5:
      return ((i * j) % 2) + ((i * j) % 3) === 0 ? 1 : 0;
    case 6:
      return (((i * j) % 2) + ((i * j) % 3)) % 2 === 0 ? 1 : 0;
    default:
      return (((i * j) % 3) + ((i + j) % 2)) % 2 === 0 ? 1 : 0;
  }
}

// A batch renders thousands of codes of one or two sizes: each size's 8 masks are computed once.
const maskCache = new Map<number, Uint8Array[]>();

function masksFor(size: number): Uint8Array[] {
  let masks = maskCache.get(size);
  if (masks === undefined) {
    masks = Array.from({ length: MASKS }, (_, p) => {
      const mask = new Uint8Array(size * size);
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) mask[i * size + j] = maskAt(p, i, j);
      return mask;
    });
    maskCache.set(size, masks);
  }
  return masks;
}

function bchDigits(data: number): number {
  let digits = 0;
  for (let d = data; d !== 0; d >>>= 1) digits++;
  return digits;
}

function formatBits(level: ErrorCorrectionLevel, mask: number): number {
  const data = (EC_LEVEL_BITS[level] << 3) | mask;
  let d = data << 10;
  const g15Digits = bchDigits(G15);
  while (bchDigits(d) - g15Digits >= 0) d ^= G15 << (bchDigits(d) - g15Digits);
  return ((data << 10) | d) ^ G15_MASK;
}

/** Writes the 15 format bits and the fixed dark module where `setupFormatInfo` does. */
function writeFormat(modules: Uint8Array, size: number, level: ErrorCorrectionLevel, mask: number): void {
  const bits = formatBits(level, mask);
  for (let i = 0; i < 15; i++) {
    const bit = (bits >> i) & 1;
    const row = i < 6 ? i : i < 8 ? i + 1 : size - 15 + i;
    modules[row * size + 8] = bit;
    const col = i < 8 ? size - i - 1 : i < 9 ? 15 - i : 15 - i - 1;
    modules[8 * size + col] = bit;
  }
  modules[(size - 8) * size + 8] = 1;
}

function penalty(m: Uint8Array, size: number): number {
  // Rows then columns, each in one pass: N1 runs, N3 windows, and (rows only) N4's dark count and
  // N2's 2 × 2 blocks, which look one row down.
  let runs = 0;
  let finders = 0;
  let blocks = 0;
  let dark = 0;
  for (let r = 0; r < size; r++) {
    const row = r * size;
    let last = m[row]!;
    let run = 1;
    let bits = last;
    dark += last;
    for (let c = 1; c < size; c++) {
      const v = m[row + c]!;
      dark += v;
      if (v === last) run++;
      else {
        if (run >= 5) runs += N1 + run - 5;
        last = v;
        run = 1;
      }
      bits = ((bits << 1) & 0x7ff) | v;
      if (c >= 10 && (bits === 0x5d0 || bits === 0x05d)) finders++;
      if (r < size - 1) {
        const sum = m[row + c - 1]! + v + m[row + size + c - 1]! + m[row + size + c]!;
        if (sum === 0 || sum === 4) blocks++;
      }
    }
    if (run >= 5) runs += N1 + run - 5;
  }
  for (let c = 0; c < size; c++) {
    let last = m[c]!;
    let run = 1;
    let bits = last;
    for (let r = 1; r < size; r++) {
      const v = m[r * size + c]!;
      if (v === last) run++;
      else {
        if (run >= 5) runs += N1 + run - 5;
        last = v;
        run = 1;
      }
      bits = ((bits << 1) & 0x7ff) | v;
      if (r >= 10 && (bits === 0x5d0 || bits === 0x05d)) finders++;
    }
    if (run >= 5) runs += N1 + run - 5;
  }
  const darkSteps = Math.abs(Math.ceil((dark * 100) / (size * size) / 5) - 10);
  return runs + blocks * N2 + finders * N3 + darkSteps * N4;
}

/**
 * Takes a matrix the package encoded with mask `applied` and turns it, in place, into the one it
 * would have encoded with no mask given: the lowest-penalty mask and its format bits.
 * Returns the mask chosen.
 * @example
 * const qr = QRCode.create(text, { errorCorrectionLevel: "M", maskPattern: 0 });
 * const modules = Uint8Array.from(qr.modules.data);
 * applyBestMask(modules, qr.modules.reservedBit, qr.modules.size, "M", 0);
 */
export function applyBestMask(modules: Uint8Array, reserved: Uint8Array, size: number, level: ErrorCorrectionLevel, applied: number): number {
  const masks = masksFor(size);
  const n = size * size;
  // Data modules only: finder, timing, alignment, format and version modules are never masked.
  const unmask = masks[applied]!;
  for (let i = 0; i < n; i++) if (reserved[i] === 0) modules[i]! ^= unmask[i]!;
  const free = new Uint8Array(n);
  for (let i = 0; i < n; i++) free[i] = reserved[i] === 0 ? 1 : 0;
  const candidate = new Uint8Array(n);
  let best = 0;
  let lowest = Infinity;
  for (let p = 0; p < MASKS; p++) {
    const mask = masks[p]!;
    for (let i = 0; i < n; i++) candidate[i] = modules[i]! ^ (mask[i]! & free[i]!);
    writeFormat(candidate, size, level, p);
    const points = penalty(candidate, size);
    if (points < lowest) {
      lowest = points;
      best = p;
    }
  }
  const chosen = masks[best]!;
  for (let i = 0; i < n; i++) if (reserved[i] === 0) modules[i]! ^= chosen[i]!;
  writeFormat(modules, size, level, best);
  return best;
}
