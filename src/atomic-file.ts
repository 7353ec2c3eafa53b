/**
 * Writing a small file so that a reader (or the next start after a crash or power cut) finds
 * either the old content or the new, never half of one: write a temporary file beside it, flush
 * it to disk, then rename it over the target (a rename within one folder is atomic on POSIX).
 * Used for the state `wxqr dev` keeps beside its database and for each image of `wxqr qr batch`.
 * @module
 */
import { open, rename, rm } from "node:fs/promises";

/**
 * @example
 * await writeFileAtomic("wxqr.db.emulator.json", JSON.stringify(snapshot), { mode: 0o600 });
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  // One writer per file per process (callers queue their writes), so a fixed name cannot collide.
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, "w", options.mode ?? 0o600);
  try {
    await handle.writeFile(data, typeof data === "string" ? "utf8" : undefined);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temporary, path);
}
