/**
 * The push receiver: URL verification, authentication, decryption, parsing and replies for the
 * pushes WeChat POSTs to the account's server URL (wechat-api.md §3–§6, design.md invariant 5).
 *
 * Every request is checked before anything else happens: the plaintext `signature` and the
 * timestamp's age on every GET and POST in every mode, then for `encrypt_type=aes` the
 * `msg_signature` over `Encrypt` and the AppID inside the ciphertext. In compatible mode the body
 * also carries the fields in plain text; with `encrypt_type=aes` only the decrypted copy is trusted.
 *
 * `signature` covers only token, timestamp and nonce, never the body: a plaintext push is only
 * as authentic as its query, and one leaked signed query lets anyone POST any XML until the
 * timestamp is stale. So with an EncodingAESKey a POST must be encrypted (`requireEncryption`,
 * on by default when a key is set), where `msg_signature` and the AppID inside bind the body.
 * @module
 */
import { isUtf8 } from "node:buffer";
import { systemClock, systemRandom } from "../deps.ts";
import type { Random } from "../deps.ts";
import { ConfigError, DecryptError, PushFormatError, SignatureError } from "../errors.ts";
import type { ConfigProblem } from "../errors.ts";
import { toPushMessage } from "./events.ts";
import type { PushMessage } from "./events.ts";
import { decryptWithKey, deriveAesKey, encryptWithKey } from "./msg-crypto.ts";
import { parsePushXml } from "./parse-xml.ts";
import { buildEncryptedReplyXml, buildTextReplyXml, SUCCESS_REPLY } from "./reply.ts";
import type { PushReply } from "./reply.ts";
import { computeMsgSignature, computeSignature, signatureMatches } from "./signature.ts";

/** How far a push's timestamp may be from our clock by default; the usual 5-minute replay window (as bolt, stripe). */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 300;
/** Default body limit. WeChat's pushes are a few KiB at most, even in compatible mode (≈3× plain). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * The query of a push request: raw (URL-decoded) values as received. Arrays (a repeated
 * parameter, as some frameworks parse them) are refused.
 */
export type PushQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface PushRequest {
  query: PushQuery;
  /** The body exactly as received: a string, or the raw bytes (UTF-8). */
  body: string | Uint8Array;
}

export interface PushReceiverOptions {
  /** The Token from the Official Account console (`WECHAT_TOKEN`). */
  token: string;
  /** The account's AppID (`WECHAT_APP_ID`); checked against the one inside encrypted pushes. */
  appId: string;
  /** The 43-character EncodingAESKey (`WECHAT_ENCODING_AES_KEY`); without it encrypted pushes are refused. */
  encodingAESKey?: string | undefined;
  /**
   * Refuse every POST without `encrypt_type=aes` (SignatureError `SIGNATURE_INVALID`): the account is
   * in safe or compatible mode, and a plaintext push's `signature` does not cover its body. Default
   * `true` when `encodingAESKey` is set, else `false`; set `false` with a key only while migrating
   * from plaintext mode. `true` without a key is a ConfigError. URL verification (GET) is unaffected.
   */
  requireEncryption?: boolean | undefined;
  /** Allowed distance between a push's timestamp and `now`, in seconds (default 300); `null` disables the check. */
  maxClockSkewSeconds?: number | null;
  /** Largest body accepted, in bytes (default 64 KiB). */
  maxBodyBytes?: number;
  /** Epoch milliseconds; defaults to the system clock. */
  now?: () => number;
  /** Random bytes for encrypted replies; a function or a `Random` (defaults to the system's). */
  random?: ((n: number) => Uint8Array) | Pick<Random, "bytes">;
}

/** An authenticated push and the means to answer it. */
export interface OpenedPush {
  message: PushMessage;
  /**
   * The passive reply to this push: `success` when `text` is absent or empty (or the push is an
   * unfollow, which nobody can be answered for), else a text reply, encrypted when the push was.
   * It carries what it needs (the request's nonce), so it works on any copy of the message.
   * @throws ValidationError when `text` cannot be carried by the reply XML.
   */
  reply(text?: string): PushReply;
}

export interface PushReceiver {
  /** The largest body `open` accepts, in bytes: adapters stop reading a little past it. */
  readonly maxBodyBytes: number;
  /** Checks a URL-verification GET and returns the `echostr` to send back unchanged. */
  verifyUrl(query: PushQuery): string;
  /** Authenticates, decrypts (when `encrypt_type=aes`) and parses one push. */
  open(request: PushRequest): OpenedPush;
}

