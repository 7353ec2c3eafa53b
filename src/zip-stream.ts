/**
 * A ZIP written as a stream (yazl): each entry's content is opened only when the writer reaches
 * it, and `add` waits while a few entries are queued ahead of the writer, so memory holds one
 * entry's data in flight and the (small) directory records, however many entries there are.
 * Used by `wxqr qr batch --zip` and `GET /api/channels/export.zip`.
 * @module
 */
import type { Readable } from "node:stream";
import yazl from "yazl";

// Entries queued ahead of the one being written: enough to keep the output busy, few enough
// that a caller producing entries (reading a manifest, paging a table) never runs far ahead.
const MAX_QUEUED_ENTRIES = 16;

export interface ZipEntryOptions {
  /** Default true; false stores the bytes as they are (PNGs are compressed already). */
  compress?: boolean;
}

export interface ZipStream {
  /** The ZIP's bytes, to pipe to a file or send as a response; it ends after `end()` and the last entry. */
  readonly output: Readable;
  /** Queues an entry whose content `open` gives when the writer reaches it; resolves when the queue has room. */
  add(name: string, open: () => Readable | Promise<Readable>, options?: ZipEntryOptions): Promise<void>;
  /** No more entries: the central directory follows the last one. */
  end(): void;
}

/**
 * @example
 * const zip = createZipStream({ mtime: new Date(clock.now()) });
 * zip.output.pipe(createWriteStream("codes.zip"));
 * await zip.add("codes.csv", () => Readable.from(csvLines()));
 * zip.end();
 */
export function createZipStream(options: { mtime: Date }): ZipStream {
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as Readable;
  // yazl reports a failed entry (a missing file, a render that threw) on the ZipFile, not on
  // its output: passing it on makes a pipeline to a file or a response fail instead of hang.
  zip.on("error", (error: unknown) => output.destroy(error instanceof Error ? error : new Error(String(error))));

  let added = 0;
  let opened = 0;
  let wake: (() => void) | undefined;
  const roomInQueue = (): Promise<void> =>
    added - opened < MAX_QUEUED_ENTRIES || output.destroyed ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve));
  output.once("close", () => wake?.());

  return {
    output,
    async add(name, open, entryOptions = {}) {
      await roomInQueue();
      if (output.destroyed) throw new Error(`the ZIP was abandoned before ${JSON.stringify(name)}`);
      added += 1;
      zip.addReadStreamLazy(name, { mtime: options.mtime, compress: entryOptions.compress ?? true }, (callback) => {
        opened += 1;
        const waiting = wake;
        wake = undefined;
        waiting?.();
        Promise.resolve()
          .then(open)
          .then(
            (stream) => callback(null, stream),
            (error: unknown) => callback(error, undefined as never),
          );
      });
    },
    end: () => zip.end(),
  };
}
