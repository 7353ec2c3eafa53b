/**
 * `GET /api/channels/export.zip`: each listed channel's code rendered locally (one image at a time,
 * as the ZIP is sent) and `channels.csv` for Excel, last. The channels are read a page at a time
 * as the client reads; each one's CSV row goes to a temporary file at once, which becomes the last
 * entry. What stays in memory until the ZIP ends is the ZIP's own directory (a record per file)
 * and the file names already given (to keep them unique), a few hundred bytes a channel (measured in `npm run bench -- zip`).
 * @module
 */
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { CHANNEL_PAGE_MAX, type ChannelListOptions, type ChannelView, type WxqrService } from "../domain/index.ts";
import { renderPng } from "../qr/png.ts";
import { renderSvg } from "../qr/svg.ts";
import { createZipStream } from "../zip-stream.ts";
import { csvField, UTF8_BOM } from "./csv.ts";

export const CHANNELS_CSV = "channels.csv";
export const CHANNELS_CSV_HEADER = [
  "id",
  "name",
  "scene",
  "url",
  "ticket",
  "created_at",
  "archived",
  "scans",
  "unique_scanners",
  "new_followers",
  "returning_followers",
  "unfollows",
  "file",
];

export interface ChannelExportOptions {
  filters: Pick<ChannelListOptions, "ids" | "search" | "archived" | "groupId">;
  format: "png" | "svg";
  size: number;
  margin: number;
  mtime: Date;
}

// Windows refuses these in file names, and a slash would make a folder inside the ZIP.
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_FILE_NAME = /[/\\:*?"<>|\u0000-\u001f\u007f]/g;
const FILE_STEM_MAX_CHARS = 80;

/**
 * The channel's name as a file name: unsafe characters become `_`, and a name another channel's
 * file already took (compared as case-insensitive file systems do) gets the channel's id appended.
 * @example
 * channelFileName({ id: "ch_1", name: "海报 A/B" } as ChannelView, "png", new Set()); // "海报 A_B.png"
 */
export function channelFileName(channel: Pick<ChannelView, "id" | "name">, extension: string, taken: Set<string>): string {
  const stem = [...channel.name.replace(UNSAFE_IN_FILE_NAME, "_").replace(/^[\s.]+|[\s.]+$/g, "")].slice(0, FILE_STEM_MAX_CHARS).join("");
  let name = `${stem === "" ? channel.id : stem}.${extension}`;
  if (taken.has(name.toLowerCase())) name = `${stem}-${channel.id}.${extension}`;
  taken.add(name.toLowerCase());
  return name;
}

/**
 * A leading `=`, `+`, `-`, `@` makes Excel read a cell as a formula (CSV injection): a name that
 * starts so is shown as text by the apostrophe Excel itself uses for that.
 */
function spreadsheetText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function csvLine(values: ReadonlyArray<string | number>): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

async function* channelPages(service: WxqrService, filters: ChannelExportOptions["filters"]): AsyncGenerator<ChannelView[]> {
  for (let offset = 0; ; offset += CHANNEL_PAGE_MAX) {
    const page = await service.channels.list({ ...filters, sort: "createdAt", order: "asc", limit: CHANNEL_PAGE_MAX, offset });
    yield page.channels;
    if (page.channels.length < CHANNEL_PAGE_MAX) return;
  }
}

function csvRow(c: ChannelView, file: string | null): string {
  const t = c.total;
  return csvLine([
    c.id,
    spreadsheetText(c.name),
    c.qrcode.sceneId ?? c.qrcode.sceneStr ?? "",
    c.qrcode.url ?? "",
    c.qrcode.ticket ?? "",
    new Date(c.createdAt).toISOString(),
    String(c.archived),
    t.scans,
    t.uniqueScanners,
    t.newFollowers,
    t.returningFollowers,
    t.unfollows,
    file ?? "",
  ]);
}

/** The CSV as it is written: appended to a file of its own, read back as the ZIP's last entry, removed with the ZIP. */
async function csvSpool(): Promise<{ append(text: string): Promise<void>; read(): Readable; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "wxqr-export-"));
  const file = join(dir, CHANNELS_CSV);
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, "w");
    await handle.write(UTF8_BOM + csvLine(CHANNELS_CSV_HEADER));
  } catch (error) {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const writer = handle;
  return {
    append: async (text) => {
      await writer.write(text);
    },
    read: () => createReadStream(file),
    remove: async () => {
      await writer.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Reads the first page of channels (so a failing database is a clean error response, not a cut
 * ZIP), then returns the ZIP's stream: the rest is read, rendered and written as the client reads.
 * A failure after that (the database gone midway) destroys the stream, so the client sees a cut
 * download, never a ZIP that looks complete.
 * @example
 * reply.type("application/zip").send(await exportChannels(service, { filters: {}, format: "png", size: 430, margin: 4, mtime }));
 */
export async function exportChannels(service: WxqrService, options: ChannelExportOptions): Promise<Readable> {
  const pages = channelPages(service, options.filters);
  const first = await pages.next();
  const csv = await csvSpool();
  const zip = createZipStream({ mtime: options.mtime });
  zip.output.once("close", () => void csv.remove());
  const render = options.format === "png" ? renderPng : renderSvg;
  const add = async (): Promise<void> => {
    const taken = new Set<string>([CHANNELS_CSV]);
    for (let page = first; !page.done; page = await pages.next()) {
      let rows = "";
      for (const c of page.value) {
        const url = c.qrcode.url;
        const file = url === null ? null : channelFileName(c, options.format, taken);
        rows += csvRow(c, file);
        if (file !== null && url !== null) await zip.add(file, () => Buffer.from(render(url, { size: options.size, margin: options.margin })));
      }
      await csv.append(rows);
    }
    await zip.add(CHANNELS_CSV, () => csv.read());
    zip.end();
  };
  add().catch((error: unknown) => zip.output.destroy(error instanceof Error ? error : new Error(String(error))));
  return zip.output;
}
