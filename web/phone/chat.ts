/**
 * The chat as the user saw it, from the emulator's delivery log (`GET /emulator/deliveries`):
 * what the user did (a scan, a follow, a message) and, for each, what WeChat showed them — the
 * account's passive reply, or WeChat's own notice when the push failed. No DOM here.
 */
import type { MessageKey } from "./i18n.ts";

/** WeChat's notice when the account's server fails to answer (the emulator's `USER_NOTICE`). */
export const USER_NOTICE = "该公众号暂时无法提供服务，请稍后再试";

/** The fields of a delivery record the chat reads. */
export interface Delivery {
  id: number;
  openId: string;
  event: string;
  eventKey: string;
  content?: string;
  /** Epoch seconds. */
  createTime: number;
  outcome: "pending" | "delivered" | "failed";
  userSaw: string | null;
}

export type ChatItem =
  | { kind: "action"; id: string; time: number; key: MessageKey; scene?: string }
  | { kind: "sent"; id: string; time: number; text: string }
  | { kind: "reply"; id: string; time: number; text: string }
  | { kind: "notice"; id: string; time: number; text: string }
  | { kind: "status"; id: string; time: number; key: MessageKey };

function userAction(d: Delivery, id: string, time: number): ChatItem {
  switch (d.event) {
    case "text":
      return { kind: "sent", id, time, text: d.content ?? "" };
    case "SCAN":
      return { kind: "action", id, time, key: "youScanned", scene: d.eventKey };
    case "subscribe":
      return d.eventKey.startsWith("qrscene_")
        ? { kind: "action", id, time, key: "youScannedAndFollowed", scene: d.eventKey.slice("qrscene_".length) }
        : { kind: "action", id, time, key: "youFollowed" };
    case "unsubscribe":
      return { kind: "action", id, time, key: "youUnfollowed" };
    default:
      return { kind: "action", id, time, key: "youFollowed" };
  }
}

/**
 * @example
 * chatItems([{ id: 1, openId: "u1", event: "subscribe", eventKey: "qrscene_7", createTime: 1, outcome: "delivered", userSaw: "Welcome!" }]);
 * // [{ kind: "action", key: "youScannedAndFollowed", scene: "7", … }, { kind: "reply", text: "Welcome!", … }]
 */
export function chatItems(deliveries: readonly Delivery[]): ChatItem[] {
  const items: ChatItem[] = [];
  for (const d of deliveries) {
    const time = d.createTime * 1000;
    items.push(userAction(d, `${d.id}-you`, time));
    const id = `${d.id}-account`;
    if (d.outcome === "pending") items.push({ kind: "status", id, time, key: "pending" });
    else if (d.userSaw === USER_NOTICE) items.push({ kind: "notice", id, time, text: d.userSaw });
    else if (d.userSaw !== null) items.push({ kind: "reply", id, time, text: d.userSaw });
    // Nobody sees anything after an unfollow; otherwise say that the account stayed silent.
    else if (d.event !== "unsubscribe") items.push({ kind: "status", id, time, key: "noReply" });
  }
  return items;
}
