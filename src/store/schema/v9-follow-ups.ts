import type { Migration } from "../migrations.ts";

/**
 * Follow-ups and tags by channel (issue #12). A channel may carry a follow-up (a text, or an
 * image kept in `channel_follow_up_images`) and a tag (its name, and the id WeChat gave it once
 * created). `follow_ups` is the outbox of customer-service messages and taggings, written in the
 * push's transaction: `row_key` derives from the push (or, for a tagging, from the tag and the
 * follower), so a redelivery or a re-run adds nothing. `deadline_at` is the end of the send
 * window a message was written for; no retry is scheduled past it. `media` keeps the ids of
 * uploaded images until they expire (3 days), so an image is uploaded once per content.
 * Version 9: main's v8 holds the poster designs; only the number needs changing to renumber.
 */
export const v9: Migration = {
  version: 9,
  name: "follow-ups, channel tags, media ids",
  statements: [
    `ALTER TABLE channels ADD COLUMN follow_up_text TEXT`,
    `ALTER TABLE channels ADD COLUMN follow_up_image TEXT`,
    `ALTER TABLE channels ADD COLUMN tag_name TEXT`,
    `ALTER TABLE channels ADD COLUMN tag_id BIGINT`,
    `CREATE TABLE channel_follow_up_images (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      id TEXT NOT NULL,
      bytes BYTEA NOT NULL,
      content_type TEXT NOT NULL,
      PRIMARY KEY (account_id, id)
    )`,
    `CREATE TABLE follow_ups (
      seq {serial},
      account_id TEXT NOT NULL REFERENCES accounts(id),
      row_key TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      open_id TEXT NOT NULL,
      channel_id TEXT,
      tag_id BIGINT,
      text TEXT,
      image_id TEXT,
      at BIGINT NOT NULL,
      deadline_at BIGINT,
      created_at BIGINT NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      done_at BIGINT,
      errcode INTEGER,
      last_error TEXT,
      lease_holder TEXT,
      lease_until BIGINT
    )`,
    `CREATE INDEX follow_ups_pending ON follow_ups (account_id, next_attempt_at) WHERE status = 'pending'`,
    `CREATE INDEX follow_ups_pending_follower ON follow_ups (account_id, open_id, seq) WHERE status = 'pending'`,
    `CREATE INDEX follow_ups_status ON follow_ups (account_id, status, seq)`,
    `CREATE TABLE media (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      media_key TEXT NOT NULL,
      media_id TEXT NOT NULL,
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, media_key)
    )`,
  ],
};
