import type { Migration } from "../migrations.ts";

/**
 * Channel groups (issue #13): a channel belongs to at most one group of its account. The group's
 * id is kept on the channel (null: ungrouped), so that deleting a group ungroups its channels in
 * one statement and the overview sums a group's days through one join. The index serves the
 * list's group filter and that join.
 */
export const v11: Migration = {
  version: 11,
  name: "channel groups",
  statements: [
    `CREATE TABLE channel_groups (
      account_id TEXT NOT NULL REFERENCES accounts(id),
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      UNIQUE (account_id, name)
    )`,
    `ALTER TABLE channels ADD COLUMN group_id TEXT REFERENCES channel_groups(id)`,
    `CREATE INDEX channels_account_group ON channels (account_id, group_id)`,
  ],
};
