/**
 * What users saw in their chat with the account, in the order it reached them: passive replies
 * (logged when the push's answer is read, or WeChat's notice when it failed) and customer-service
 * messages (logged when `message/custom/send` accepts them). `GET /emulator/users/:openId/messages`
 * lists them.
 * @module
 */
import type { EmulatorState } from "./state.ts";

/** Messages kept in all; the oldest go first. */
export const RECEIVED_MESSAGES_MAX = 10_000;

export interface ReceivedMessage {
  /** Increases with every message: the order the user saw them in, also when the clock stands still. */
  id: number;
  openId: string;
  /** Epoch ms, emulator clock. */
  at: number;
  via: "passive_reply" | "customer_service";
  /** `text`, `image` …, or `notice` for WeChat's own "cannot serve" line after a failed push. */
  msgType: string;
  /** A text's content, the notice, or `[image]`-like for a passive reply of another type. */
  text?: string;
  /** An image's, voice's or video's media_id (its bytes: `GET /emulator/media/:mediaId`). */
  mediaId?: string;
  /** The push this passive reply answered. */
  deliveryId?: number;
}

/** Appends a message with the next id. */
export function logReceived(state: EmulatorState, message: Omit<ReceivedMessage, "id">): ReceivedMessage {
  const entry: ReceivedMessage = { id: ++state.lastReceivedMessageId, ...message };
  state.receivedMessages.push(entry);
  if (state.receivedMessages.length > RECEIVED_MESSAGES_MAX) state.receivedMessages.splice(0, state.receivedMessages.length - RECEIVED_MESSAGES_MAX);
  return entry;
}

export function receivedBy(state: EmulatorState, openId: string): ReceivedMessage[] {
  return state.receivedMessages.filter((m) => m.openId === openId);
}
