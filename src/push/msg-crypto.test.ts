import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, DecryptError, SignatureError, ValidationError } from "../errors.ts";
import { decryptMessage, decryptParts, decryptWithKey, deriveAesKey, encryptMessage } from "./msg-crypto.ts";

// wechat-api.md §6 "Test vectors": V1 (official WXBizMsgCrypt sample), V2 (EasyWeChat), V6 (derived).
const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID = "wxb11529c136998cb6";
const RANDOM16 = Buffer.from("aaaabbbbccccdddd");

const V1A_MSG = "我是中文abcd123";
const V1A_ENCRYPT = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
const V1B_MSG =
  "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
const V1B_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";
const V2_ENCRYPT =
  "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==";
const V2_XML =
  "<xml><URL><![CDATA[http://wechat.laravel.so/server]]></URL><ToUserName><![CDATA[asdasdasd]]></ToUserName><FromUserName><![CDATA[asdasdasdsadasd]]></FromUserName><CreateTime>1234567898</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>12345</MsgId></xml>";
const V6_XML =
  "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>";
const V6_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv23bYF/d/cxBf0szhrD8BQ1MkorjFwC0rHlVODYXVB9IoGQ4CNo1VHAn/QmUDCsvVe82eyvUkmySBcDgs5PbFfKp2ePVamowQeOGiTDxQxfc0zZvbaYk0COUUiAaB/IEopgGDDJSgveMJDjHgkBx4Nx81IIBG9qe74QCHJuxFckKhp7Cuj2X7i4f9smx6Yw1aazrdxDv91w7cHwKTq8lVDIk/zuyq0ezzh3Xbdy23KenwkyrhtC4kJo7kB+ldn4/GO1SItIgZv3tgje6//fMu9F6enbRCzdYUxx/r+6rWoDS+tu+IsbMk44+4keY9yTnmgGCj1jLkjHS5iqR32YnP0dH3cG0WOGT04fyYH9R4gjOceILmUF+eXMFiSnIsOvOZzXQegH9nVOwrEaL2/dfAE6GR1eAGGsurIJ7/d7BZVsiDXJxXbVbRmnZWObU561ufa/WD5hjuGqCASNAnpvt8+W2nQ8pGJqSgBcqMmJUr0fL0";
const V6_REPLY_XML =
  "<xml><ToUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[welcome]]></Content></xml>";
const V6_REPLY_ENCRYPT =
  "jn1L23DB+6ELqJ+6bruv2w4sePYQdD6NGsLnUAZaXUMQ9GZqG3LR/7dHyqhL7uoRUYsml20OUichn6ld2qdUhxRnRtvamXVbM3CZESAk1hl6hDCHKLIOkgc10b7FnnR9275CjFHt1hiXYmARo9erPNPBLGaJmlytHj7fUhR/IU00NTh8aIa91xcOxwCpo9zpTRxoYOK7f7P1SO6JEywYiQedWxI+TiDsv68OQHR9EDasETWrLGgAnjkceiIvRtiGugBW0WYrJ71KuUcyRjqXRYmaxOQHapOac9wXuUd/XkFWKDF+FQQSxVld0dcTRDim1w0k802Nhcblf29Tz++DRHecjj85uxOt89xR+xzCRdHJtmFFmOE3hSzWSqj1ao3/";

const aesKey = deriveAesKey(KEY);

