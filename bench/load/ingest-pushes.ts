/**
 * The pushes of the ingest section (bench/sections/ingest.ts), as a pure function of their index
 * in one pool, so the load generator can build them and the section can recompute the dedupe key
 * of any push the service acknowledged, to look for it in the database afterwards.
 *
 * The pool: every `NEW_FOLLOWER_EVERY`-th push is a subscribe through the channel's code by an
 * openId seen nowhere else (a new follower); the others are SCANs of that code by one of
 * `RETURNING_FOLLOWERS` openIds, each returning follower's n-th scan one second after its
 * previous one. So every push has its own dedupe key (FromUserName|CreateTime|Event|EventKey)
 * and nothing is deduplicated, and CreateTime stays within a minute of the pool's base time
 * (a few dozen scans per returning follower), well inside the receiver's 300 s skew.
 * @module
 */
import type * as PushModule from "../../src/push/index.ts";

type PushApi = typeof PushModule;

/** Returning followers, each scanning many times; with the new ones, ≥ 2,000 distinct followers in any run. */
export const RETURNING_FOLLOWERS = 3_000;
/** One push in this many is a new follower's subscribe (index 0, 4, 8, …). */
export const NEW_FOLLOWER_EVERY = 4;

export interface PoolParams {
  /** Epoch seconds: CreateTime (and the signed `timestamp`) of every push is this or a few seconds later. */
  baseTime: number;
  /** Distinguishes runs: openIds differ between rows and runs, so a pool is never replayed into another database. */
  tag: string;
  /** The channel code's scene id and ticket (what WeChat puts in EventKey and Ticket). */
  sceneId: number;
  ticket: string;
}

export interface PushSpec {
  openId: string;
  createTime: number;
  event: "subscribe" | "SCAN";
  eventKey: string;
  /** FromUserName|CreateTime|Event|EventKey, as `toPushMessage` builds it. */
  dedupeKey: string;
  newFollower: boolean;
}

/** Which of the returning followers the push at `index` comes from; undefined for a new follower's subscribe. */
export function returningFollowerOf(index: number): number | undefined {
  if (index % NEW_FOLLOWER_EVERY === 0) return undefined;
  return (index - Math.floor(index / NEW_FOLLOWER_EVERY) - 1) % RETURNING_FOLLOWERS;
}

/** The push at `index` of the pool (any non-negative integer). */
export function pushSpec(p: PoolParams, index: number): PushSpec {
  if (index % NEW_FOLLOWER_EVERY === 0) {
    const openId = `oBench${p.tag}N${(index / NEW_FOLLOWER_EVERY).toString(36).padStart(6, "0")}`;
    const createTime = p.baseTime;
    const eventKey = `qrscene_${p.sceneId}`;
    return { openId, createTime, event: "subscribe", eventKey, dedupeKey: `${openId}|${createTime}|subscribe|${eventKey}`, newFollower: true };
  }
  const scan = index - Math.floor(index / NEW_FOLLOWER_EVERY) - 1; // 0, 1, 2 … over the SCANs only
  const openId = `oBench${p.tag}R${returningFollowerOf(index)!.toString(36).padStart(6, "0")}`;
  const createTime = p.baseTime + Math.floor(scan / RETURNING_FOLLOWERS);
  const eventKey = String(p.sceneId);
  return { openId, createTime, event: "SCAN", eventKey, dedupeKey: `${openId}|${createTime}|SCAN|${eventKey}`, newFollower: false };
}

export interface PushSecrets {
  token: string;
  appId: string;
  encodingAESKey: string;
  /** The account's original id, `gh_…` (ToUserName). */
  accountId: string;
}

/** The decrypted XML, as WeChat sends a scan event. */
function plaintext(s: PushSecrets, spec: PushSpec, ticket: string): string {
  return (
    `<xml><ToUserName><![CDATA[${s.accountId}]]></ToUserName><FromUserName><![CDATA[${spec.openId}]]></FromUserName>` +
    `<CreateTime>${spec.createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${spec.event}]]></Event>` +
    `<EventKey><![CDATA[${spec.eventKey}]]></EventKey><Ticket><![CDATA[${ticket}]]></Ticket></xml>`
  );
}

/**
 * The request WeChat would POST for one push in safe mode: its own timestamp (= CreateTime),
 * nonce and msg_signature in the query; only ToUserName and Encrypt in the clear.
 * @param random16 the 16 random bytes of the ciphertext; `nonce` a decimal string, as WeChat's.
 */
export function safeRequest(
  api: PushApi,
  s: PushSecrets,
  p: PoolParams,
  index: number,
  nonce: string,
  random16: Uint8Array,
): { pathAndQuery: (path: string) => string; body: string } {
  const spec = pushSpec(p, index);
  const timestamp = String(spec.createTime);
  const encrypt = api.encryptMessage({ encodingAESKey: s.encodingAESKey, appId: s.appId, xml: plaintext(s, spec, p.ticket), random16 });
  const query = new URLSearchParams({
    signature: api.computeSignature(s.token, timestamp, nonce),
    timestamp,
    nonce,
    openid: spec.openId,
    encrypt_type: "aes",
    msg_signature: api.computeMsgSignature(s.token, timestamp, nonce, encrypt),
  }).toString();
  return {
    pathAndQuery: (path) => `${path}?${query}`,
    body: `<xml>\n  <ToUserName><![CDATA[${s.accountId}]]></ToUserName>\n  <Encrypt><![CDATA[${encrypt}]]></Encrypt>\n</xml>\n`,
  };
}
