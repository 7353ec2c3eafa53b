/**
 * Parametric QR codes: `qrcode/create` for the four action names, and the showqrcode image.
 * Every documented limit is checked before anything is sent (wechat-api.md §1, §2).
 * @module
 */
import type { Clock } from "../deps.ts";
import { NetworkError, TicketNotFoundError, ValidationError } from "../errors.ts";
import { buildUrl, sendRaw, type Transport } from "./request.ts";
import type { WireActionName, WireQrCreateRequest, WireQrCreateResponse } from "./wire.ts";

export const TEMPORARY_SCENE_ID_MAX = 4_294_967_295; // "32-bit unsigned" (event doc); 0 is not allowed
export const PERMANENT_SCENE_ID_MAX = 100_000;
export const SCENE_STR_MAX_CHARS = 64;
export const EXPIRE_SECONDS_MIN = 60; // the platform's own default; shorter codes are useless to a person
export const EXPIRE_SECONDS_MAX = 2_592_000; // 30 days

export type SceneInput = { sceneId: number; sceneStr?: undefined } | { sceneStr: string; sceneId?: undefined };
export type TemporaryInput = SceneInput & { expireSeconds: number };

export interface QrTicket {
  type: "temporary" | "permanent";
  ticket: string;
  /** What the QR image encodes, e.g. `http://weixin.qq.com/q/…`; render it locally with `renderPng`. */
  url: string;
  sceneId?: number;
  sceneStr?: string;
  expireSeconds?: number;
  /** Epoch ms; temporary codes only. */
  expiresAt?: number;
}

export interface QrImage {
  bytes: Uint8Array;
  contentType: string;
}

export interface QrCodesApi {
  createTemporary(input: TemporaryInput): Promise<QrTicket>;
  createPermanent(input: SceneInput): Promise<QrTicket>;
  /** The showqrcode URL for a ticket (encoded exactly once). */
  imageUrl(ticket: string): string;
  downloadImage(ticket: string): Promise<QrImage>;
}

type AuthedPost = <T>(path: string, json: unknown) => Promise<T>;

/** Checks a scene and returns its wire form. Exported so the CLI and service validate the same way. */
export function validateScene(
  input: Partial<{ sceneId: unknown; sceneStr: unknown }>,
  type: "temporary" | "permanent",
): { scene_id: number } | { scene_str: string } {
  const hasId = input.sceneId !== undefined;
  const hasStr = input.sceneStr !== undefined;
  if (hasId === hasStr) throw new ValidationError("scene", "give exactly one of sceneId or sceneStr");
  if (hasId) {
    const id = input.sceneId;
    const max = type === "temporary" ? TEMPORARY_SCENE_ID_MAX : PERMANENT_SCENE_ID_MAX;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > max) {
      throw new ValidationError("sceneId", `a ${type} scene id must be a whole number from 1 to ${max}, got ${String(id)}`);
    }
    return { scene_id: id };
  }
  const str = input.sceneStr;
  const chars = typeof str === "string" ? [...str].length : -1;
  if (typeof str !== "string" || chars < 1 || chars > SCENE_STR_MAX_CHARS) {
    throw new ValidationError("sceneStr", `a scene string must have 1 to ${SCENE_STR_MAX_CHARS} characters, got ${chars < 0 ? typeof str : `${chars}`}`);
  }
  return { scene_str: str };
}

export function validateExpireSeconds(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < EXPIRE_SECONDS_MIN || value > EXPIRE_SECONDS_MAX) {
    throw new ValidationError(
      "expireSeconds",
      `must be a whole number of seconds from ${EXPIRE_SECONDS_MIN} to ${EXPIRE_SECONDS_MAX} (30 days), got ${String(value)}`,
    );
  }
  return value;
}

export function createQrCodesApi(deps: { post: AuthedPost; mp: Transport; clock: Clock }): QrCodesApi {
  async function create(type: "temporary" | "permanent", input: SceneInput & { expireSeconds?: number }): Promise<QrTicket> {
    const scene = validateScene(input, type);
    const byId = "scene_id" in scene;
    const action: WireActionName = type === "temporary" ? (byId ? "QR_SCENE" : "QR_STR_SCENE") : byId ? "QR_LIMIT_SCENE" : "QR_LIMIT_STR_SCENE";
    const body: WireQrCreateRequest = { action_name: action, action_info: { scene } };
    // Always explicit: the platform's default has changed between 30 s and 60 s.
    if (type === "temporary") body.expire_seconds = validateExpireSeconds(input.expireSeconds);
    const sentAt = deps.clock.now();
    const wire = await deps.post<WireQrCreateResponse>("/cgi-bin/qrcode/create", body);
    if (typeof wire.ticket !== "string" || typeof wire.url !== "string") {
      throw new NetworkError("/cgi-bin/qrcode/create", "answer has no ticket/url");
    }
    const out: QrTicket = { type, ticket: wire.ticket, url: wire.url };
    if (byId) out.sceneId = scene.scene_id;
    else out.sceneStr = scene.scene_str;
    if (type === "temporary") {
      const seconds = typeof wire.expire_seconds === "number" ? wire.expire_seconds : body.expire_seconds!;
      out.expireSeconds = seconds;
      out.expiresAt = sentAt + seconds * 1000;
    }
    return out;
  }

  return {
    createTemporary: (input) => create("temporary", input),
    createPermanent: (input) => create("permanent", input),
    imageUrl: (ticket) => showQrCodeUrl(deps.mp.baseUrl, ticket),
    downloadImage: (ticket) => downloadShowQrCode(deps.mp, ticket),
  };
}

/** `…/cgi-bin/showqrcode?ticket=…`, the ticket URL-encoded exactly once. No token is needed. */
export function showQrCodeUrl(mpBase: string, ticket: string): string {
  if (typeof ticket !== "string" || ticket.length === 0) throw new ValidationError("ticket", "must be a non-empty string");
  return buildUrl(mpBase, "/cgi-bin/showqrcode", { ticket });
}

/** Fetches a ticket's image from showqrcode; 404 (unknown or expired ticket) → `TicketNotFoundError`. */
export async function downloadShowQrCode(mp: Transport, ticket: string): Promise<QrImage> {
  const res = await sendRaw(mp, "/cgi-bin/showqrcode", showQrCodeUrl(mp.baseUrl, ticket));
  if (res.status === 404) {
    await res.body?.cancel();
    throw new TicketNotFoundError();
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new NetworkError("/cgi-bin/showqrcode", `HTTP ${res.status}`);
  }
  return { bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get("content-type") ?? "image/jpeg" };
}
