import type { Migration } from "../migrations.ts";

/**
 * Distinct scanners over a range that ends today, in one row per day (issue #11): a count of
 * distinct `channel_scanners` over a range grows with the scans in it (141 × slower at 10 M
 * events than at 10 k), but the followers who scanned on or after day F are exactly those whose
 * latest scan is on or after F. So ingestion keeps each follower's latest scan day (per channel,
 * and of any channel for the account) and, per day, how many followers' latest scan it is
 * (`last_scanners`): a scan on day D by a follower whose latest was L < D moves one from L to D.
 * The distinct scanners of [F, today] are then the sum of `last_scanners` from F on.
 *
 * Filled here from `channel_scanners`, set-wise. Version 10 (not 9) so that it merges after the
 * follow-up outbox of version 9.
 */
export const v10: Migration = {
  version: 10,
  name: "latest scan days and their per-day counts",
  statements: [
    // Per channel and follower, the day of their latest scan of it.
    `CREATE TABLE channel_last_scans (
      account_id TEXT NOT NULL,
      channel_id TEXT NOT NULL REFERENCES channels(id),
      open_id TEXT NOT NULL,
      day TEXT NOT NULL,
      PRIMARY KEY (channel_id, open_id)
    )`,
    // Per follower, the day of their latest scan of any of the account's channels.
    `CREATE TABLE account_last_scans (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      open_id TEXT NOT NULL,
      day TEXT NOT NULL,
      PRIMARY KEY (account_id, open_id)
    )`,
    // How many followers' latest scan of the channel is that day.
    `ALTER TABLE channel_days ADD COLUMN last_scanners BIGINT NOT NULL DEFAULT 0`,
    // How many followers' latest scan of any channel is that day.
    `CREATE TABLE account_days (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      day TEXT NOT NULL,
      last_scanners BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (account_id, day)
    )`,
    `INSERT INTO channel_last_scans (account_id, channel_id, open_id, day)
     SELECT account_id, channel_id, open_id, MAX(day) FROM channel_scanners GROUP BY account_id, channel_id, open_id`,
    `INSERT INTO account_last_scans (account_id, open_id, day)
     SELECT account_id, open_id, MAX(day) FROM channel_scanners GROUP BY account_id, open_id`,
    `UPDATE channel_days SET last_scanners = c.n
     FROM (SELECT channel_id, day, COUNT(*) AS n FROM channel_last_scans GROUP BY channel_id, day) AS c
     WHERE channel_days.channel_id = c.channel_id AND channel_days.day = c.day`,
    `INSERT INTO account_days (account_id, day, last_scanners)
     SELECT account_id, day, COUNT(*) FROM account_last_scans GROUP BY account_id, day`,
  ],
};
