/**
 * `qrcode/create` rules (wechat-api.md §1): the request's validation, permanent-code quota
 * and reuse, and realistic tickets and urls.
 * @module
 */
import type { Random } from "../deps.ts";
import type { EmulatorState, QrAction, QrCodeRecord, QrKind, QrScene } from "./state.ts";

export const QR_ACTIONS: Readonly<Record<QrAction, { kind: QrKind; field: "scene_id" | "scene_str" }>> = {
  QR_SCENE: { kind: "temporary", field: "scene_id" },
  QR_STR_SCENE: { kind: "temporary", field: "scene_str" },
  QR_LIMIT_SCENE: { kind: "permanent", field: "scene_id" },
  QR_LIMIT_STR_SCENE: { kind: "permanent", field: "scene_str" },
};

export const TEMPORARY_SCENE_ID_MAX = 4_294_967_295; // "32-bit" scene ids, read as unsigned (wechat-api.md §9)
export const PERMANENT_SCENE_ID_MAX = 100_000; // doc: permanent scene_id 1..100000
export const SCENE_STR_MAX_CHARS = 64; // doc: scene_str 1..64 characters
export const EXPIRE_SECONDS_MIN = 60; // no documented minimum; the default is the smallest sensible value
export const EXPIRE_SECONDS_MAX = 2_592_000; // 30 days
export const EXPIRE_SECONDS_DEFAULT = 60; // current doc: "默认有效期为60秒" when omitted

export interface QrCreateRequest {
  action: QrAction;
  kind: QrKind;
  scene: QrScene;
  /** Seconds; `null` for permanent codes (the field is ignored for them). */
  expireSeconds: number | null;
}

export type ParseResult = { ok: true; request: QrCreateRequest } | { ok: false; errcode: 47001 | 40052 | 40053 | 40035 };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads a create body as the platform would: 47001 when it is not JSON, 40052 for an unknown
 * `action_name`, 40053 for a missing or out-of-range scene, 40035 for a bad `expire_seconds`.
 * A field that the action does not use is ignored.
 */
export function parseQrCreateBody(raw: string): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, errcode: 47001 };
  }
  if (!isObject(body)) return { ok: false, errcode: 47001 };
  const actionName = body["action_name"];
  if (typeof actionName !== "string" || !Object.hasOwn(QR_ACTIONS, actionName)) return { ok: false, errcode: 40052 };
  const action = actionName as QrAction;
  const { kind, field } = QR_ACTIONS[action];

  const info = body["action_info"];
  const wireScene = isObject(info) ? info["scene"] : undefined;
  if (!isObject(wireScene)) return { ok: false, errcode: 40053 };
  let scene: QrScene;
  if (field === "scene_id") {
    const id = wireScene["scene_id"];
    const max = kind === "temporary" ? TEMPORARY_SCENE_ID_MAX : PERMANENT_SCENE_ID_MAX;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > max) return { ok: false, errcode: 40053 };
    scene = { id };
  } else {
    const str = wireScene["scene_str"];
    if (typeof str !== "string") return { ok: false, errcode: 40053 };
    const chars = Array.from(str).length;
    if (chars < 1 || chars > SCENE_STR_MAX_CHARS) return { ok: false, errcode: 40053 };
    scene = { str };
  }

  if (kind === "permanent") return { ok: true, request: { action, kind, scene, expireSeconds: null } };
  const expire = body["expire_seconds"];
  if (expire === undefined || expire === null) {
    return { ok: true, request: { action, kind, scene, expireSeconds: EXPIRE_SECONDS_DEFAULT } };
  }
  if (typeof expire !== "number" || !Number.isInteger(expire) || expire < EXPIRE_SECONDS_MIN || expire > EXPIRE_SECONDS_MAX) {
    return { ok: false, errcode: 40035 };
  }
  return { ok: true, request: { action, kind, scene, expireSeconds: expire } };
}

const URL_PREFIX = "http://weixin.qq.com/q/";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomAlnum(random: Random, length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of random.bytes(length)) {
      if (byte < 248 && out.length < length) out += ALNUM[byte % 62]; // 248 = 4 × 62: no modulo bias
    }
  }
  return out;
}

/** `http://weixin.qq.com/q/02` + 20 random characters: 22 after `/q/`, like current real urls. */
export function generateQrUrl(random: Random): string {
  return URL_PREFIX + "02" + randomAlnum(random, 20);
}

