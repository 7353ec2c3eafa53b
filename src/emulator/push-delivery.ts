/**
 * Delivering one push like the platform (wechat-api.md §4): POST it, wait at most `timeoutMs`,
 * and on a timeout, a connection error or a non-2xx answer send the same message again, up to
 * `maxRetries` more times. A 2xx answer ends it; its body is the passive reply, verified as the
 * platform does: `success` or an empty body say nothing; an XML reply must be addressed to the
 * user from the account and, in safe mode, encrypted and signed with the account's key and token.
 * Whatever the user would see is recorded (`userSaw`, and in the user's received messages),
 * including WeChat's notice when the delivery fails or the reply is invalid.
 * @module
 */
import type { Fetch, Logger, Random } from "../deps.ts";
import { computeMsgSignature, decryptMessage, parsePushXml, signatureMatches } from "../push/index.ts";
import type { PushMode, PushTarget } from "./options.ts";
import {
  buildEventXml,
  buildPushBody,
  buildTextMessageXml,
  generateNonce,
  signPushQuery,
  withQuery,
  type EventPush,
  type PushEventName,
  type TextMessagePush,
} from "./push-message.ts";
import { logReceived } from "./received-messages.ts";
import type { EmulatorState } from "./state.ts";

/** What WeChat shows the user when the server fails to answer or answers something invalid (OA-REPLY). */
export const USER_NOTICE = "该公众号暂时无法提供服务，请稍后再试";
/** Deliveries kept in the log; the oldest go first. */
export const DELIVERY_LOG_MAX = 1_000;

export interface DeliveryAttempt {
  /** 1 for the first attempt. */
  n: number;
  /** The HTTP status, when an answer arrived. */
  status?: number;
  /** Why the attempt failed: no answer in time, no connection, or a non-2xx status. Absent on success. */
  error?: "timeout" | "network" | "status";
  /** e.g. `ECONNREFUSED`, for network errors. */
  detail?: string;
  /** Measured with the emulator's clock (0 under a manual clock). */
  durationMs: number;
}

/**
 * The passive reply as the platform read it. `other` is a valid non-text reply (image, news …),
 * `invalid` one WeChat refuses (`error` says why).
 */
export interface DeliveryReply {
  kind: "success" | "empty" | "text" | "other" | "invalid";
  /** The Content of a text reply. */
  text?: string;
  /** The MsgType of an `other` reply. */
  msgType?: string;
  /** The MediaId of an image, voice or video reply (`<Image><MediaId>` …). */
  mediaId?: string;
  error?: string;
}

export interface DeliveryRecord {
  id: number;
  openId: string;
  /** `text` for a user's message (`POST /emulator/message`). */
  event: PushEventName | "text";
  /** `""` for a text message. */
  eventKey: string;
  /** A text message's Content. */
  content?: string;
  /** Epoch seconds, the push's CreateTime: the same on every attempt. */
  createTime: number;
  ticket?: string;
  url: string;
  mode: PushMode;
  attempts: DeliveryAttempt[];
  /** `pending` while attempts are still being made. */
  outcome: "pending" | "delivered" | "failed";
  /** `null` until a 2xx answer arrives (and for a failed delivery). */
  reply: DeliveryReply | null;
  /** What the user sees in the chat: the reply's text, WeChat's notice, or nothing. */
  userSaw: string | null;
}

export interface DeliveryContext {
  state: EmulatorState;
  now: () => number;
  random: Random;
  fetch: Fetch;
  logger: Logger;
}

/**
 * Pushes one event to the configured server URL and resolves when every attempt is done.
 * @example
 * const record = await deliverPush(ctx, target, { openId: "o1", event: "SCAN", eventKey: "123", ticket });
 * record.outcome; // "delivered"
 */
