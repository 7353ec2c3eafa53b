import type { Migration } from "../migrations.ts";

/**
 * Replies by audience, schedule and pause (issue #13, deliverables 3 and 4). Three optional
 * reply texts beside the welcome (a new follower, a returning follower, a follower who already
 * follows and scans); `follow_up_audiences` names the audiences the follow-up goes to (null:
 * all); `starts_at`/`ends_at` (epoch ms, null: open) and `paused` decide whether a scan is
 * answered at all. None of them changes what a scan counts, so no index is needed: the push reads
 * them with the channel row it already loads. Version 13: v12 is the temporary channels' migration.
 */
export const v13: Migration = {
  version: 13,
  name: "channel replies by audience, schedule and pause",
  statements: [
    `ALTER TABLE channels ADD COLUMN reply_new_follower TEXT`,
    `ALTER TABLE channels ADD COLUMN reply_returning_follower TEXT`,
    `ALTER TABLE channels ADD COLUMN reply_follower TEXT`,
    `ALTER TABLE channels ADD COLUMN follow_up_audiences TEXT`,
    `ALTER TABLE channels ADD COLUMN starts_at BIGINT`,
    `ALTER TABLE channels ADD COLUMN ends_at BIGINT`,
    `ALTER TABLE channels ADD COLUMN paused SMALLINT NOT NULL DEFAULT 0`,
  ],
};
