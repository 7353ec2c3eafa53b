import { describe, expect, it } from "vitest";
import { chatItems, USER_NOTICE, type Delivery, type Received } from "./chat.ts";

const T = 1_767_232_800; // epoch seconds
const push = (id: number, event: string, fields: Partial<Delivery> = {}): Delivery => ({
  id,
  openId: "u1",
  event,
  eventKey: "",
  createTime: T,
  outcome: "delivered",
  userSaw: null,
  ...fields,
});
const got = (id: number, fields: Partial<Received>): Received => ({ id, at: T * 1000, via: "customer_service", msgType: "text", ...fields });
const shape = (items: ReturnType<typeof chatItems>) =>
  items.map((i) =>
    i.kind === "reply"
      ? `${i.kind}:${i.text}`
      : i.kind === "image"
        ? `image:${i.src}`
        : i.kind === "action" || i.kind === "status"
          ? `${i.kind}:${i.key}`
          : i.kind,
  );

describe("the phone page's chat", () => {
  it("puts a scan, its passive welcome, then the customer-service text and image in that order, also when the clock stands still", () => {
    const items = chatItems(
      [push(1, "subscribe", { eventKey: "qrscene_7", userSaw: "欢迎" })],
      [
        got(1, { via: "passive_reply", text: "欢迎", deliveryId: 1 }),
        got(2, { text: "这是你的海报" }),
        got(3, { msgType: "image", mediaUrl: "/emulator/media/m1" }),
      ],
    );
    expect(shape(items)).toEqual(["action:youScannedAndFollowed", "reply:欢迎", "reply:这是你的海报", "image:/emulator/media/m1"]);
    expect(items.map((i) => ("via" in i ? i.via : undefined))).toEqual([undefined, "passive_reply", "customer_service", "customer_service"]);
  });

  it("keeps a user's later message after the customer-service messages that came before it", () => {
    const items = chatItems(
      [push(1, "SCAN", { eventKey: "poster", userSaw: "hi" }), push(2, "text", { content: "1", userSaw: "ok" })],
      [got(1, { via: "passive_reply", text: "hi", deliveryId: 1 }), got(2, { text: "follow-up" }), got(3, { via: "passive_reply", text: "ok", deliveryId: 2 })],
    );
    expect(shape(items)).toEqual(["action:youScanned", "reply:hi", "reply:follow-up", "sent", "reply:ok"]);
  });

  it("places a push without a logged reply by its time: before a customer-service message of a later second, after one of the same second", () => {
    const scan = push(1, "SCAN", { eventKey: "a", outcome: "pending" });
    expect(shape(chatItems([scan], [got(1, { at: (T + 1) * 1000, text: "later" })]))).toEqual(["action:youScanned", "status:pending", "reply:later"]);
    expect(shape(chatItems([scan], [got(1, { at: T * 1000 + 500, text: "same second" })]))).toEqual([
      "reply:same second",
      "action:youScanned",
      "status:pending",
    ]);
  });

  it("shows WeChat's notice from the log, and from the delivery when the log no longer has it", () => {
    const failed = push(1, "SCAN", { eventKey: "a", outcome: "failed", userSaw: USER_NOTICE });
    expect(chatItems([failed], [got(1, { via: "passive_reply", msgType: "notice", text: USER_NOTICE, deliveryId: 1 })]).map((i) => i.kind)).toEqual([
      "action",
      "notice",
    ]);
    expect(chatItems([failed], []).map((i) => i.kind)).toEqual(["action", "notice"]);
  });

  it("says the account stayed silent, and shows nothing after an unfollow", () => {
    expect(shape(chatItems([push(1, "subscribe"), push(2, "unsubscribe")], []))).toEqual(["action:youFollowed", "status:noReply", "action:youUnfollowed"]);
  });

  it("turns voice, video and news into placeholders, with a news article's title, and a passive image without bytes too", () => {
    const items = chatItems(
      [],
      [
        got(1, { msgType: "voice", mediaUrl: "/emulator/media/v" }),
        got(2, { msgType: "news", text: "春季活动" }),
        got(3, { via: "passive_reply", msgType: "video", text: "[video]" }),
        got(4, { via: "passive_reply", msgType: "image", text: "[image]" }),
      ],
    );
    expect(items.map((i) => (i.kind === "media" ? [i.msgType, i.title] : i.kind))).toEqual([
      ["voice", undefined],
      ["news", "春季活动"],
      ["video", undefined],
      ["image", undefined],
    ]);
  });
});