export async function deliverPush(
  ctx: DeliveryContext,
  target: PushTarget,
  push: Omit<EventPush, "originalId" | "createTimeSec"> | ({ event: "text" } & Omit<TextMessagePush, "originalId" | "createTimeSec">),
): Promise<DeliveryRecord> {
  const { state, now, random } = ctx;
  const { appId, originalId } = state.config;
  const createTimeSec = Math.floor(now() / 1000);
  const xml = push.event === "text" ? buildTextMessageXml({ ...push, originalId, createTimeSec }) : buildEventXml({ ...push, originalId, createTimeSec });
  // Encrypted once: every attempt carries the very same message (wechat-api.md §4).
  const { body, encrypt } = buildPushBody({
    mode: target.mode,
    encodingAESKey: target.encodingAESKey,
    appId,
    originalId,
    xml,
    random16: random.bytes(16),
  });
  const record: DeliveryRecord = {
    id: ++state.lastDeliveryId,
    openId: push.openId,
    event: push.event,
    eventKey: push.event === "text" ? "" : push.eventKey,
    createTime: createTimeSec,
    ...(push.event === "text" ? { content: push.content } : push.ticket === undefined ? {} : { ticket: push.ticket }),
    url: target.url,
    mode: target.mode,
    attempts: [],
    outcome: "pending",
    reply: null,
    userSaw: null,
  };
  state.deliveries.push(record);
  if (state.deliveries.length > DELIVERY_LOG_MAX) state.deliveries.splice(0, state.deliveries.length - DELIVERY_LOG_MAX);

  for (let n = 1; n <= 1 + target.maxRetries && record.outcome === "pending"; n++) {
    // Signed afresh for each attempt: a new nonce and the current time.
    const query = signPushQuery({
      token: target.token,
      timestamp: String(Math.floor(now() / 1000)),
      nonce: generateNonce(random),
      openId: push.openId,
      encrypt,
    });
    const started = now();
    let status: number | undefined;
    try {
      const res = await ctx.fetch(withQuery(target.url, query), {
        method: "POST",
        headers: { "content-type": "text/xml" },
        body,
        redirect: "manual",
        // A network deadline (the platform's 5 s), not a sleep: AbortSignal.timeout is the seam here.
        signal: AbortSignal.timeout(target.timeoutMs),
      });
      status = res.status;
      const text = await res.text();
      if (res.status < 200 || res.status > 299) {
        record.attempts.push({ n, status, error: "status", durationMs: now() - started });
        continue;
      }
      record.attempts.push({ n, status, durationMs: now() - started });
      record.outcome = "delivered";
      record.reply = readReply({ text, mode: target.mode, token: target.token, encodingAESKey: target.encodingAESKey, appId, originalId, openId: push.openId });
    } catch (err) {
      const timeout = (err as { name?: unknown } | null)?.name === "TimeoutError";
      const detail = timeout ? undefined : networkDetail(err);
      record.attempts.push({
        n,
        ...(status === undefined ? {} : { status }),
        error: timeout ? "timeout" : "network",
        ...(detail === undefined ? {} : { detail }),
        durationMs: now() - started,
      });
    }
  }
  if (record.outcome === "pending") record.outcome = "failed";
  record.userSaw = userSaw(record);
  if (record.userSaw !== null) {
    const mediaId = record.reply?.mediaId;
    logReceived(state, {
      openId: push.openId,
      at: now(),
      via: "passive_reply",
      msgType: passiveMsgType(record),
      text: record.userSaw,
      ...(mediaId === undefined ? {} : { mediaId }),
      deliveryId: record.id,
    });
  }
  ctx.logger.info(
    { id: record.id, event: record.event, openId: record.openId, outcome: record.outcome, attempts: record.attempts.length, reply: record.reply?.kind },
    "emulator push finished",
  );
  return record;
}

function userSaw(record: DeliveryRecord): string | null {
  // Nobody is left to see anything after an unfollow.
  if (record.event === "unsubscribe") return null;
  if (record.outcome !== "delivered" || record.reply === null) return USER_NOTICE;
  switch (record.reply.kind) {
    case "text":
      return record.reply.text ?? null;
    case "other":
      return `[${record.reply.msgType ?? "message"}]`;
    case "invalid":
      return USER_NOTICE;
    default:
      return null;
  }
}