const TIMESTAMP_RE = /^[0-9]{1,12}$/;
/** Request nonces are echoed into encrypted replies only when they look like WeChat's. */
const ECHO_NONCE_RE = /^[A-Za-z0-9]{1,32}$/;
const REPLY_NONCE_DIGITS = 10;

const SIGNATURE_HINT = "is WECHAT_TOKEN the Token from the Official Account console, and were the raw query values used?";

function queryValue(query: PushQuery, name: string): string | undefined {
  const v = query[name];
  if (v === undefined || typeof v === "string") return v;
  throw new SignatureError(`query parameter ${name} appears more than once: pass the raw query values`);
}

function requireParam(query: PushQuery, name: string): string {
  const v = queryValue(query, name);
  if (v === undefined || v === "") {
    throw new SignatureError(
      `query parameter ${name} is missing: WeChat sends signature, timestamp and nonce on every request; were the raw query values passed?`,
    );
  }
  return v;
}

/**
 * Creates a receiver for one Official Account.
 * @throws ConfigError listing every problem with the options (empty token or AppID, malformed key, bad limits).
 * @example
 * const receiver = createPushReceiver({ token, appId, encodingAESKey });
 * // GET:  reply.send(receiver.verifyUrl(query))
 * const { message, reply } = receiver.open({ query, body: rawBody });
 * if (message.kind === "scan") console.log(message.scene.str, message.isNewFollower);
 * const { body, contentType } = reply("welcome");
 */
