/**
 * The chat as the user saw it: what the user did (a scan, a follow, a message), from the
 * emulator's delivery log (`GET /emulator/deliveries`), interleaved with everything the account
 * sent them, from the received-messages log (`GET /emulator/users/:openId/messages`) — passive
 * replies, WeChat's notice when a push failed, and customer-service messages. No DOM here.
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

/** The fields of a received message the chat reads. */
export interface Received {
  /** The order the user saw the messages in. */
  id: number;
  /** Epoch ms. */
  at: number;
  via: "passive_reply" | "customer_service";
  /** `text`, `image`, `voice`, `video`, `news` …, or `notice` for WeChat's own line. */
  msgType: string;
  text?: string;
  mediaUrl?: string;
  /** The push a passive reply answered. */
  deliveryId?: number;
}

type Via = Received["via"];

export type ChatItem =
  | { kind: "action"; id: string; time: number; key: MessageKey; scene?: string }
  | { kind: "sent"; id: string; time: number; text: string }
  | { kind: "reply"; id: string; time: number; via: Via; text: string }
  | { kind: "image"; id: string; time: number; via: Via; src: string }
  /** A message the page cannot show (voice, video, news …): a labelled placeholder. */
  | { kind: "media"; id: string; time: number; via: Via; msgType: string; title?: string }
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

/** The account's side of a push that has no message in the received log (pending, silent, or trimmed from the log). */
function deliveryAnswer(d: Delivery, time: number): ChatItem | undefined {
  const id = `${d.id}-account`;
  if (d.outcome === "pending") return { kind: "status", id, time, key: "pending" };
  if (d.userSaw === USER_NOTICE) return { kind: "notice", id, time, text: d.userSaw };
  if (d.userSaw !== null) return { kind: "reply", id, time, via: "passive_reply", text: d.userSaw };
  // Nobody sees anything after an unfollow; otherwise say that the account stayed silent.
  return d.event === "unsubscribe" ? undefined : { kind: "status", id, time, key: "noReply" };
}

function receivedItem(m: Received): ChatItem {
  const id = `r${m.id}`;
  const { at: time, via } = m;
  if (m.msgType === "notice") return { kind: "notice", id, time, text: m.text ?? USER_NOTICE };
  if (m.msgType === "text") return { kind: "reply", id, time, via, text: m.text ?? "" };
  if (m.msgType === "image" && m.mediaUrl !== undefined) return { kind: "image", id, time, via, src: m.mediaUrl };
  // A passive reply of another type is logged as `[voice]`-like text, not a title.
  const title = m.msgType === "news" && m.text !== undefined && m.text !== "" ? m.text : undefined;
  return { kind: "media", id, time, via, msgType: m.msgType, ...(title === undefined ? {} : { title }) };
}

/**
 * The chat in the order the user lived it. Account messages keep the received log's order; a user
 * action goes just before its push's passive reply, and before a customer-service message sent
 * in a later second (push times have second resolution, so within one second log order decides).
 * @example
 * chatItems(
 *   [{ id: 1, openId: "u1", event: "subscribe", eventKey: "qrscene_7", createTime: 1, outcome: "delivered", userSaw: "Welcome!" }],
 *   [{ id: 1, at: 1_000, via: "passive_reply", msgType: "text", text: "Welcome!", deliveryId: 1 },
 *    { id: 2, at: 1_200, via: "customer_service", msgType: "image", mediaUrl: "/emulator/media/m1" }],
 * );
 * // [{ kind: "action", key: "youScannedAndFollowed", scene: "7", … }, { kind: "reply", text: "Welcome!", … }, { kind: "image", src: "/emulator/media/m1", … }]
 */
export function chatItems(deliveries: readonly Delivery[], received: readonly Received[] = []): ChatItem[] {
  const pushes = [...deliveries].sort((a, b) => a.id - b.id);
  const answered = new Set(received.map((m) => m.deliveryId).filter((id) => id !== undefined));
  const items: ChatItem[] = [];
  let next = 0;
  const showPushesWhile = (before: (d: Delivery) => boolean): void => {
    for (let d = pushes[next]; d !== undefined && before(d); d = pushes[++next]) {
      const time = d.createTime * 1000;
      items.push(userAction(d, `${d.id}-you`, time));
      const answer = answered.has(d.id) ? undefined : deliveryAnswer(d, time);
      if (answer !== undefined) items.push(answer);
    }
  };
  for (const m of [...received].sort((a, b) => a.id - b.id)) {
    const { deliveryId } = m;
    if (deliveryId === undefined) showPushesWhile((d) => d.createTime < Math.floor(m.at / 1000));
    else showPushesWhile((d) => d.id <= deliveryId);
    items.push(receivedItem(m));
  }
  showPushesWhile(() => true);
  return items;
}
