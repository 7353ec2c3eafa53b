import { describe, expect, it } from "vitest";
import { PushFormatError } from "../errors.ts";
import { CREATE_TIME_MAX_SEC, parseScene, toPushMessage } from "./events.ts";
import type { PushMessage } from "./events.ts";

const base = { ToUserName: "gh_abc", FromUserName: "oUser", CreateTime: "1700000000", MsgType: "event" };
const msg = (extra: Record<string, string>, encrypted = false): PushMessage => toPushMessage({ ...base, ...extra }, encrypted);

describe("toPushMessage", () => {
  it("turns subscribe + qrscene_ into a scan by a new follower", () => {
    const m = msg({ Event: "subscribe", EventKey: "qrscene_123123", Ticket: "TICKET" }, true);
    expect(m).toEqual({
      kind: "scan",
      openId: "oUser",
      originalId: "gh_abc",
      createTime: 1700000000,
      encrypted: true,
      isNewFollower: true,
      scene: { str: "123123", id: 123123 },
      ticket: "TICKET",
      dedupeKey: "oUser|1700000000|subscribe|qrscene_123123",
      event: "subscribe",
      eventKeyAsSent: "qrscene_123123",
      raw: { ...base, Event: "subscribe", EventKey: "qrscene_123123", Ticket: "TICKET" },
    });
  });

  it("turns SCAN into a scan by an existing follower, EventKey verbatim", () => {
    const m = msg({ Event: "SCAN", EventKey: "qrscene_car", Ticket: "T" });
    expect(m.kind === "scan" && m.isNewFollower).toBe(false);
    expect(m.kind === "scan" && m.scene).toEqual({ str: "qrscene_car" });
    expect(m.dedupeKey).toBe("oUser|1700000000|SCAN|qrscene_car");
  });

  it("compares Event case-insensitively", () => {
    expect(msg({ Event: "scan", EventKey: "1" }).kind).toBe("scan");
    expect(msg({ Event: "Subscribe", EventKey: "qrscene_1" }).kind).toBe("scan");
    expect(msg({ Event: "UNSUBSCRIBE" }).kind).toBe("unsubscribe");
    expect(toPushMessage({ ...base, MsgType: "EVENT", Event: "unsubscribe" }, false).kind).toBe("unsubscribe");
  });

  it("strips only the one leading qrscene_", () => {
    const m = msg({ Event: "subscribe", EventKey: "qrscene_qrscene_x" });
    expect(m.kind === "scan" && m.scene).toEqual({ str: "qrscene_x" });
  });

  it("treats a subscribe whose EventKey is not a scene as a plain follow", () => {
    const m = msg({ Event: "subscribe", EventKey: "last_trade_no_4008072001201701105817415015" });
    expect(m.kind).toBe("subscribe");
    expect(m.kind === "subscribe" && m.eventKey).toBe("last_trade_no_4008072001201701105817415015");
    expect(msg({ Event: "subscribe", EventKey: "QRSCENE_1" }).kind).toBe("subscribe");
    expect(msg({ Event: "subscribe", EventKey: "qrscene_" }).kind).toBe("subscribe");
  });

  it("gives an absent or empty EventKey as undefined", () => {
    const a = msg({ Event: "subscribe", EventKey: "" });
    const b = msg({ Event: "subscribe" });
    expect(a.kind === "subscribe" && a.eventKey).toBeUndefined();
    expect(b.kind === "subscribe" && b.eventKey).toBeUndefined();
    expect(a.dedupeKey).toBe("oUser|1700000000|subscribe|");
  });

  it("keeps Event and EventKey as sent on every kind, an empty EventKey apart from none", () => {
    expect(msg({ Event: "subscribe", EventKey: "" })).toMatchObject({ kind: "subscribe", event: "subscribe", eventKeyAsSent: "" });
    expect(msg({ Event: "subscribe" })).toMatchObject({ kind: "subscribe", event: "subscribe", eventKeyAsSent: undefined });
    expect(msg({ Event: "SCAN", EventKey: "7" })).toMatchObject({ kind: "scan", event: "SCAN", eventKeyAsSent: "7" });
    expect(msg({ Event: "unsubscribe", EventKey: "" })).toMatchObject({ kind: "unsubscribe", event: "unsubscribe", eventKeyAsSent: "" });
    expect(msg({ Event: "CLICK", EventKey: "V1" })).toMatchObject({ kind: "other", event: "CLICK", eventKeyAsSent: "V1" });
  });

  it("gives an empty Ticket as undefined", () => {
    const m = msg({ Event: "SCAN", EventKey: "1", Ticket: "" });
    expect(m.kind === "scan" && m.ticket).toBeUndefined();
  });

  it("passes a SCAN without a scene on as other", () => {
    const m = msg({ Event: "SCAN", EventKey: "" });
    expect(m.kind).toBe("other");
  });

  it("passes unknown events on whole as other", () => {
    const m = msg({ Event: "CLICK", EventKey: "V1001_TODAY_MUSIC" });
    expect(m).toMatchObject({ kind: "other", msgType: "event", event: "CLICK", fields: { EventKey: "V1001_TODAY_MUSIC" } });
    expect(m.dedupeKey).toBe("oUser|1700000000|CLICK|V1001_TODAY_MUSIC");
    expect(m.kind === "other" && m.fields).toBe(m.raw);
  });

  it("passes an event without Event on as other", () => {
    expect(msg({}).kind).toBe("other");
    expect(msg({}).dedupeKey).toBe("oUser|1700000000||");
  });

  it("keys normal messages on MsgId", () => {
    const m = toPushMessage({ ...base, MsgType: "text", Content: "hi", MsgId: "12345" }, false);
    expect(m).toMatchObject({ kind: "other", msgType: "text", event: undefined, content: "hi", msgId: "12345", dedupeKey: "oUser|1700000000|msg|12345" });
    const n = toPushMessage({ ...base, MsgType: "text", Content: "hi" }, false);
    expect(n.dedupeKey).toBe("oUser|1700000000|text|");
  });

  it.each(["ToUserName", "FromUserName", "CreateTime", "MsgType"])("refuses a push without %s, naming it", (field) => {
    for (const fields of [{ ...base, [field]: "" }, Object.fromEntries(Object.entries(base).filter(([k]) => k !== field))]) {
      try {
        toPushMessage(fields, false);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(PushFormatError);
        expect((e as PushFormatError).code).toBe("PUSH_MALFORMED");
        expect((e as PushFormatError).field).toBe(field);
      }
    }
  });

  it.each(["12a", "-1", "1.5", " 1", "1e9", "0x10", "1234567890123456", "999999999999999", "4294967296"])("refuses CreateTime %j", (createTime) => {
    try {
      toPushMessage({ ...base, CreateTime: createTime }, false);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PushFormatError);
      expect((e as PushFormatError).field).toBe("CreateTime");
    }
  });
});

describe("CreateTime's range", () => {
  it("accepts the last second of the unsigned 32-bit range", () => {
    expect(toPushMessage({ ...base, CreateTime: String(CREATE_TIME_MAX_SEC) }, false).createTime).toBe(4_294_967_295);
  });
});

describe("parseScene", () => {
  it.each([
    ["0", 0],
    ["1", 1],
    ["100000", 100000],
    ["4294967295", 4294967295],
  ])("gives %s an id", (str, id) => {
    expect(parseScene(str)).toEqual({ str, id });
  });

  it.each(["007", "00", "-1", "+1", "1.0", "1e3", "4294967296", "99999999999", "", " 1", "１２３", "car"])("gives %j only a str", (str) => {
    const scene = parseScene(str);
    expect(scene).toEqual({ str });
    expect("id" in scene).toBe(false);
  });
});