export function createPushReceiver(options: PushReceiverOptions): PushReceiver {
  const problems: ConfigProblem[] = [];
  if (typeof options.token !== "string" || options.token === "") {
    problems.push({ key: "WECHAT_TOKEN", message: "is required: the Token from the Official Account console (server configuration)" });
  }
  if (typeof options.appId !== "string" || options.appId === "") {
    problems.push({ key: "WECHAT_APP_ID", message: "is required: the AppID of the Official Account" });
  }
  let aesKey: Buffer | undefined;
  if (options.encodingAESKey !== undefined) {
    try {
      aesKey = deriveAesKey(options.encodingAESKey);
    } catch (e) {
      problems.push(...(e as ConfigError).problems);
    }
  }
  const maxSkew = options.maxClockSkewSeconds === undefined ? DEFAULT_MAX_CLOCK_SKEW_SECONDS : options.maxClockSkewSeconds;
  if (maxSkew !== null && !(typeof maxSkew === "number" && Number.isFinite(maxSkew) && maxSkew >= 0)) {
    problems.push({ key: "maxClockSkewSeconds", message: "must be a non-negative number of seconds, or null to disable the check" });
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    problems.push({ key: "maxBodyBytes", message: "must be a positive integer number of bytes" });
  }
  const requireEncryption = options.requireEncryption ?? options.encodingAESKey !== undefined;
  if (typeof requireEncryption !== "boolean") {
    problems.push({ key: "requireEncryption", message: "must be true or false" });
  } else if (requireEncryption && options.encodingAESKey === undefined) {
    problems.push({ key: "requireEncryption", message: "needs WECHAT_ENCODING_AES_KEY: every push would be refused without the key to decrypt it" });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const { token, appId } = options;
  const now = options.now ?? systemClock.now;
  const random = options.random ?? systemRandom;
  const randomBytes = typeof random === "function" ? random : (n: number) => random.bytes(n);

  /** Signature, then timestamp age: on every request, GET or POST, in every mode. */
  function authenticate(query: PushQuery): { timestamp: string; nonce: string } {
    const signature = requireParam(query, "signature");
    const timestamp = requireParam(query, "timestamp");
    const nonce = requireParam(query, "nonce");
    if (!TIMESTAMP_RE.test(timestamp)) throw new SignatureError("query parameter timestamp is not a decimal number of seconds");
    if (!signatureMatches(computeSignature(token, timestamp, nonce), signature)) {
      throw new SignatureError(`signature mismatch: ${SIGNATURE_HINT}`);
    }
    if (maxSkew !== null) {
      const skewMs = Math.abs(Number(timestamp) * 1000 - now());
      if (skewMs > maxSkew * 1000) {
        throw new SignatureError(
          `push timestamp is ${Math.round(skewMs / 1000)} s away from this server's clock (limit ${maxSkew} s): is the clock synchronised, or is this a replay?`,
          "TIMESTAMP_STALE",
        );
      }
    }
    return { timestamp, nonce };
  }

  function bodyText(body: string | Uint8Array): string {
    if (typeof body === "string") {
      // A string's UTF-8 size is at least its length, so only long-enough strings need measuring.
      if (body.length > maxBodyBytes || (body.length * 3 > maxBodyBytes && Buffer.byteLength(body, "utf8") > maxBodyBytes)) {
        throw tooLarge();
      }
      return body;
    }
    if (!(body instanceof Uint8Array)) throw new PushFormatError("push body must be a string or the raw bytes");
    if (body.byteLength > maxBodyBytes) throw tooLarge();
    if (!isUtf8(body)) throw new PushFormatError("push body is not UTF-8 text");
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  }

  function tooLarge(): PushFormatError {
    return new PushFormatError(`push body is larger than ${maxBodyBytes} bytes (maxBodyBytes); WeChat's pushes are a few KiB`, {
      code: "PUSH_TOO_LARGE",
    });
  }

  function verifyUrl(query: PushQuery): string {
    authenticate(query);
    const echostr = queryValue(query, "echostr");
    if (echostr === undefined || echostr === "") {
      throw new SignatureError("query parameter echostr is missing: URL verification is a GET with signature, timestamp, nonce and echostr");
    }
    // Official-Account echostr is plain even in safe mode (wechat-api.md §5): send it back unchanged.
    return echostr;
  }

  function open(request: PushRequest): OpenedPush {
    const { query } = request;
    const { timestamp, nonce } = authenticate(query);
    const encryptType = queryValue(query, "encrypt_type");
    const plain = encryptType === undefined || encryptType === "" || encryptType === "raw";
    if (plain && requireEncryption) {
      // `signature` does not cover the body: accepting this would let a leaked signed query carry forged XML.
      throw new SignatureError(
        "push is not encrypted (no encrypt_type=aes) but an EncodingAESKey is configured, so only encrypted pushes are accepted: set the console's message encryption to safe or compatible mode (or, to take plaintext pushes while migrating, pass requireEncryption: false)",
      );
    }
    const xml = bodyText(request.body);
    if (plain) return opened(toPushMessage(parsePushXml(xml), false), nonce);
    if (encryptType !== "aes") {
      throw new PushFormatError(`unknown encrypt_type "${encryptType.slice(0, 16)}": WeChat sends "aes" or "raw"`, { field: "encrypt_type" });
    }
    if (aesKey === undefined) {
      throw new DecryptError(
        "an encrypted push (encrypt_type=aes) arrived but no EncodingAESKey is configured: set WECHAT_ENCODING_AES_KEY to the key from the Official Account console",
      );
    }
    const msgSignature = requireParam(query, "msg_signature");
    const envelope = parsePushXml(xml);
    const encrypt = envelope.Encrypt;
    if (encrypt === undefined || encrypt === "") {
      throw new PushFormatError("encrypted push (encrypt_type=aes) has no <Encrypt>", { field: "Encrypt" });
    }
    if (!signatureMatches(computeMsgSignature(token, timestamp, nonce, encrypt), msgSignature)) {
      throw new SignatureError(`msg_signature mismatch: ${SIGNATURE_HINT}`);
    }
    return opened(toPushMessage(parsePushXml(decryptWithKey(aesKey, appId, encrypt)), true), nonce);
  }

  function opened(message: PushMessage, requestNonce: string): OpenedPush {
    return { message, reply: (text) => reply(message, requestNonce, text) };
  }

  /** The request's nonce is echoed into an encrypted reply (the official samples do the same) when it looks like WeChat's. */
  function replyNonce(requestNonce: string): string {
    if (ECHO_NONCE_RE.test(requestNonce)) return requestNonce;
    const bytes = randomBytes(REPLY_NONCE_DIGITS);
    let nonce = "";
    for (let i = 0; i < REPLY_NONCE_DIGITS; i++) nonce += String(bytes[i]! % 10);
    return nonce;
  }

  function reply(message: PushMessage, requestNonce: string, text: string | undefined): PushReply {
    // Nothing to say, or nobody to say it to: WeChat cannot deliver a reply to an unfollow.
    if (text === undefined || text === "" || message.kind === "unsubscribe") return SUCCESS_REPLY;
    const createTime = Math.floor(now() / 1000);
    const xml = buildTextReplyXml({ openId: message.openId, originalId: message.originalId, createTime, content: text });
    if (!message.encrypted) return { body: xml, contentType: "application/xml" };
    if (aesKey === undefined) {
      throw new ConfigError([{ key: "WECHAT_ENCODING_AES_KEY", message: "is required to reply to an encrypted push" }]);
    }
    const encrypt = encryptWithKey(aesKey, appId, xml, randomBytes(16));
    const timestamp = String(createTime);
    const nonce = replyNonce(requestNonce);
    const msgSignature = computeMsgSignature(token, timestamp, nonce, encrypt);
    return { body: buildEncryptedReplyXml({ encrypt, msgSignature, timestamp, nonce }), contentType: "application/xml" };
  }

  return { maxBodyBytes, verifyUrl, open };
}
