import type { Migration } from "../migrations.ts";

/**
 * Channels can be archived (issue #10): the code keeps working and its pushes keep counting,
 * but the channel leaves the default list. The two indexes serve the dashboard's account-wide
 * figures (`GET /api/overview`), read on every live event: sums of the day counters over a range
 * of days, and the distinct scanners of that range, each without reading other days' rows.
 * Version 7 (not 6) so that it merges after the session table of version 6.
 */
export const v7: Migration = {
  version: 7,
  name: "archived channels, account-wide day indexes",
  statements: [
    `ALTER TABLE channels ADD COLUMN archived SMALLINT NOT NULL DEFAULT 0`,
    `CREATE INDEX channel_days_account_day ON channel_days (account_id, day)`,
    `CREATE INDEX channel_scanners_account_day ON channel_scanners (account_id, day, open_id)`,
  ],
};
