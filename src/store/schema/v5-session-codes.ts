import type { Migration } from "../migrations.ts";

/**
 * Every scan session gets a code of its own (issue #8): the v3 pool handed a code to a later
 * session after a cool-down, so whoever kept its image could scan it into that session. A
 * session's code is owned by the session (`qrcodes.owner_kind = 'session'`, `owner_id` = the
 * session's id) and named by it (`scan_sessions.qrcode_id`, unique: the database itself refuses
 * a second session on one code). Pre-created codes wait in a warm stock until one session takes
 * each.
 */
export const v5: Migration = {
  version: 5,
  name: "scan sessions: a code of their own, a warm stock",
  statements: [
    // The pool is gone, so no pooled code is handed out again; its codes are owned by pool rows
    // that no longer exist, so a scan of one reaches no session.
    `DROP TABLE scan_session_codes`,
    `ALTER TABLE scan_sessions DROP COLUMN pool_code_id`,
    // Pool-era sessions shared codes. Only the newest holder of each can still be alive, and it
    // keeps a result it already has (a pending one can no longer complete: its code names no
    // session); the older ones have ended and go now rather than at the daily sweep.
    `DELETE FROM scan_sessions WHERE EXISTS (
      SELECT 1 FROM scan_sessions newer
      WHERE newer.qrcode_id = scan_sessions.qrcode_id
        AND (newer.created_at > scan_sessions.created_at OR (newer.created_at = scan_sessions.created_at AND newer.id > scan_sessions.id))
    )`,
    `CREATE UNIQUE INDEX scan_sessions_code ON scan_sessions (qrcode_id)`,
    // One row per pre-created code no session has taken yet; taking one deletes its row, so each
    // is handed out once. `id` is the code's owner id until a session takes it.
    `CREATE TABLE scan_session_warm_codes (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id),
      qrcode_id TEXT NOT NULL UNIQUE,
      code_expires_at BIGINT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX scan_session_warm_codes_expiry ON scan_session_warm_codes (account_id, code_expires_at)`,
  ],
};
