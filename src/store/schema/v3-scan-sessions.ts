import type { Migration } from "../migrations.ts";

/**
 * Scan-to-login / bind sessions and the pool of temporary codes they draw from. A pooled code is
 * owned by its pool row (`qrcodes.owner_kind = 'session'`, `owner_id` = the pool row's id), and
 * the pool row names the session that holds it now (or held it last).
 */
export const v3: Migration = {
  version: 3,
  name: "scan sessions and their code pool",
  statements: [
    // `free_at`: when the code may be handed out again. While a session holds it, that is the
    // session's expiry plus the cool-down; when the session ends early, its end plus the cool-down.
    `CREATE TABLE scan_session_codes (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id),
      qrcode_id TEXT NOT NULL,
      code_expires_at BIGINT NOT NULL,
      session_id TEXT,
      free_at BIGINT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX scan_session_codes_free ON scan_session_codes (account_id, free_at)`,
    // `status` is what was recorded (pending, scanned, confirmed); "expired" is computed from
    // `expires_at`. Only the secret's SHA-256 is stored.
    `CREATE TABLE scan_sessions (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id),
      purpose TEXT NOT NULL CHECK (purpose IN ('login', 'bind')),
      subject TEXT,
      confirm SMALLINT NOT NULL,
      secret_hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'scanned', 'confirmed')),
      pool_code_id TEXT NOT NULL,
      qrcode_id TEXT NOT NULL,
      open_id TEXT,
      is_new_follower SMALLINT,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      scanned_at BIGINT,
      confirmed_at BIGINT,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE INDEX scan_sessions_updated ON scan_sessions (account_id, updated_at)`,
    `CREATE INDEX scan_sessions_expires ON scan_sessions (account_id, expires_at)`,
    `CREATE INDEX scan_sessions_awaiting ON scan_sessions (account_id, open_id, status)`,
  ],
};
