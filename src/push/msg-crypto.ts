/**
 * WeChat message encryption for safe and compatible mode (wechat-api.md §6; OP-TECH).
 *
 * - AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[0..16), no library padding;
 * - PKCS#7 with a 32-byte block (pad values 1..32: a 16-byte unpad rejects valid messages);
 * - plaintext = random(16) ‖ uint32 BE byte length of msg ‖ msg (UTF-8) ‖ AppID.
 *
 * The 16 random bytes are an argument, so encrypted fixtures and replies are byte-stable
 * (style.md §5). The emulator encrypts pushes with the same functions; WeChat's published
 * vectors keep both sides honest.
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { isUtf8 } from "node:buffer";
import { ConfigError, DecryptError, SignatureError, ValidationError } from "../errors.ts";

/** PKCS#7 block size WeChat uses: 32 bytes, not AES's 16. */
const PAD_BLOCK = 32;
/** random(16) ‖ msg_len(4) */
const HEADER_BYTES = 20;
const ENCODING_AES_KEY_RE = /^[A-Za-z0-9]{43}$/;

/**
 * Turns the 43-character EncodingAESKey from the Official Account console into the 32-byte AES key.
 * @throws ConfigError when the key is not 43 characters of [A-Za-z0-9].
 * @example
 * const key = deriveAesKey("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"); // 32 bytes
 */
export function deriveAesKey(encodingAESKey: string): Buffer {
  if (typeof encodingAESKey !== "string" || !ENCODING_AES_KEY_RE.test(encodingAESKey)) {
    throw new ConfigError([
      {
        key: "WECHAT_ENCODING_AES_KEY",
        message: "must be the 43-character EncodingAESKey (letters and digits) from the Official Account console",
      },
    ]);
  }
  return Buffer.from(`${encodingAESKey}=`, "base64");
}

/**
 * Encrypts with an already derived key. The receiver uses this to avoid re-deriving per reply.
 * @example
 * encryptWithKey(deriveAesKey(aesKey), "wx…", "<xml>…</xml>", random.bytes(16));
 */
export function encryptWithKey(key: Buffer, appId: string, xml: string, random16: Uint8Array): string {
  if (random16.length !== 16) throw new ValidationError("random16", "must be exactly 16 bytes");
  const msg = Buffer.from(xml, "utf8");
  const app = Buffer.from(appId, "utf8");
  const unpadded = HEADER_BYTES + msg.length + app.length;
  const pad = PAD_BLOCK - (unpadded % PAD_BLOCK); // 1..32: a whole block of 32 when already aligned
  const plain = Buffer.allocUnsafe(unpadded + pad);
  plain.set(random16, 0);
  plain.writeUInt32BE(msg.length, 16);
  msg.copy(plain, HEADER_BYTES);
  app.copy(plain, HEADER_BYTES + msg.length);
  plain.fill(pad, unpadded);
  const cipher = createCipheriv("aes-256-cbc", key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
}

/**
 * Encrypts a message exactly as WeChat does and returns the base64 `Encrypt` value.
 * @example
 * encryptMessage({
 *   encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
 *   appId: "wxb11529c136998cb6",
 *   xml: "我是中文abcd123",
 *   random16: Buffer.from("aaaabbbbccccdddd"),
 * }); // "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
 */
export function encryptMessage(input: { encodingAESKey: string; appId: string; xml: string; random16: Uint8Array }): string {
  return encryptWithKey(deriveAesKey(input.encodingAESKey), input.appId, input.xml, input.random16);
}

/** What a ciphertext holds, before the AppID check. */
export interface DecryptedParts {
  random16: Buffer;
  xml: string;
  appId: string;
}

/**
 * Decrypts and unpacks a ciphertext without checking the AppID (callers must: see `decryptWithKey`).
 * Only call it after `msg_signature` has verified, so no padding oracle is exposed.
 * @throws DecryptError for bad base64, a length that is not a whole number of 32-byte blocks,
 * bad PKCS#7 padding, or a length field that runs past the buffer.
 * @example
 * decryptParts(deriveAesKey(aesKey), encrypt).random16; // the sender's 16 random bytes
 */
export function decryptParts(key: Buffer, encrypt: string): DecryptedParts {
  const data = Buffer.from(encrypt, "base64");
  // Canonical base64 only: the decoder silently skips junk (spaces, "-", "_", missing "="), which
  // would hide corruption; re-encoding is cheaper than a regular expression over the whole value.
  if (data.toString("base64") !== encrypt) throw new DecryptError("Encrypt is not valid base64; the push was corrupted in transit");
  if (data.length === 0 || data.length % PAD_BLOCK !== 0) {
    throw new DecryptError(`ciphertext of ${data.length} bytes is not a whole number of ${PAD_BLOCK}-byte blocks; the push was truncated or corrupted`);
  }
  const decipher = createDecipheriv("aes-256-cbc", key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  // Whole blocks and no library padding: update() returns all of it, final() nothing (no copy to join).
  const plain = decipher.update(data);
  decipher.final();
  const pad = plain[plain.length - 1]!;
  const wrongKey = "does WECHAT_ENCODING_AES_KEY match the EncodingAESKey in the Official Account console?";
  if (pad < 1 || pad > PAD_BLOCK) throw new DecryptError(`bad padding after decryption: ${wrongKey}`);
  for (let i = plain.length - pad; i < plain.length - 1; i++) {
    if (plain[i] !== pad) throw new DecryptError(`bad padding after decryption: ${wrongKey}`);
  }
  const end = plain.length - pad;
  if (end < HEADER_BYTES) throw new DecryptError(`decrypted message is too short: ${wrongKey}`);
  const msgLen = plain.readUInt32BE(16);
  if (msgLen > end - HEADER_BYTES) throw new DecryptError(`decrypted length field runs past the message: ${wrongKey}`);
  const msg = plain.subarray(HEADER_BYTES, HEADER_BYTES + msgLen);
  const app = plain.subarray(HEADER_BYTES + msgLen, end);
  if (!isUtf8(msg) || !isUtf8(app)) throw new DecryptError(`decrypted message is not UTF-8: ${wrongKey}`);
  return { random16: plain.subarray(0, 16), xml: msg.toString("utf8"), appId: app.toString("utf8") };
}

/**
 * Decrypts with an already derived key and checks the AppID at the end of the plaintext.
 * @throws DecryptError (see `decryptParts`); SignatureError code APPID_MISMATCH when the AppID differs.
 * @example
 * decryptWithKey(deriveAesKey(aesKey), "wxb11529c136998cb6", encrypt); // "<xml>…</xml>"
 */
export function decryptWithKey(key: Buffer, appId: string, encrypt: string): string {
  const parts = decryptParts(key, encrypt);
  if (parts.appId !== appId) {
    throw new SignatureError(
      "the AppID inside the encrypted push differs from the configured one: is WECHAT_APP_ID the AppID of the account whose EncodingAESKey is configured?",
      "APPID_MISMATCH",
    );
  }
  return parts.xml;
}

/**
 * Decrypts a base64 `Encrypt` value and returns the message XML.
 * @throws ConfigError for a malformed key; DecryptError; SignatureError code APPID_MISMATCH.
 * @example
 * decryptMessage({ encodingAESKey, appId: "wxb11529c136998cb6", encrypt }); // "<xml>…</xml>"
 */
export function decryptMessage(input: { encodingAESKey: string; appId: string; encrypt: string }): string {
  return decryptWithKey(deriveAesKey(input.encodingAESKey), input.appId, input.encrypt);
}