/** AES-256-CBC with WeChat's key/IV and no padding at all: lets a test craft any plaintext bytes. */
function rawEncrypt(plain: Buffer): string {
  const cipher = createCipheriv("aes-256-cbc", aesKey, aesKey.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
}

/** random16 ‖ len ‖ msg ‖ appid, followed by the given padding bytes (total must be a multiple of 16). */
function framed(msg: string, appId: string, padding: number[], lenOverride?: number): Buffer {
  const m = Buffer.from(msg);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(lenOverride ?? m.length);
  return Buffer.concat([RANDOM16, len, m, Buffer.from(appId), Buffer.from(padding)]);
}

function padFor(msg: string, appId: string): number[] {
  const n = 32 - ((20 + Buffer.byteLength(msg) + Buffer.byteLength(appId)) % 32);
  return Array<number>(n).fill(n);
}

describe("encryptMessage / decryptMessage: published vectors", () => {
  it("reproduces V1a byte for byte with the fixed random aaaabbbbccccdddd", () => {
    expect(encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: V1A_MSG, random16: RANDOM16 })).toBe(V1A_ENCRYPT);
    expect(decryptMessage({ encodingAESKey: KEY, appId: APP_ID, encrypt: V1A_ENCRYPT })).toBe(V1A_MSG);
  });

  it("reproduces V1b (length counts UTF-8 bytes: 435) and decrypts it back", () => {
    expect(Buffer.byteLength(V1B_MSG)).toBe(435);
    expect(encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: V1B_MSG, random16: RANDOM16 })).toBe(V1B_ENCRYPT);
    expect(decryptMessage({ encodingAESKey: KEY, appId: APP_ID, encrypt: V1B_ENCRYPT })).toBe(V1B_MSG);
  });

  it("decrypts V2 (pad 21) with its random prefix d43123b161a4ba84", () => {
    const parts = decryptParts(aesKey, V2_ENCRYPT);
    expect(parts.random16.toString("latin1")).toBe("d43123b161a4ba84");
    expect(parts.appId).toBe(APP_ID);
    expect(parts.xml).toBe(V2_XML);
    expect(decryptMessage({ encodingAESKey: KEY, appId: APP_ID, encrypt: V2_ENCRYPT })).toBe(V2_XML);
    // Re-encrypting with that prefix gives the same bytes, so our framing and 32-byte padding match EasyWeChat's.
    expect(encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: V2_XML, random16: parts.random16 })).toBe(V2_ENCRYPT);
  });

  it("reproduces V6's push and reply ciphertexts", () => {
    expect(encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: V6_XML, random16: RANDOM16 })).toBe(V6_ENCRYPT);
    expect(decryptMessage({ encodingAESKey: KEY, appId: APP_ID, encrypt: V6_ENCRYPT })).toBe(V6_XML);
    expect(encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: V6_REPLY_XML, random16: RANDOM16 })).toBe(V6_REPLY_ENCRYPT);
  });

  it("adds a whole 32-byte block of padding when the plaintext is already aligned", () => {
    const msg = "x".repeat(32 - 20 - APP_ID.length + 32); // 20 + msg + appid = 64
    const encrypt = encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: msg, random16: RANDOM16 });
    expect(Buffer.from(encrypt, "base64").length).toBe(96);
    expect(decryptMessage({ encodingAESKey: KEY, appId: APP_ID, encrypt })).toBe(msg);
  });

  it("round-trips an empty message", () => {
    const encrypt = encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: "", random16: RANDOM16 });
    expect(decryptMessage({ encodingAESKey: KEY, appId: APP_ID, encrypt })).toBe("");
  });
});

