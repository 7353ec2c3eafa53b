/** Parsing of CLI values into the library's units, with errors that name the flag. */
import { ValidationError } from "../errors.ts";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** "90", "90s", "45m", "1h", "30d" → seconds. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!m) throw new ValidationError(field, `expected a duration like 3600, 90s, 45m, 1h or 30d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] || "s"]!;
}

export function parseWholeNumber(text: string, field: string): number {
  if (!/^-?\d{1,16}$/.test(text.trim())) throw new ValidationError(field, `expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Library field names → the flags a CLI user typed. */
const FLAG_FOR_FIELD: Record<string, string> = {
  sceneId: "--scene-id",
  sceneStr: "--scene-str",
  scene: "--scene-id/--scene-str",
  type: "--temporary/--permanent",
  ec: "--ec",
  expireSeconds: "--expire",
  size: "--size",
  margin: "--margin",
  out: "--out",
  count: "--count",
  batchScene: "--scene-start/--scene-prefix",
  sceneStart: "--scene-start",
  scenePrefix: "--scene-prefix",
  outDir: "--out-dir",
  format: "--format",
  concurrency: "--concurrency",
  ticket: "<ticket|url>",
  image: "<ticket|url>",
  openId: "--openid",
  imageFile: "--image",
  source: "--ticket/--url/--image",
  emulator: "--emulator",
  pushUrl: "--push-url",
  host: "--host",
  port: "--port",
  emulatorPort: "--emulator-port",
  db: "--db",
  token: "--token",
  mode: "--mode",
  pushTimeoutMs: "--push-timeout-ms",
  "push.url": "--push-url",
  "push.token": "--token",
  "push.encodingAESKey": "--aes-key",
  "push.mode": "--mode",
  "push.timeoutMs": "--push-timeout-ms",
  groupId: "--group",
  welcome: "--welcome",
  "code.days": "--temporary",
  "code.renew": "--renew",
  code: "--temporary",
};

export function flagFor(field: string): string {
  return FLAG_FOR_FIELD[field] ?? field;
}
