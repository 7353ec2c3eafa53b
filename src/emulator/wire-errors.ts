/**
 * The errcodes the emulator answers with, and their errmsg text as the real platform
 * sends it (wechat-api.md §1, §7 and §10; global table: developers.weixin.qq.com/doc/oplatform/developers/errCode/errCode.html).
 * Real error bodies end in a volatile ` rid: xxxxxxxx-xxxxxxxx-xxxxxxxx` suffix, so the
 * emulator appends one too: clients must match on `errcode`, never on `errmsg`.
 * @module
 */
import type { Random } from "../deps.ts";

/**
 * errcode → errmsg, without the ` rid: …` suffix.
 * @example
 * WIRE_ERRMSG[42001]; // "access_token expired"
 */
export const WIRE_ERRMSG: Readonly<Record<number, string>> = {
  [-1]: "system error",
  40001: "invalid credential, access_token is invalid or not latest",
  40002: "invalid grant_type",
  40003: "invalid openid",
  40004: "invalid media type",
  40005: "invalid file type",
  40006: "invalid meida size", // sic, the platform's spelling
  40007: "invalid media_id",
  40008: "invalid message type",
  40013: "invalid appid",
  40014: "invalid access_token",
  40032: "invalid openid list size",
  40035: "invalid args",
  40052: "invalid action name",
  40053: "invalid action info",
  40125: "invalid appsecret",
  40164: "invalid ip, not in whitelist",
  41001: "access_token missing",
  41002: "appid missing",
  41004: "appsecret missing",
  41005: "media data missing",
  42001: "access_token expired",
  43002: "require POST method",
  44004: "empty content",
  45002: "content size out of limit",
  45008: "article size out of limit",
  45009: "reach max api daily quota limit",
  45011: "api minute-quota reach limit, must slower, retry next minute",
  45015: "response out of time limit or subscription is canceled",
  45029: "qrcode count out of limit",
  45047: "out of response count limit",
  45056: "too many tag now, no need to add new",
  45057: "can't delete the tag that has too many fans",
  45058: "can't modify sys tag",
  45059: "can not tagging one user too much",
  45157: "invalid tag name",
  45158: "tag name too long",
  45159: "invalid tag id",
  47001: "data format error",
  48001: "api unauthorized",
};

/** The errcodes the emulator itself produces; faults may inject any non-zero errcode. */
export type EmulatorErrcode =
  | -1
  | 40001
  | 40002
  | 40003
  | 40004
  | 40005
  | 40006
  | 40007
  | 40008
  | 40013
  | 40032
  | 40035
  | 40052
  | 40053
  | 40125
  | 41001
  | 41002
  | 41004
  | 41005
  | 42001
  | 43002
  | 44004
  | 45002
  | 45008
  | 45009
  | 45015
  | 45029
  | 45047
  | 45056
  | 45057
  | 45058
  | 45059
  | 45157
  | 45158
  | 45159
  | 47001;

export interface WireErrorBody {
  errcode: number;
  errmsg: string;
}

/** errmsg for an errcode the table does not know (only reachable through injected faults). */
const UNKNOWN_ERRMSG = "emulated error";

/** `xxxxxxxx-xxxxxxxx-xxxxxxxx`, the shape of the platform's request ids. */
export function requestId(random: Random): string {
  const hex = Buffer.from(random.bytes(12)).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}`;
}

/**
 * An error body exactly as the platform shapes it.
 * @example
 * wireError(40001, random); // { errcode: 40001, errmsg: "invalid credential, … rid: 5f0c…-…-…" }
 */
export function wireError(errcode: number, random: Random): WireErrorBody {
  const text = WIRE_ERRMSG[errcode] ?? UNKNOWN_ERRMSG;
  return { errcode, errmsg: `${text} rid: ${requestId(random)}` };
}
