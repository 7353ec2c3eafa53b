import type { Migration } from "../migrations.ts";

/**
 * Dashboard sign-in (issue #10): the admin token is exchanged for a session cookie, and the
 * session lives here so that every instance behind a load balancer knows it and signing out on
 * one ends it on all. Only a keyed hash of the session id is stored: whoever reads the database
 * cannot turn a row back into a cookie. A session ends after `idle` without use or at
 * `expires_at`, whichever comes first; `last_seen_at` is what the idle limit counts from.
 */
export const v6: Migration = {
  version: 6,
  name: "admin sessions for the dashboard",
  statements: [
    `CREATE TABLE admin_sessions (
      id_hash TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id),
      created_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
    `CREATE INDEX admin_sessions_expiry ON admin_sessions (account_id, expires_at)`,
  ],
};
