/**
 * The journal of a `wxqr qr batch --out-dir DIR`, which makes a re-run resume: `batch.json` holds
 * the batch's arguments (a re-run with others is refused), and `codes.ndjson` gets one line per
 * code, appended only once the code's image is on disk. A process killed at any point leaves at
 * most a torn last line (an append cut short), which the next run cuts off; every whole line is a
 * code that exists with its image. Reading it holds one bit per scene, never the lines.
 * @module
 */
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { BatchDirectoryError, ValidationError } from "../errors.ts";
import type { CodeType, ScenePlan } from "./batch-scenes.ts";

export const CODES_FILE = "codes.ndjson";
export const BATCH_FILE = "batch.json";

export type ImageFormat = "png" | "svg" | "none";

/** What decides which codes a batch holds and what their files are: a re-run must repeat them all. */
export interface BatchParameters {
  type: CodeType;
  count: number;
  sceneStart: number | null;
  scenePrefix: string | null;
  /** Temporary codes only. */
  expireSeconds: number | null;
  format: ImageFormat;
  size: number;
}

/** One line of `codes.ndjson`. */
export interface ManifestLine {
  scene: number | string;
  type: CodeType;
  ticket: string;
  url: string;
  /** ISO 8601; null for permanent codes. */
  expiresAt: string | null;
  /** The image's name in the directory; null with `--format none`. */
  file: string | null;
}

export interface Journal {
  /** No `batch.json` yet: the directory is new (or empty) and gets one before the first code. */
  fresh: boolean;
  /** 1 at each index already in the manifest. */
  done: Uint8Array;
  /** Scenes already in the manifest. */
  recorded: number;
  /** Bytes of a torn last line, cut off by `prepareJournal`. */
  tornBytes: number;
}

const FLAGS: Record<keyof BatchParameters, (value: never) => string> = {
  type: (v: CodeType) => `--${v}`,
  count: (v: number) => `--count ${v}`,
  sceneStart: (v: number | null) => (v === null ? "no --scene-start" : `--scene-start ${v}`),
  scenePrefix: (v: string | null) => (v === null ? "no --scene-prefix" : `--scene-prefix ${JSON.stringify(v)}`),
  expireSeconds: (v: number | null) => (v === null ? "no --expire" : `--expire ${v}s`),
  format: (v: ImageFormat) => `--format ${v}`,
  size: (v: number) => `--size ${v}`,
};

/**
 * Reads `DIR/batch.json` and `DIR/codes.ndjson` without changing anything, so that a refusal
 * (other arguments, missing credentials) leaves the directory as it was.
 * @example
 * const journal = await readJournal("out", parameters, plan);
 * if (journal.recorded === plan.count) console.log("nothing to create");
 */
export async function readJournal(outDir: string, parameters: BatchParameters, plan: ScenePlan): Promise<Journal> {
  const stored = await readParameters(outDir);
  const manifest = join(outDir, CODES_FILE);
  const done = new Uint8Array(plan.count);
  if (stored === undefined) {
    if (await exists(manifest)) {
      throw new BatchDirectoryError(
        outDir,
        `${manifest} has no ${BATCH_FILE} beside it (made by an older wxqr, or by hand), so a re-run cannot tell which batch it holds: use another --out-dir`,
      );
    }
    return { fresh: true, done, recorded: 0, tornBytes: 0 };
  }
  const differences = (Object.keys(FLAGS) as (keyof BatchParameters)[]).filter((key) => stored[key] !== parameters[key]);
  if (differences.length > 0) {
    const show = (p: BatchParameters): string => differences.map((key) => FLAGS[key](p[key] as never)).join(" ");
    throw new BatchDirectoryError(
      outDir,
      `${outDir} holds a batch made with ${show(stored)}, not ${show(parameters)}: re-run with its arguments to complete it, or use another --out-dir`,
    );
  }

  let recorded = 0;
  const scan = { wholeBytes: 0, tornBytes: 0 };
  let lineNumber = 0;
  for await (const text of wholeLines(manifest, scan)) {
    lineNumber += 1;
    const index = plan.indexOf(parseLine(manifest, lineNumber, text).scene);
    if (index === undefined) throw new BatchDirectoryError(outDir, `${manifest}:${lineNumber} names a scene outside ${plan.range}`);
    if (done[index] === 0) recorded += 1;
    done[index] = 1;
  }
  return { fresh: false, done, recorded, tornBytes: scan.tornBytes };
}

/** Makes the directory ready to append to: creates it and `batch.json` when new, cuts off a torn last line. */
export async function prepareJournal(outDir: string, parameters: BatchParameters, journal: Journal): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true });
    if (journal.fresh) await writeFileAtomic(join(outDir, BATCH_FILE), `${JSON.stringify(parameters, null, 2)}\n`, { mode: 0o644 });
    if (journal.tornBytes > 0) {
      const manifest = join(outDir, CODES_FILE);
      const { size } = await stat(manifest);
      await truncate(manifest, size - journal.tornBytes);
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ValidationError("outDir", `cannot write to ${outDir} (${reason})`);
  }
}

/**
 * The manifest's lines, parsed, in the order they were written; a torn last line is skipped.
 * @example
 * for await (const line of manifestLines("out")) console.log(line.scene, line.url);
 */
export async function* manifestLines(outDir: string): AsyncGenerator<ManifestLine> {
  const manifest = join(outDir, CODES_FILE);
  let lineNumber = 0;
  for await (const text of wholeLines(manifest, { wholeBytes: 0, tornBytes: 0 })) {
    lineNumber += 1;
    yield parseLine(manifest, lineNumber, text);
  }
}

/** The lines ending in `\n`, split on bytes so a multi-byte character across two chunks stays whole. */
async function* wholeLines(path: string, scan: { wholeBytes: number; tornBytes: number }): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      let data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      let newline: number;
      while ((newline = data.indexOf(0x0a)) >= 0) {
        const line = data.subarray(0, newline).toString("utf8");
        scan.wholeBytes += newline + 1;
        data = data.subarray(newline + 1);
        if (line.trim() !== "") yield line;
      }
      carry = Buffer.from(data);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  scan.tornBytes = carry.length;
}

function parseLine(manifest: string, lineNumber: number, text: string): ManifestLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const line = value as Partial<ManifestLine> | undefined;
  if (typeof line !== "object" || line === null || typeof line.ticket !== "string" || typeof line.url !== "string") {
    throw new BatchDirectoryError(manifest, `${manifest}:${lineNumber} is not a code's line (a whole line, so not an interrupted append): remove or repair it`);
  }
  return line as ManifestLine;
}

async function readParameters(outDir: string): Promise<BatchParameters | undefined> {
  let text: string;
  try {
    text = await readFile(join(outDir, BATCH_FILE), "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code;
    if (reason === "ENOENT") return undefined;
    throw new ValidationError("outDir", `cannot read ${join(outDir, BATCH_FILE)} (${reason ?? String(error)})`);
  }
  try {
    return JSON.parse(text) as BatchParameters;
  } catch {
    throw new BatchDirectoryError(outDir, `${join(outDir, BATCH_FILE)} is not JSON: restore it, or use another --out-dir`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
