import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { webhookEventId } from "./webhook-outbox.ts";
import { signWebhook, verifyWebhookSignature } from "./webhook-signature.ts";

const SECRET = "whsec-0123456789abcdef";
const BODY = '{"id":"evt_1","type":"scan","occurredAt":"2026-11-25T04:00:00.000Z","openId":"o1","data":{}}';
const T = 1_795_000_000;
const now = T * 1000;

describe("webhook signatures", () => {
  it("signs HMAC-SHA256 over `<t>.<body>`, as a receiver can recompute by hand", () => {
    const expected = createHmac("sha256", SECRET).update(`${T}.${BODY}`).digest("hex");
    expect(signWebhook(BODY, SECRET, T)).toBe(`t=${T},v1=${expected}`);
  });

  it("accepts the exact body, as a string or bytes, within the tolerance", () => {
    const header = signWebhook(BODY, SECRET, T);
    expect(verifyWebhookSignature(BODY, header, SECRET, { now })).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(BODY), header, SECRET, { now: now + 299_000 })).toBe(true);
    expect(verifyWebhookSignature(BODY, ` t=${T} , v1=${"0".repeat(64)}, v1=${header.split("v1=")[1]}`, SECRET, { now })).toBe(true);
  });

  it("refuses another body, another secret, an old or future timestamp, and malformed headers", () => {
    const header = signWebhook(BODY, SECRET, T);
    expect(verifyWebhookSignature(`${BODY} `, header, SECRET, { now })).toBe(false);
    expect(verifyWebhookSignature(BODY, header, "another-secret-000000", { now })).toBe(false);
    expect(verifyWebhookSignature(BODY, header, SECRET, { now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature(BODY, header, SECRET, { now: now - 301_000 })).toBe(false);
    expect(verifyWebhookSignature(BODY, header, SECRET, { now: now + 3_000_000, toleranceSec: 3_600 })).toBe(true);
    for (const bad of [undefined, null, "", "t=abc,v1=00", `v1=${header.split("v1=")[1]}`, `t=${T}`, `t=${T},v1=xyz`]) {
      expect(verifyWebhookSignature(BODY, bad, SECRET, { now })).toBe(false);
    }
  });
});

describe("webhook event ids", () => {
  it("derives the same id from the same event, and different ids for another kind, key or account", () => {
    const id = webhookEventId("wxA", "o1|1795000000|subscribe", "scan");
    expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(webhookEventId("wxA", "o1|1795000000|subscribe", "scan")).toBe(id);
    expect(
      new Set([
        id,
        webhookEventId("wxA", "o1|1795000000|subscribe", "new_follower"),
        webhookEventId("wxB", "o1|1795000000|subscribe", "scan"),
        webhookEventId("wxA", "o1|1795000001|subscribe", "scan"),
      ]).size,
    ).toBe(4);
  });
});
