/**
 * `GET /api/channels/export.zip`: each listed channel's code rendered locally (one image at a time,
 * as the ZIP is sent) and `channels.csv` for Excel. The channels are read page by page; only a
 * short record per channel (its file name, url and CSV row) is kept until the ZIP ends.
 * @module
 */
import { Readable } from "node:stream";
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

interface ExportRow {
  file: string | null;
  url: string | null;
  csv: string;
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

function* csvChunks(rows: readonly ExportRow[]): Generator<Buffer> {
  yield Buffer.from(UTF8_BOM + csvLine(CHANNELS_CSV_HEADER), "utf8");
  for (const row of rows) yield Buffer.from(row.csv, "utf8");
}

async function* allChannels(service: WxqrService, filters: ChannelExportOptions["filters"]): AsyncGenerator<ChannelView> {
  for (let offset = 0; ; offset += CHANNEL_PAGE_MAX) {
    const page = await service.channels.list({ ...filters, sort: "createdAt", order: "asc", limit: CHANNEL_PAGE_MAX, offset });
    yield* page.channels;
    if (page.channels.length < CHANNEL_PAGE_MAX) return;
  }
}

/**
 * Lists the channels first (so a failing database is a clean error response, not a cut ZIP), then
 * returns the ZIP's stream; images are rendered as the client reads.
 * @example
 * reply.type("application/zip").send(await exportChannels(service, { filters: {}, format: "png", size: 430, margin: 4, mtime }));
 */
export async function exportChannels(service: WxqrService, options: ChannelExportOptions): Promise<Readable> {
  const taken = new Set<string>([CHANNELS_CSV]);
  const rows: ExportRow[] = [];
  for await (const c of allChannels(service, options.filters)) {
    const file = c.qrcode.url === null ? null : channelFileName(c, options.format, taken);
    const t = c.total;
    const scene = c.qrcode.sceneId ?? c.qrcode.sceneStr ?? "";
    const csv = csvLine([
      c.id,
      spreadsheetText(c.name),
      scene,
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
    rows.push({ file, url: c.qrcode.url, csv });
  }

  const zip = createZipStream({ mtime: options.mtime });
  const render = options.format === "png" ? renderPng : renderSvg;
  const add = async (): Promise<void> => {
    // Line by line: the whole CSV of 10,000 channels would be one more copy of every row at once.
    await zip.add(CHANNELS_CSV, () => Readable.from(csvChunks(rows)));
    for (const { file, url } of rows) {
      if (file === null || url === null) continue;
      const rendered = (): Readable => Readable.from([Buffer.from(render(url, { size: options.size, margin: options.margin }))]);
      await zip.add(file, rendered);
    }
    zip.end();
  };
  add().catch((error: unknown) => zip.output.destroy(error instanceof Error ? error : new Error(String(error))));
  return zip.output;
}
