import { describe, expect, it } from "vitest";
import { createSeededRandom } from "../deps.ts";
import { validationFieldOf } from "../../test/helpers/validation.ts";
import { channelCodeInput, checkCodeSpec, newImageToken, renewalLeadMs, renewalPoint, sameSpec } from "./channel-codes.ts";

const DAY_MS = 86_400_000;

describe("a channel's code spec", () => {
  it("takes permanent, or temporary for 1 to 30 days; renew defaults to false, or on a change to the channel's own", () => {
    expect(checkCodeSpec({ type: "permanent" })).toEqual({ type: "permanent" });
    expect(checkCodeSpec({ type: "temporary", days: 1 })).toEqual({ type: "temporary", days: 1, renew: false });
    expect(checkCodeSpec({ type: "temporary", days: 30, renew: true })).toEqual({ type: "temporary", days: 30, renew: true });
    expect(checkCodeSpec({ type: "temporary", days: 5 }, { type: "temporary", days: 3, renew: true })).toEqual({ type: "temporary", days: 5, renew: true });
    expect(checkCodeSpec({ type: "temporary", days: 5 }, { type: "permanent" })).toEqual({ type: "temporary", days: 5, renew: false });
  });

  it("names the field at fault", () => {
    for (const days of [0, 31, 2.5, "3", undefined, null]) expect(validationFieldOf(() => checkCodeSpec({ type: "temporary", days }))).toBe("code.days");
    expect(validationFieldOf(() => checkCodeSpec({ type: "temporary", days: 3, renew: "yes" }))).toBe("code.renew");
    expect(validationFieldOf(() => checkCodeSpec({ type: "permanent", renew: true }))).toBe("code.renew");
    expect(validationFieldOf(() => checkCodeSpec({ type: "permanent", days: 3 }))).toBe("code.days");
    expect(validationFieldOf(() => checkCodeSpec({ type: "weekly" }))).toBe("code.type");
    expect(validationFieldOf(() => checkCodeSpec("temporary"))).toBe("code");
  });

  it("tells a change of days or renew from none", () => {
    expect(sameSpec({ type: "permanent" }, { type: "permanent" })).toBe(true);
    expect(sameSpec({ type: "temporary", days: 3, renew: true }, { type: "temporary", days: 3, renew: true })).toBe(true);
    expect(sameSpec({ type: "temporary", days: 3, renew: true }, { type: "temporary", days: 3, renew: false })).toBe(false);
    expect(sameSpec({ type: "temporary", days: 3, renew: true }, { type: "temporary", days: 4, renew: true })).toBe(false);
    expect(sameSpec({ type: "permanent" }, { type: "temporary", days: 3, renew: false })).toBe(false);
  });
});

describe("renewal", () => {
  it("falls due a day before expiry, a 1-day code at half its life, and never for a permanent or non-renewing code", () => {
    expect(renewalLeadMs(1)).toBe(DAY_MS / 2);
    expect(renewalLeadMs(2)).toBe(DAY_MS);
    expect(renewalLeadMs(30)).toBe(DAY_MS);
    expect(renewalPoint({ type: "temporary", days: 7, renew: true }, { expiresAt: 10 * DAY_MS })).toBe(9 * DAY_MS);
    expect(renewalPoint({ type: "temporary", days: 1, renew: true }, { expiresAt: 10 * DAY_MS })).toBe(9.5 * DAY_MS);
    expect(renewalPoint({ type: "temporary", days: 7, renew: false }, { expiresAt: 10 * DAY_MS })).toBeNull();
    expect(renewalPoint({ type: "permanent" }, { expiresAt: null })).toBeNull();
  });

  it("asks for a temporary code of the channel's days, owned by the channel", () => {
    expect(channelCodeInput({ type: "temporary", days: 3, renew: true }, { id: "ch_1", name: "live" })).toEqual({
      type: "temporary",
      expireSeconds: 259_200,
      label: "channel: live",
      owner: { kind: "channel", id: "ch_1" },
    });
    expect(channelCodeInput({ type: "permanent" }, { id: "ch_1", name: "live" })).toEqual({
      type: "permanent",
      label: "channel: live",
      owner: { kind: "channel", id: "ch_1" },
    });
  });
});

describe("image tokens", () => {
  it("are 128 bits from the injected randomness, URL-safe, and differ", () => {
    const random = createSeededRandom(1);
    const tokens = Array.from({ length: 100 }, () => newImageToken(random));
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(tokens[0]!, "base64url")).toHaveLength(16);
    expect(new Set(tokens).size).toBe(100);
    expect(newImageToken(createSeededRandom(1))).toBe(tokens[0]);
  });
});