/** What the chat shows: the reply's own type, or WeChat's notice when there was no valid reply. */
function passiveMsgType(record: DeliveryRecord): string {
  const kind = record.reply?.kind;
  if (record.outcome === "delivered" && kind === "text") return "text";
  if (record.outcome === "delivered" && kind === "other") return record.reply?.msgType ?? "other";
  return "notice";
}

function networkDetail(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message.slice(0, 120);
  return err instanceof Error ? err.message.slice(0, 120) : undefined;
}

const CREATE_TIME_RE = /^[0-9]{1,15}$/;

/**
 * Reads a 2xx answer's body as the platform does (wechat-api.md §4, §6).
 * @example
 * readReply({ text: "success", mode: "safe", token, encodingAESKey, appId, originalId, openId }); // { kind: "success" }
 */
export function readReply(input: {
  text: string;
  mode: PushMode;
  token: string;
  encodingAESKey: string | undefined;
  appId: string;
  originalId: string;
  openId: string;
}): DeliveryReply {
  const text = input.text.trim();
  if (text === "") return { kind: "empty" };
  if (text === "success") return { kind: "success" };
  let fields: Record<string, string>;
  try {
    fields = parsePushXml(text);
  } catch {
    return invalid('the reply is not "success", an empty body, or XML');
  }
  const encrypt = fields.Encrypt;
  if (encrypt !== undefined) {
    if (input.mode === "plain" || input.encodingAESKey === undefined) return invalid("an encrypted reply to a push sent in plain mode");
    const { MsgSignature: msgSignature, TimeStamp: timestamp, Nonce: nonce } = fields;
    if (msgSignature === undefined || timestamp === undefined || nonce === undefined) {
      return invalid("the encrypted reply lacks MsgSignature, TimeStamp or Nonce");
    }
    if (!signatureMatches(computeMsgSignature(input.token, timestamp, nonce, encrypt), msgSignature)) {
      return invalid("the encrypted reply's MsgSignature does not verify with the Token");
    }
    let xml: string;
    try {
      xml = decryptMessage({ encodingAESKey: input.encodingAESKey, appId: input.appId, encrypt });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return invalid(
        code === "APPID_MISMATCH"
          ? "the AppID inside the encrypted reply is not the account's"
          : "the encrypted reply does not decrypt with the EncodingAESKey",
      );
    }
    try {
      fields = parsePushXml(xml);
    } catch {
      return invalid("the decrypted reply is not XML");
    }
  } else if (input.mode === "safe") {
    return invalid("in safe mode the reply must be encrypted");
  }
  return readReplyMessage(fields, input);
}

function readReplyMessage(fields: Record<string, string>, input: { originalId: string; openId: string }): DeliveryReply {
  if (fields.ToUserName !== input.openId) return invalid("the reply's ToUserName is not the user's OpenID");
  if (fields.FromUserName !== input.originalId) return invalid("the reply's FromUserName is not the account's id");
  if (!CREATE_TIME_RE.test(fields.CreateTime ?? "")) return invalid("the reply's CreateTime is not a decimal number of seconds");
  const msgType = fields.MsgType;
  if (msgType === undefined || msgType === "") return invalid("the reply has no MsgType");
  if (msgType !== "text") {
    const mediaId = fields[`${msgType.charAt(0).toUpperCase()}${msgType.slice(1)}.MediaId`];
    return { kind: "other", msgType, ...(mediaId === undefined || mediaId === "" ? {} : { mediaId }) };
  }
  const content = fields.Content;
  // An XML reply with nothing in it is not "say nothing": that is `success` or an empty body (OA-REPLY).
  if (content === undefined || content === "") return invalid('a text reply with an empty Content (reply "success" to say nothing)');
  return { kind: "text", text: content };
}

const invalid = (error: string): DeliveryReply => ({ kind: "invalid", error });
