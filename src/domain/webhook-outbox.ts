/**
 * The write side of the business webhook: `PushContext.emit` as a row of the outbox, written in
 * the push's own transaction, so an event is forwarded if and only if its effect committed.
 * @module
 */
import { createHash } from "node:crypto";
import type { Clock } from "../deps.ts";
import type { OutboxInsert } from "../store/outbox.ts";
import type { AttributedEvent, AttributedEventKind, PushContext } from "./push-hooks.ts";

/** What the webhook receives as the JSON body of each request. */
export interface WebhookEvent {
  /** Unique per event and the same on every redelivery (also sent as `Idempotency-Key`). */
  id: string;
  type: AttributedEventKind;
  /** ISO 8601: when WeChat says it happened. */
  occurredAt: string;
  openId: string;
  data: Record<string, unknown>;
}

/**
 * The event's id, derived from what identifies it (account, the push's dedupe key, the kind), so
 * the same event always gets the same id and can never make a second outbox row.
 */
export function webhookEventId(accountId: string, key: string, kind: AttributedEventKind): string {
  return `evt_${createHash("sha256").update(`${accountId}\n${key}\n${kind}`, "utf8").digest("hex").slice(0, 32)}`;
}

export function webhookBody(accountId: string, event: AttributedEvent): { id: string; body: string } {
  const id = webhookEventId(accountId, event.key, event.kind);
  const payload: WebhookEvent = { id, type: event.kind, occurredAt: new Date(event.at).toISOString(), openId: event.openId, data: event.data };
  return { id, body: JSON.stringify(payload) };
}

/** `PushContext.outboxRow` for a service that forwards events: one outbox row per event. */
export function createOutboxEmitter(options: { accountId: string; clock: Clock }): NonNullable<PushContext["outboxRow"]> {
  const { accountId, clock } = options;
  return (event): OutboxInsert => {
    const { id, body } = webhookBody(accountId, event);
    return { accountId, eventId: id, kind: event.kind, openId: event.openId, payload: body, occurredAt: event.at, createdAt: clock.now() };
  };
}
