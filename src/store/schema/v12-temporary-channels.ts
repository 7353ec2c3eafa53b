import type { Migration } from "../migrations.ts";

/**
 * Temporary channels and their stable image link (issue #13). `code_days` null: the channel's
 * code is permanent; otherwise each of its codes is temporary for that many days, and
 * `code_renew` says whether a new one replaces it before it expires. `renew_at` is when the
 * current code falls due for renewal (null: never), kept on the row so that the renewal loop
 * finds the due channels through one index, whatever their count.
 *
 * `image_token` names the public image link. Existing channels get theirs from the service at
 * start (`backfillImageTokens`), not here: a token must come from the injected `Random` (tests
 * stay deterministic, production draws from the system's CSPRNG) and the engines share no SQL
 * source of strong randomness (SQLite's `randomblob`, PostgreSQL's `gen_random_uuid`).
 */
export const v12: Migration = {
  version: 12,
  name: "temporary channels",
  statements: [
    `ALTER TABLE channels ADD COLUMN code_days INTEGER`,
    `ALTER TABLE channels ADD COLUMN code_renew INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE channels ADD COLUMN renew_at BIGINT`,
    `ALTER TABLE channels ADD COLUMN image_token TEXT`,
    `CREATE UNIQUE INDEX channels_image_token ON channels (image_token)`,
    `CREATE INDEX channels_renew_at ON channels (renew_at)`,
  ],
};
