import type { Migration } from "../migrations.ts";

/**
 * Poster designs (issue #12): the campaign's default (`target` "referral") and one per channel
 * (`target` "channel:<id>"). The background image sits in the row: at most a few MB, read only
 * when a poster is rendered anew. `BYTEA` is PostgreSQL's type; SQLite gives the name NUMERIC
 * affinity, which stores a blob as it is, so the one DDL serves both engines. `version` changes
 * with every save: rendered posters are cached under it, so a new design is never served stale.
 */
export const v8: Migration = {
  version: 8,
  name: "poster designs",
  statements: [
    `CREATE TABLE posters (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      target TEXT NOT NULL,
      version TEXT NOT NULL,
      background BYTEA NOT NULL,
      background_type TEXT NOT NULL,
      width INTEGER NOT NULL,
      height INTEGER NOT NULL,
      qr_x INTEGER NOT NULL,
      qr_y INTEGER NOT NULL,
      qr_size INTEGER NOT NULL,
      text TEXT,
      text_size INTEGER,
      text_color TEXT,
      text_x INTEGER,
      text_y INTEGER,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, target)
    )`,
  ],
};
