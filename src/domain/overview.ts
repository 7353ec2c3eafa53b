/**
 * The account at a glance (the dashboard's first screen, issue #10): today, the last 7 and the
 * last 30 days summed over every channel, archived ones included, with days cut in the account's
 * zone; the permanent-code quota; the webhook's backlog when one is configured. Read from the
 * day counters, never the push log.
 * @module
 */
import type { Clock } from "../deps.ts";
import * as groups from "../store/channel-groups.ts";
import * as channels from "../store/channels.ts";
import type { Database } from "../store/database.ts";
import type { CodeService, Quota } from "./codes.ts";
import { addDays, dayInZone } from "./days.ts";
import type { WebhookDispatcher } from "./webhook-dispatcher.ts";

export interface Totals extends channels.DayCounts {
  /** newFollowers + returningFollowers − unfollows. */
  netGrowth: number;
}

/** A group's figures: sums over its channels' days, so without distinct scanners (a follower may scan several of them). */
export interface GroupTotals extends groups.GroupDayCounts {
  netGrowth: number;
}

export interface Overview {
  today: Totals;
  /** The 7 days ending today. */
  last7: Totals;
  /** The 30 days ending today. */
  last30: Totals;
  quota: Quota;
  /** Each channel group's today, last 7 and last 30 days, by name (issue #13). */
  groups: Array<{ id: string; name: string; today: GroupTotals; last7: GroupTotals; last30: GroupTotals }>;
  /** Only when a webhook is configured. */
  webhook?: { backlog: number; failing: number };
}

export function withNetGrowth<T extends groups.GroupDayCounts>(c: T): T & { netGrowth: number } {
  return { ...c, netGrowth: c.newFollowers + c.returningFollowers - c.unfollows };
}

export function createOverviewReader(deps: {
  db: Database;
  accountId: string;
  timeZone: string;
  clock: Clock;
  codes: CodeService;
  webhook?: WebhookDispatcher | undefined;
}): () => Promise<Overview> {
  return async () => {
    const today = dayInZone(deps.clock.now(), deps.timeZone);
    const fromDays = [today, addDays(today, -6), addDays(today, -29)];
    const [sums, byGroup, quota, webhook] = await Promise.all([
      deps.db.read((sql) => channels.accountTotals(sql, deps.accountId, today, fromDays)),
      deps.db.read((sql) => groups.channelGroupTotals(sql, deps.accountId, today, fromDays)),
      deps.codes.quota(),
      deps.webhook?.status(0),
    ]);
    const [day, week, month] = sums.map(withNetGrowth) as [Totals, Totals, Totals];
    const groupViews = byGroup.map((g) => {
      const [t, w, m] = g.ranges.map(withNetGrowth) as [GroupTotals, GroupTotals, GroupTotals];
      return { id: g.id, name: g.name, today: t, last7: w, last30: m };
    });
    return {
      today: day,
      last7: week,
      last30: month,
      quota,
      groups: groupViews,
      ...(webhook ? { webhook: { backlog: webhook.backlog, failing: webhook.failing } } : {}),
    };
  };
}