describe("deriveAesKey", () => {
  it("gives 32 bytes for a 43-character key", () => {
    expect(deriveAesKey(KEY)).toHaveLength(32);
  });

  it.each([
    ["short", KEY.slice(1)],
    ["long", `${KEY}A`],
    ["non-alphanumeric", `${KEY.slice(1)}+`],
    ["empty", ""],
  ])("rejects a %s key with a ConfigError naming WECHAT_ENCODING_AES_KEY", (_name, key) => {
    const err = (() => {
      try {
        deriveAesKey(key);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("CONFIG_INVALID");
    expect((err as ConfigError).problems.map((p) => p.key)).toEqual(["WECHAT_ENCODING_AES_KEY"]);
  });
});

describe("decryption refuses damaged ciphertexts", () => {
  const decrypt = (encrypt: string) => () => decryptWithKey(aesKey, APP_ID, encrypt);
  const expectDecryptError = (encrypt: string) => {
    expect(decrypt(encrypt)).toThrow(DecryptError);
    try {
      decrypt(encrypt)();
    } catch (e) {
      expect((e as DecryptError).code).toBe("DECRYPT_FAILED");
    }
  };

  it("accepts a hand-framed message (the helpers below are sound)", () => {
    expect(decryptWithKey(aesKey, APP_ID, rawEncrypt(framed("<xml/>", APP_ID, padFor("<xml/>", APP_ID))))).toBe("<xml/>");
  });

  it("rejects a different AppID inside the ciphertext with APPID_MISMATCH", () => {
    const encrypt = encryptMessage({ encodingAESKey: KEY, appId: "wx0000000000000000", xml: V6_XML, random16: RANDOM16 });
    expect(decrypt(encrypt)).toThrow(SignatureError);
    try {
      decrypt(encrypt)();
    } catch (e) {
      expect((e as SignatureError).code).toBe("APPID_MISMATCH");
    }
  });

  it("rejects non-canonical base64", () => {
    expectDecryptError("!!!!");
    expectDecryptError(`${V6_ENCRYPT.slice(0, 40)} ${V6_ENCRYPT.slice(40)}`);
    expectDecryptError(V6_ENCRYPT.slice(0, -1));
    expectDecryptError("");
  });

  it("rejects a ciphertext that is not a whole number of 32-byte blocks", () => {
    const bytes = Buffer.from(V6_ENCRYPT, "base64");
    expectDecryptError(bytes.subarray(0, bytes.length - 16).toString("base64")); // multiple of 16, not 32
    expectDecryptError(bytes.subarray(0, bytes.length - 3).toString("base64")); // not a multiple of 16
    expectDecryptError(bytes.subarray(0, 8).toString("base64"));
  });

  it("rejects padding 0, 33 and inconsistent padding bytes", () => {
    const msg = "<xml/>"; // 20 + 6 + 18 = 44 → 20 bytes of padding to 64
    expectDecryptError(rawEncrypt(framed(msg, APP_ID, [...Array<number>(19).fill(20), 0])));
    expectDecryptError(rawEncrypt(framed(msg, APP_ID, [...Array<number>(19).fill(20), 33])));
    expectDecryptError(rawEncrypt(framed(msg, APP_ID, [...Array<number>(18).fill(20), 7, 20])));
  });

  it("rejects a length field that runs past the buffer", () => {
    const msg = "<xml/>";
    expectDecryptError(rawEncrypt(framed(msg, APP_ID, padFor(msg, APP_ID), 0xffffffff)));
    expectDecryptError(rawEncrypt(framed(msg, APP_ID, padFor(msg, APP_ID), 6 + APP_ID.length + 1)));
  });

  it("rejects a message shorter than its 20-byte header", () => {
    expectDecryptError(rawEncrypt(Buffer.concat([Buffer.alloc(16, 0x41), Buffer.alloc(16, 16)])));
  });

  it("rejects a message that is not UTF-8", () => {
    const msg = Buffer.from([0xff, 0xfe]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(2);
    const body = Buffer.concat([RANDOM16, len, msg, Buffer.from(APP_ID)]);
    const pad = 32 - (body.length % 32);
    expectDecryptError(rawEncrypt(Buffer.concat([body, Buffer.alloc(pad, pad)])));
  });

  it("rejects ciphertext made with another key (bad padding or garbage framing)", () => {
    const other = encryptMessage({ encodingAESKey: "A".repeat(43), appId: APP_ID, xml: V6_XML, random16: RANDOM16 });
    expect(decrypt(other)).toThrow(DecryptError);
  });

  it("requires exactly 16 random bytes to encrypt", () => {
    expect(() => encryptMessage({ encodingAESKey: KEY, appId: APP_ID, xml: "x", random16: new Uint8Array(15) })).toThrow(ValidationError);
  });
});
