import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createPushReceiver } from "./receiver.ts";

// The shared push fixtures (test/fixtures/push/, see its README) must stay openable by the receiver.
const DIR = new URL("../../test/fixtures/push/", import.meta.url);
const QUERY = { signature: "76480565cbe296026c53aaacd1ad523a1ddba24f", timestamp: "1409304348", nonce: "xxxxxx" };
const ENCRYPTED = { ...QUERY, encrypt_type: "aes", msg_signature: "e7d01d4a2a34e9c43bf40a8cf8143b46f43c25a3" };

const expected: Record<string, object> = {
  "click-menu.xml": { kind: "other", event: "CLICK" },
  "scan-scene-id.xml": { kind: "scan", isNewFollower: false, scene: { str: "123123", id: 123123 } },
  "scan-scene-str.xml": { kind: "scan", isNewFollower: false, scene: { str: "car" } },
  "subscribe-pay.xml": { kind: "subscribe", eventKey: "last_trade_no_4008072001201701105817415015" },
  "subscribe-plain.xml": { kind: "subscribe", eventKey: undefined },
  "subscribe-scene-id.xml": { kind: "scan", isNewFollower: true, scene: { str: "123123", id: 123123 } },
  "subscribe-scene-id-compatible.xml": { kind: "scan", isNewFollower: true, encrypted: true, ticket: "TICKET" },
  "subscribe-scene-id-safe.xml": { kind: "scan", isNewFollower: true, encrypted: true, ticket: "TICKET" },
  "subscribe-scene-str.xml": { kind: "scan", isNewFollower: true, scene: { str: "car" } },
  "text-message.xml": { kind: "other", msgType: "text", dedupeKey: "oia2TjjewbmiOUlr6X-1crbLOvLw|1409304348|msg|1234567890123456" },
  "unsubscribe-plain.xml": { kind: "unsubscribe" },
};

describe("test/fixtures/push", () => {
  const receiver = createPushReceiver({
    token: "pamtest",
    appId: "wxb11529c136998cb6",
    encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    requireEncryption: false, // plain and encrypted fixtures alike, as during a migration
    now: () => 1409304348_000,
  });

  it("has an expectation for every fixture", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".xml"));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))("opens %s", (file, shape) => {
    const body = readFileSync(new URL(file, DIR));
    const query = file.includes("-safe") || file.includes("-compatible") ? ENCRYPTED : QUERY;
    expect(receiver.open({ query, body }).message).toMatchObject({
      originalId: "gh_7f083739789a",
      openId: "oia2TjjewbmiOUlr6X-1crbLOvLw",
      createTime: 1409304348,
      ...shape,
    });
  });
});
