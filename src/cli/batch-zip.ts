/**
 * `wxqr qr batch --zip FILE`: the batch's images and `codes.csv` in one ZIP, streamed from the
 * out-dir's manifest: one image is read at a time and the CSV is written as the manifest is read,
 * so memory does not grow with the batch. The ZIP appears under its name only when complete.
 * @module
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { csvField, UTF8_BOM } from "../server/csv.ts";
import { createZipStream } from "../zip-stream.ts";
import { manifestLines, type ManifestLine } from "./batch-journal.ts";

export const CSV_FILE = "codes.csv";
const CSV_HEADER = ["scene", "type", "ticket", "url", "expires_at", "file"];

function csvRow(values: ReadonlyArray<string | number>): Buffer {
  return Buffer.from(`${values.map(csvField).join(",")}\r\n`, "utf8");
}

/** `codes.csv` for Excel: UTF-8 with a BOM, CRLF, fields quoted when they need it (RFC 4180). */
async function* csvChunks(outDir: string): AsyncGenerator<Buffer> {
  yield Buffer.concat([Buffer.from(UTF8_BOM, "utf8"), csvRow(CSV_HEADER)]);
  for await (const line of manifestLines(outDir)) {
    yield csvRow([line.scene, line.type, line.ticket, line.url, line.expiresAt ?? "", line.file ?? ""]);
  }
}

/**
 * Writes `zipPath` from the manifest in `outDir`; returns the number of images in it.
 * @example
 * await writeBatchZip("out", "codes.zip", new Date(clock.now())); // codes.csv, then 1.png, 2.png, …
 */
export async function writeBatchZip(outDir: string, zipPath: string, mtime: Date): Promise<number> {
  const temporary = `${zipPath}.tmp`;
  const zip = createZipStream({ mtime });
  const written = pipeline(zip.output, createWriteStream(temporary, { mode: 0o644, flush: true }));
  let images = 0;
  const add = async (): Promise<void> => {
    await zip.add(CSV_FILE, () => Readable.from(csvChunks(outDir), { objectMode: false }));
    for await (const line of manifestLines(outDir) as AsyncIterable<ManifestLine>) {
      if (line.file === null) continue;
      await zip.add(line.file, () => createReadStream(join(outDir, line.file!)));
      images += 1;
    }
    zip.end();
  };
  try {
    await Promise.all([add().catch((error: unknown) => zip.output.destroy(error as Error)), written]);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await rename(temporary, zipPath);
  return images;
}
