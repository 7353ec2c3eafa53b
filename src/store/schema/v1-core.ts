import type { Migration } from "../migrations.ts";

/** Codes, scene allocation, followers, the push log, channels and their day counters. */
export const v1: Migration = {
  version: 1,
  name: "codes, followers, push log, channels",
  statements: [
    `CREATE TABLE accounts (
      id TEXT PRIMARY KEY,
      time_zone TEXT NOT NULL,
      permanent_used BIGINT NOT NULL DEFAULT 0,
      next_permanent_scene BIGINT NOT NULL DEFAULT 1,
      created_at BIGINT NOT NULL
    )`,
    `CREATE TABLE qrcodes (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id),
      type TEXT NOT NULL CHECK (type IN ('temporary', 'permanent')),
      scene_id BIGINT,
      scene_str TEXT,
      ticket TEXT UNIQUE,
      url TEXT,
      expires_at BIGINT,
      owner_kind TEXT,
      owner_id TEXT,
      label TEXT,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX qrcodes_owner ON qrcodes (account_id, owner_kind, owner_id)`,
    // One row per scene value held by a live code: the primary key makes allocation atomic.
    `CREATE TABLE scene_allocations (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      scene_key TEXT NOT NULL,
      qrcode_id TEXT NOT NULL,
      permanent SMALLINT NOT NULL,
      expires_at BIGINT,
      PRIMARY KEY (account_id, scene_key)
    )`,
    `CREATE TABLE followers (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      open_id TEXT NOT NULL,
      subscribed SMALLINT NOT NULL,
      source_qrcode_id TEXT,
      first_seen_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL,
      subscribed_at BIGINT,
      unsubscribed_at BIGINT,
      PRIMARY KEY (account_id, open_id)
    )`,
    // Append-only: every accepted push, known code or not. The unique key is the dedupe.
    `CREATE TABLE push_log (
      seq {serial},
      account_id TEXT NOT NULL REFERENCES accounts(id),
      dedupe_key TEXT NOT NULL,
      kind TEXT NOT NULL,
      open_id TEXT NOT NULL,
      event TEXT,
      event_key TEXT,
      ticket TEXT,
      scene TEXT,
      qrcode_id TEXT,
      is_new_follower SMALLINT,
      create_time BIGINT NOT NULL,
      received_at BIGINT NOT NULL,
      UNIQUE (account_id, dedupe_key)
    )`,
    `CREATE TABLE channels (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id),
      name TEXT NOT NULL,
      welcome TEXT,
      qrcode_id TEXT,
      created_at BIGINT NOT NULL,
      UNIQUE (account_id, name)
    )`,
    `CREATE TABLE channel_days (
      account_id TEXT NOT NULL,
      channel_id TEXT NOT NULL REFERENCES channels(id),
      day TEXT NOT NULL,
      scans BIGINT NOT NULL DEFAULT 0,
      unique_scanners BIGINT NOT NULL DEFAULT 0,
      new_followers BIGINT NOT NULL DEFAULT 0,
      returning_followers BIGINT NOT NULL DEFAULT 0,
      unfollows BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (channel_id, day)
    )`,
    // Makes "unique scanners" an insert-if-absent; ranges count this small table, never the log.
    `CREATE TABLE channel_scanners (
      account_id TEXT NOT NULL,
      channel_id TEXT NOT NULL REFERENCES channels(id),
      day TEXT NOT NULL,
      open_id TEXT NOT NULL,
      PRIMARY KEY (channel_id, day, open_id)
    )`,
  ],
};