/**
 * A ticket shaped like the real ones: standard base64 of a binary blob that starts `0x81 0x01`
 * ("gQ…") and holds TLV fields — 1: the url (NUL-terminated), 2: creation time (s, LE),
 * 3: expire seconds (LE), 4: two random bytes. Bytes 2–3 are chosen so every ticket has a `+`
 * and a `/`, and the 76-byte length ends it in `==`: a client that does not URL-encode the
 * ticket for showqrcode fails every time, not once in a while.
 * @example
 * encodeTicket("http://weixin.qq.com/q/02…", 1767225600, 60, random); // "gQH+/EAAAAAAAAAAAS5odHRw…=="
 */
export function encodeTicket(url: string, createdSec: number, expireSeconds: number, random: Random): string {
  const urlBytes = Buffer.from(url + "\0", "latin1");
  const tlv = Buffer.concat([
    Buffer.from([0x01, urlBytes.length]),
    urlBytes,
    Buffer.from([0x02, 0x04]),
    u32le(createdSec),
    Buffer.from([0x03, 0x04]),
    u32le(expireSeconds),
    Buffer.from([0x04, 0x02]),
    Buffer.from(random.bytes(2)),
  ]);
  const [r0 = 0, r1 = 0] = random.bytes(2);
  const header = Buffer.alloc(12);
  header[0] = 0x81;
  header[1] = 0x01;
  header[2] = (r0 & 0xc0) | 62; // base64 character 3 = '+'
  header[3] = 0xfc | (r1 & 0x03); // base64 character 4 = '/'
  header[4] = tlv.length;
  return Buffer.concat([header, tlv]).toString("base64");
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

const sceneKey = (scene: QrScene): string => (scene.id !== undefined ? `id:${scene.id}` : `str:${scene.str}`);

export type CreateResult = { ok: true; code: QrCodeRecord; reused: boolean } | { ok: false; errcode: 45029 };

/**
 * Creates a code, or returns the existing one for a permanent scene already created (no
 * quota used). 45029 once the account's permanent codes reach the quota.
 */
export function createQrCode(state: EmulatorState, request: QrCreateRequest, now: number, random: Random): CreateResult {
  const { permanentByScene } = state.qrcodes;
  if (request.kind === "permanent") {
    const existing = permanentByScene.get(sceneKey(request.scene));
    if (existing !== undefined) return { ok: true, code: existing, reused: true };
    if (permanentByScene.size >= state.config.permanentQuota) return { ok: false, errcode: 45029 };
  }
  let url = generateQrUrl(random);
  while (state.qrcodes.byUrl.has(url)) url = generateQrUrl(random);
  const ticket = encodeTicket(url, Math.floor(now / 1000), request.expireSeconds ?? 0, random);
  const code: QrCodeRecord = {
    ticket,
    url,
    action: request.action,
    kind: request.kind,
    scene: request.scene,
    createdAt: now,
    expiresAt: request.expireSeconds === null ? null : now + request.expireSeconds * 1000,
    expireSeconds: request.expireSeconds,
  };
  state.qrcodes.byTicket.set(ticket, code);
  state.qrcodes.byUrl.set(url, code);
  if (request.kind === "permanent") permanentByScene.set(sceneKey(request.scene), code);
  return { ok: true, code, reused: false };
}

export function isExpired(code: QrCodeRecord, now: number): boolean {
  return code.expiresAt !== null && now >= code.expiresAt;
}

/**
 * The live code behind a ticket (as showqrcode sees it), or `undefined` when unknown or expired.
 * @example
 * const code = findLiveQrCodeByTicket(emulator.state, ticket, emulator.now()); // code?.scene → { id: 123 }
 */
export function findLiveQrCodeByTicket(state: EmulatorState, ticket: string, now: number): QrCodeRecord | undefined {
  const code = state.qrcodes.byTicket.get(ticket);
  return code === undefined || isExpired(code, now) ? undefined : code;
}

/**
 * The live code whose image encodes `url` (for a simulated scan), or `undefined`.
 * @example
 * findLiveQrCodeByUrl(emulator.state, "http://weixin.qq.com/q/02…", emulator.now())?.ticket;
 */
export function findLiveQrCodeByUrl(state: EmulatorState, url: string, now: number): QrCodeRecord | undefined {
  const code = state.qrcodes.byUrl.get(url);
  return code === undefined || isExpired(code, now) ? undefined : code;
}
