/**
 * Follow-ups and channel tags as the service offers them (issue #12): the dispatcher, the
 * outbox's rows per status for the API, and the re-run of a channel's tagging.
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/follow-ups.ts";
import type { ChannelFollowUps, TagRerun } from "./channel-follow-ups.ts";
import type { FollowUpDispatcher } from "./follow-up-dispatcher.ts";

export type { FollowUpKind, FollowUpRow, FollowUpStatus } from "../store/follow-ups.ts";

export const FOLLOW_UP_PAGE_MAX = 500;
const STATUSES: readonly store.FollowUpStatus[] = ["pending", "sent", "failed"];
const KINDS: readonly store.FollowUpKind[] = ["poster", "text", "image", "tag"];

export interface FollowUpPage {
  followUps: store.FollowUpRow[];
  /** Pass as `before` for the next (older) page; absent at the end. */
  next?: number;
  /** Rows per status, over the whole outbox. */
  counts: Record<store.FollowUpStatus, number>;
}

export interface FollowUpService {
  readonly dispatcher: FollowUpDispatcher;
  list(query?: {
    status?: string | undefined;
    kind?: string | undefined;
    openId?: string | undefined;
    before?: number | undefined;
    limit?: number | undefined;
  }): Promise<FollowUpPage>;
  counts(): Promise<Record<store.FollowUpStatus, number>>;
  rerunTagging(channelId: string): Promise<TagRerun>;
}

/**
 * @example
 * const followUps = createFollowUpService({ db, accountId, dispatcher, channels: channelFollowUps });
 * const { followUps: failed } = await followUps.list({ status: "failed" });
 */
export function createFollowUpService(deps: { db: Database; accountId: string; dispatcher: FollowUpDispatcher; channels: ChannelFollowUps }): FollowUpService {
  const { db, accountId } = deps;
  return {
    dispatcher: deps.dispatcher,
    async list(query = {}) {
      if (query.status !== undefined && !STATUSES.includes(query.status as store.FollowUpStatus)) {
        throw new ValidationError("status", `must be one of ${STATUSES.join(", ")}`);
      }
      if (query.kind !== undefined && !KINDS.includes(query.kind as store.FollowUpKind))
        throw new ValidationError("kind", `must be one of ${KINDS.join(", ")}`);
      const limit = query.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > FOLLOW_UP_PAGE_MAX)
        throw new ValidationError("limit", `must be a whole number from 1 to ${FOLLOW_UP_PAGE_MAX}`);
      const [rows, counts] = await db.read(
        async (sql) =>
          [
            await store.listFollowUps(sql, accountId, {
              status: query.status as store.FollowUpStatus | undefined,
              kind: query.kind as store.FollowUpKind | undefined,
              openId: query.openId,
              before: query.before,
              limit: limit + 1,
            }),
            await store.countFollowUps(sql, accountId),
          ] as const,
      );
      const page = rows.slice(0, limit);
      return rows.length > limit ? { followUps: page, next: page[page.length - 1]!.seq, counts } : { followUps: page, counts };
    },
    counts: () => db.read((sql) => store.countFollowUps(sql, accountId)),
    rerunTagging: (channelId) => deps.channels.rerunTagging(channelId),
  };
}
