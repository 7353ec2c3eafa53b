import type { Migration } from "../migrations.ts";

/**
 * Referrals: each follower's personal code (claimed before WeChat is asked, so concurrent
 * requests for one follower make one code), who invited whom (one row per invitee), and the
 * import of the followers the account had before wxqr (`/cgi-bin/user/get`).
 */
export const v2: Migration = {
  version: 2,
  name: "referral codes, referrals, imported followers",
  statements: [
    // One row per follower who asked for a personal code. `claim` is set while one caller creates
    // (or renews) the code; everyone else waits for `qrcode_id` (or takes over a stale claim).
    `CREATE TABLE referral_codes (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      open_id TEXT NOT NULL,
      qrcode_id TEXT,
      claim TEXT,
      claimed_at BIGINT,
      PRIMARY KEY (account_id, open_id)
    )`,
    // One row per invitee: the primary key makes "only once, never re-attributed" an insert-if-absent.
    `CREATE TABLE referrals (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      invitee TEXT NOT NULL,
      inviter TEXT NOT NULL,
      qrcode_id TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, invitee)
    )`,
    `CREATE INDEX referrals_inviter ON referrals (account_id, inviter, created_at)`,
    `CREATE INDEX referrals_time ON referrals (account_id, created_at)`,
    // Followers listed by /cgi-bin/user/get that wxqr had not seen: known, never new.
    `ALTER TABLE followers ADD COLUMN imported SMALLINT NOT NULL DEFAULT 0`,
    // When the last complete import finished; until then "new" means new to wxqr.
    `ALTER TABLE accounts ADD COLUMN followers_imported_at BIGINT`,
  ],
};
