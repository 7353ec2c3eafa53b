/**
 * What `wxqr dev` keeps beside its SQLite file so that the next start continues: the emulator's
 * state (`<db>.emulator.json`, written by the emulator itself) and the credentials `dev` made up
 * (`<db>.dev.json`: the app secret, push Token, EncodingAESKey and admin token, and the AppID the
 * emulator's codes belong to). Values the environment gives are never written: they may be a
 * real account's, and the environment gives them again next time.
 * @module
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { z } from "zod";
import { writeFileAtomic } from "../atomic-file.ts";
import { ConfigError } from "../errors.ts";

export const DEV_CREDENTIAL_KEYS = ["WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN", "WECHAT_ENCODING_AES_KEY", "WXQR_ADMIN_TOKEN"] as const;
export type DevCredentialKey = (typeof DEV_CREDENTIAL_KEYS)[number];
export type DevCredentials = Record<DevCredentialKey, string>;

const DEV_FILE_VERSION = 1;
const devFileSchema = z.strictObject({
  version: z.literal(DEV_FILE_VERSION),
  credentials: z.strictObject(
    Object.fromEntries(DEV_CREDENTIAL_KEYS.map((k) => [k, z.string().min(1).optional()])) as Record<DevCredentialKey, z.ZodOptional<z.ZodString>>,
  ),
});

/** Where `wxqr dev` keeps its files for one database; `undefined` for an in-memory database, which keeps nothing. */
export interface DevFiles {
  database: string;
  emulatorState: string;
  credentials: string;
}

/**
 * @example
 * devFiles("sqlite:./wxqr.db"); // { database: "./wxqr.db", emulatorState: "./wxqr.db.emulator.json", credentials: "./wxqr.db.dev.json" }
 */
export function devFiles(databaseUrl: string): DevFiles | undefined {
  const database = databaseUrl.slice("sqlite:".length);
  if (database === ":memory:" || database === "") return undefined;
  return { database, emulatorState: `${database}.emulator.json`, credentials: `${database}.dev.json` };
}

const START_OVER = "move it away, or start over with wxqr dev --fresh";

/** The credentials saved by an earlier start (none when there is no file); a broken file is a ConfigError naming it. */
export function readDevCredentials(path: string): Partial<DevCredentials> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return {};
    throw new ConfigError([{ key: path, message: `cannot be read (${(err as Error).message}); ${START_OVER}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ key: path, message: `is not JSON (${(err as Error).message}); ${START_OVER}` }]);
  }
  const parsed = devFileSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError([{ key: path, message: `is not a wxqr dev credentials file of version ${DEV_FILE_VERSION}; ${START_OVER}` }]);
  const out: Partial<DevCredentials> = {};
  for (const key of DEV_CREDENTIAL_KEYS) {
    const value = parsed.data.credentials[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export async function writeDevCredentials(path: string, credentials: Partial<DevCredentials>): Promise<void> {
  // Owner-only: it holds the admin token.
  await writeFileAtomic(path, `${JSON.stringify({ version: DEV_FILE_VERSION, credentials }, null, 2)}\n`, { mode: 0o600 });
}

/** `--fresh`: removes the database (with its WAL files) and both state files; returns those that existed. */
export async function removeDevFiles(files: DevFiles): Promise<string[]> {
  const paths = [files.database, `${files.database}-wal`, `${files.database}-shm`, files.emulatorState, files.credentials];
  const removed: string[] = [];
  for (const path of paths) {
    try {
      await rm(path);
      removed.push(path);
    } catch (err) {
      if ((err as { code?: unknown }).code !== "ENOENT") throw err;
    }
  }
  return removed;
}
