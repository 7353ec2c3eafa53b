/** Push messages as the receiver would produce them, for domain tests that skip the wire. */
import { toPushMessage, type PushMessage } from "../../src/push/events.ts";

export function scanPush(o: { openId: string; ticket?: string; scene: string | number; subscribe: boolean; at: number }): PushMessage {
  return toPushMessage(
    {
      ToUserName: "gh_test",
      FromUserName: o.openId,
      CreateTime: String(Math.floor(o.at / 1000)),
      MsgType: "event",
      Event: o.subscribe ? "subscribe" : "SCAN",
      EventKey: o.subscribe ? `qrscene_${o.scene}` : String(o.scene),
      ...(o.ticket ? { Ticket: o.ticket } : {}),
    },
    false,
  );
}

export function followPush(o: { openId: string; at: number; event: "subscribe" | "unsubscribe" }): PushMessage {
  return toPushMessage(
    { ToUserName: "gh_test", FromUserName: o.openId, CreateTime: String(Math.floor(o.at / 1000)), MsgType: "event", Event: o.event, EventKey: "" },
    false,
  );
}
