import type { Migration } from "../migrations.ts";

/** The business-webhook outbox and the access tokens shared by every instance on one database. */
export const v4: Migration = {
  version: 4,
  name: "webhook outbox, shared access tokens",
  statements: [
    // One row per attributed event, written in its push's transaction. `event_id` is derived
    // from the event (account, key, kind), so the same event can never make a second row; it is
    // the receiver's idempotency key. `payload` is the exact JSON body POSTed on every attempt.
    `CREATE TABLE outbox (
      seq {serial},
      account_id TEXT NOT NULL REFERENCES accounts(id),
      event_id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      open_id TEXT NOT NULL,
      payload TEXT NOT NULL,
      occurred_at BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      delivered_at BIGINT,
      last_error TEXT,
      lease_holder TEXT,
      lease_until BIGINT
    )`,
    // "Is there an earlier undelivered event for this follower?" (order per follower) and "what is due?".
    `CREATE INDEX outbox_pending_follower ON outbox (account_id, open_id, seq) WHERE delivered_at IS NULL`,
    `CREATE INDEX outbox_pending_due ON outbox (account_id, next_attempt_at) WHERE delivered_at IS NULL`,
    `CREATE INDEX outbox_delivered ON outbox (account_id, delivered_at)`,
    // One row per token key (`<appId>:stable|classic`): the token, and the refresh lease.
    `CREATE TABLE tokens (
      token_key TEXT PRIMARY KEY,
      token TEXT,
      expires_at BIGINT,
      lease_holder TEXT,
      lease_until BIGINT
    )`,
  ],
};
