import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSeededRandom } from "../deps.ts";
import { ERROR_CODES, QrError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import { PUSH_MESSAGE_KINDS } from "./events.ts";
import type { PushMessage } from "./events.ts";
import { deriveAesKey, encryptMessage } from "./msg-crypto.ts";
import { parsePushXml } from "./parse-xml.ts";
import { createPushReceiver } from "./receiver.ts";
import type { PushRequest } from "./receiver.ts";
import { computeMsgSignature, computeSignature } from "./signature.ts";

// Mutation fuzzing of valid plain and encrypted pushes, re-signed so they get past the signature
// checks and reach the parser and the decrypter. Every outcome must be a PushMessage or a QrError
// with a known code; anything else (TypeError, RangeError, an OpenSSL error, …) is a bug.

const ITERATIONS = 12_000;
const TOKEN = "fuzztoken";
const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID = "wxb11529c136998cb6";
const NOW_S = 1_700_000_000;
const TS = String(NOW_S);
const NONCE = "1234567";

const rng = createSeededRandom(0x5eed);
const int = (n: number): number => Math.floor(rng.float() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const SEEDS = [
  `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></FromUserName><CreateTime>${TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==]]></Ticket></xml>`,
  `<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <ToUserName><![CDATA[gh_1]]></ToUserName>\n  <FromUserName><![CDATA[oUser]]></FromUserName>\n  <CreateTime>${TS}</CreateTime>\n  <MsgType><![CDATA[event]]></MsgType>\n  <Event><![CDATA[SCAN]]></Event>\n  <EventKey><![CDATA[渠道]]]]><![CDATA[>🎉]]></EventKey>\n  <Ticket><![CDATA[T]]></Ticket>\n</xml>\n`,
  `<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>${TS}</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event><EventKey/></xml>`,
  `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>${TS}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>a &lt;b&gt; &amp; &#20013;</Content><MsgId>1234567890123456</MsgId></xml>`,
  `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>${TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_sysphoto]]></Event><EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>`,
];

const INSERTS = [
  "<",
  ">",
  "&",
  "/",
  "]]>",
  "]]",
  "<![CDATA[",
  "<!DOCTYPE x>",
  '<!DOCTYPE x [<!ENTITY a "b">]>',
  "<!ENTITY e SYSTEM 'file:///etc/passwd'>",
  "&lt;",
  "&amp;",
  "&#0;",
  "&#x110000;",
  "&#xD800;",
  "&e;",
  "&#65;",
  "<xml>",
  "</xml>",
  "<?pi?>",
  "<?xml version='1.0'?>",
  "<!--",
  "-->",
  "\u0000",
  "\u0007",
  "\uFEFF",
  "\uD800",
  "渠",
  "🎉",
  " ",
  "\n",
  "=",
  '"',
  "qrscene_",
  "<A>",
  "</A>",
  "<A/>",
  "<Event>SCAN</Event>",
];
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function mutateText(s: string): string {
  const ops = int(3) === 0 ? 2 + int(2) : 1;
  for (let k = 0; k < ops; k++) {
    const at = int(s.length + 1);
    switch (int(6)) {
      case 0: // flip one character
        s = s.slice(0, at) + String.fromCharCode(int(4) === 0 ? int(0x3000) : 0x20 + int(0x5f)) + s.slice(at + 1);
        break;
      case 1: // truncate
        s = s.slice(0, at);
        break;
      case 2:
      case 3: // insert something hostile
        s = s.slice(0, at) + pick(INSERTS) + s.slice(at);
        break;
      case 4: {
        // duplicate a segment somewhere
        const from = int(s.length + 1);
        const seg = s.slice(from, from + 1 + int(40));
        const to = int(s.length + 1);
        s = s.slice(0, to) + seg + s.slice(to);
        break;
      }
      default: // delete a segment
        s = s.slice(0, at) + s.slice(at + 1 + int(20));
    }
  }
  return s;
}

function mutateBase64(s: string): string {
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    const at = int(s.length);
    switch (int(5)) {
      case 0:
      case 1: // flip to another base64 character: valid base64, garbage ciphertext
        s = s.slice(0, at) + pick([...B64]) + s.slice(at + 1);
        break;
      case 2: // truncate, keeping base64 alignment half the time
        s = int(2) === 0 ? s.slice(0, at - (at % 4)) : s.slice(0, at);
        break;
      case 3:
        s = s.slice(0, at) + pick(["=", "==", "!", " ", "-", "_", "AAAA", "\n"]) + s.slice(at);
        break;
      default: {
        const from = int(s.length);
        s = s.slice(0, from) + s.slice(from, from + 4 * (1 + int(8))) + s.slice(from);
      }
    }
  }
  return s;
}

const aesKey = deriveAesKey(KEY);
function rawEncrypt(plain: Buffer): string {
  const cipher = createCipheriv("aes-256-cbc", aesKey, aesKey.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
}

/** Mutates the decrypted frame (random ‖ length ‖ msg ‖ appid ‖ padding) and re-encrypts it raw. */
function mutateFrame(xml: string): string {
  const msg = Buffer.from(xml);
  const unpadded = 20 + msg.length + APP_ID.length;
  const pad = 32 - (unpadded % 32);
  const frame = Buffer.concat([Buffer.alloc(16, 0x61), Buffer.alloc(4), msg, Buffer.from(APP_ID), Buffer.alloc(pad, pad)]);
  frame.writeUInt32BE(msg.length, 16);
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    switch (int(5)) {
      case 0: // a padding byte
        frame[frame.length - 1 - int(pad + 1)] = int(256);
        break;
      case 1: // the length field
        frame.writeUInt32BE(pick([0, msg.length - 1, msg.length + 1, msg.length + APP_ID.length, 0xffffffff, int(2 ** 32)]), 16);
        break;
      case 2: // an AppID byte
        frame[20 + msg.length + int(APP_ID.length)] = int(256);
        break;
      case 3: // a message byte
        frame[20 + int(msg.length)] = int(256);
        break;
      default: // the last byte: padding value out of range
        frame[frame.length - 1] = pick([0, 33, 255, 16, 32]);
    }
  }
  return rawEncrypt(frame);
}

function plainRequest(body: string): PushRequest {
  return { query: { signature: computeSignature(TOKEN, TS, NONCE), timestamp: TS, nonce: NONCE }, body };
}

function encryptedRequest(
  encrypt: string,
  envelope = `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
): PushRequest {
  const signed = plainRequest(envelope);
  return { ...signed, query: { ...signed.query, encrypt_type: "aes", msg_signature: computeMsgSignature(TOKEN, TS, NONCE, encrypt) } };
}

const encrypt = (xml: string) => encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml, random16: rng.bytes(16) });

function makeRequest(i: number): PushRequest {
  const seed = pick(SEEDS);
  switch (i % 5) {
    case 0: // plain body
      return plainRequest(mutateText(seed));
    case 1: // decrypted XML
      return encryptedRequest(encrypt(mutateText(seed)));
    case 2: // base64 of Encrypt
      return encryptedRequest(mutateBase64(encrypt(seed)));
    case 3: {
      // the envelope around a valid Encrypt; sign whatever Encrypt the envelope still yields
      const enc = encrypt(seed);
      const envelope = mutateText(`<xml>\n<ToUserName><![CDATA[gh_1]]></ToUserName>\n<Encrypt><![CDATA[${enc}]]></Encrypt>\n</xml>`);
      let signed = enc;
      if (int(2) === 0) {
        try {
          signed = parsePushXml(envelope).Encrypt ?? enc;
        } catch {
          // unparseable: the receiver must say so
        }
      }
      return encryptedRequest(signed, envelope);
    }
    default: // bytes of the plaintext frame: padding, length field, AppID
      return encryptedRequest(mutateFrame(seed));
  }
}

const KNOWN_CODES: readonly string[] = ERROR_CODES;
const KINDS: readonly string[] = PUSH_MESSAGE_KINDS;

function checkMessage(m: PushMessage): void {
  if (!KINDS.includes(m.kind)) throw new Error(`unknown kind ${String(m.kind)}`);
  if (typeof m.openId !== "string" || m.openId === "" || typeof m.originalId !== "string" || m.originalId === "") throw new Error("missing ids");
  if (!Number.isSafeInteger(m.createTime) || m.createTime < 0) throw new Error(`bad createTime ${m.createTime}`);
  if (typeof m.dedupeKey !== "string" || !m.dedupeKey.startsWith(`${m.openId}|`)) throw new Error("bad dedupeKey");
  if (m.kind === "scan" && (m.scene.str === "" || (m.scene.id !== undefined && String(m.scene.id) !== m.scene.str))) throw new Error("bad scene");
}

describe("open: mutation fuzzing", () => {
  it(`returns a PushMessage or throws a coded QrError for ${ITERATIONS} mutated pushes`, () => {
    // requireEncryption: false, so the plain mutations reach the parser too.
    const receiver = createPushReceiver({
      token: TOKEN,
      appId: APP_ID,
      encodingAESKey: KEY,
      requireEncryption: false,
      now: () => NOW_S * 1000,
      random: createSeededRandom(1),
    });
    const outcomes = new Map<ErrorCode | "ok", number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const request = makeRequest(i);
      let outcome: ErrorCode | "ok";
      try {
        const { message, reply: replyWith } = receiver.open(request);
        checkMessage(message);
        const reply = replyWith("ok");
        if (reply.contentType !== "application/xml" && reply.body !== "success") throw new Error("bad reply");
        outcome = "ok";
      } catch (e) {
        if (!(e instanceof QrError) || !KNOWN_CODES.includes(e.code)) {
          throw new Error(`iteration ${i}: ${String(e)}\nbody: ${JSON.stringify(request.body)}`, { cause: e });
        }
        outcome = e.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // The mutations must reach every layer, not stop at the first check.
    expect(outcomes.get("ok")).toBeGreaterThan(ITERATIONS / 40);
    expect(outcomes.get("PUSH_MALFORMED")).toBeGreaterThan(ITERATIONS / 10);
    expect(outcomes.get("DECRYPT_FAILED")).toBeGreaterThan(ITERATIONS / 20);
    expect(outcomes.get("APPID_MISMATCH")).toBeGreaterThan(0);
    expect(outcomes.get("SIGNATURE_INVALID")).toBeGreaterThan(0);
    expect([...outcomes.keys()].sort()).toEqual(["APPID_MISMATCH", "DECRYPT_FAILED", "PUSH_MALFORMED", "SIGNATURE_INVALID", "ok"]);
  });
});
