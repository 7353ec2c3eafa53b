import { spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { readZip } from "../test/helpers/zip.ts";
import { createZipStream } from "./zip-stream.ts";

const MTIME = new Date(Date.UTC(2026, 10, 30));

describe("createZipStream", () => {
  it("writes every entry, stored, in the order added", async () => {
    const zip = createZipStream({ mtime: MTIME });
    const bytes = buffer(zip.output);
    await zip.add("codes.csv", () => Readable.from([Buffer.from("\uFEFFa,b\r\n"), Buffer.from("1,2\r\n")]));
    await zip.add("海报/1.png", () => Readable.from([Buffer.alloc(5_000, 7)]));
    zip.end();
    const entries = readZip(await bytes);
    expect([...entries.keys()]).toEqual(["codes.csv", "海报/1.png"]);
    expect(entries.get("codes.csv")!.toString("utf8")).toBe("\uFEFFa,b\r\n1,2\r\n");
    expect(entries.get("海报/1.png")).toEqual(Buffer.alloc(5_000, 7));
  });

  it("opens an entry only when the writer reaches it, and holds back `add` while 16 wait", async () => {
    const zip = createZipStream({ mtime: MTIME });
    let opened = 0;
    let maxAhead = 0;
    const adding = (async () => {
      for (let i = 0; i < 200; i++) {
        await zip.add(`${i}.bin`, () => {
          opened += 1;
          return Readable.from([Buffer.alloc(1_000, i % 256)]);
        });
        maxAhead = Math.max(maxAhead, i + 1 - opened);
      }
      zip.end();
    })();
    // Nothing reads the output yet: the writer stalls once its buffer is full, and so does `add`.
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toBeLessThan(200);
    const entries = readZip(await buffer(zip.output));
    await adding;
    expect(entries.size).toBe(200);
    expect(entries.get("199.bin")).toEqual(Buffer.alloc(1_000, 199));
    expect(maxAhead).toBeLessThanOrEqual(16);
  });

  it("fails the output when an entry cannot be opened, and refuses further entries", async () => {
    const zip = createZipStream({ mtime: MTIME });
    const bytes = buffer(zip.output);
    await zip.add("missing.png", () => Promise.reject(new Error("ENOENT: missing.png")));
    await expect(bytes).rejects.toThrow(/missing\.png/);
    await expect(zip.add("next.png", () => Readable.from([]))).rejects.toThrow(/abandoned/);
  });
});

describe("createZipStream, read back by Python's zipfile (an independent reader)", () => {
  const python = spawnSync("python3", ["-c", "import zipfile"]).status === 0;

  it.skipIf(!python)(
    "writes more than 65,535 entries as ZIP64, every one with its own bytes",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "wxqr-zip-"));
      try {
        const path = join(dir, "many.zip");
        const zip = createZipStream({ mtime: MTIME });
        const written = pipeline(zip.output, createWriteStream(path));
        const count = 70_000;
        for (let i = 0; i < count; i++) await zip.add(`${i}.txt`, () => Readable.from([Buffer.from(String(i))]));
        zip.end();
        await written;
        const check = spawnSync(
          "python3",
          [
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nnames = z.namelist()\nassert all(z.read(n) == n[:-4].encode() for n in names)\nprint(len(names))",
            path,
          ],
          { encoding: "utf8" },
        );
        expect(check.stderr).toBe("");
        expect(check.stdout.trim()).toBe(String(count));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
