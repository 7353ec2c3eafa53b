/**
 * Channels (渠道码): a named permanent code, an optional welcome reply, and counters kept
 * incrementally by `recordPush` — statistics never scan the push log.
 * @module
 */
import type { Clock, Random } from "../deps.ts";
import { NameConflictError, NotFoundError, QrError, ValidationError } from "../errors.ts";
import * as channels from "../store/channels.ts";
import * as codesStore from "../store/codes.ts";
import type { Database, Sql } from "../store/database.ts";
import { checkGroupId } from "./channel-groups.ts";
import {
  batchChannels,
  checkChannelIds,
  checkKnownChannels,
  mergedChannelStats,
  type ChannelBatchInput,
  type ChannelBatchResult,
  type MergedChannelStats,
  type MergedStatsQuery,
} from "./channel-sets.ts";
import { checkFollowUp, checkTagName, type ChannelFollowUps, type CheckedFollowUp, type FollowUpInput } from "./channel-follow-ups.ts";
import type { CodeService, QrCodeRow } from "./codes.ts";
import { calendarDays, DAILY_STATS_MAX_DAYS, dayInZone, statsRangeDays } from "./days.ts";
import { newId } from "./ids.ts";
import { checkPlainText } from "./plain-text.ts";
import { isReplyText, REPLY_TEXT_RULE } from "./reply-text.ts";

export type { ChannelRow, ChannelSort, DayCounts } from "../store/channels.ts";

export interface ChannelWithCode extends channels.ChannelRow {
  qrcode: QrCodeRow;
}

/** A channel as the API shows it: with today's counters and those since it began. */
export interface ChannelView extends ChannelWithCode {
  /** Today in the account's zone. */
  today: channels.DayCounts;
  /** Since the channel began; `uniqueScanners` counts each follower once over all days. */
  total: channels.DayCounts;
}

export interface ChannelListOptions {
  /** Part of the name; letters A–Z match either case. */
  search?: string | undefined;
  /** Default "createdAt". */
  sort?: channels.ChannelSort | undefined;
  /** Default "asc". */
  order?: "asc" | "desc" | undefined;
  /** Default 100, at most `CHANNEL_PAGE_MAX`. */
  limit?: number | undefined;
  offset?: number | undefined;
  /** Default false: archived channels are listed only when asked for (true) or with all the others ("all"). */
  archived?: boolean | "all" | undefined;
  /** Only the channels of this group (an unknown one is refused, naming `groupId`); null: only ungrouped ones. */
  groupId?: string | null | undefined;
  /** Only these channels (1 to 1,000; an unknown one is refused, naming `ids`). */
  ids?: readonly string[] | undefined;
}

export interface ChannelPage {
  channels: ChannelView[];
  /** Channels that match, on every page. */
  total: number;
}

export interface ChannelChanges {
  name?: string;
  /** null or "" clears it. */
  welcome?: string | null;
  archived?: boolean;
  /** A customer-service message after every scan through the channel; null clears it. */
  followUp?: FollowUpInput;
  /** The tag given to whoever scans through the channel (at most 30 UTF-8 bytes); null clears it. */
  tag?: string | null;
  /** Its group; null ungroups it. */
  groupId?: string | null;
}

export interface ChannelStats extends channels.DayCounts {
  from: string;
  to: string;
  days: Array<channels.DayCounts & { date: string }>;
}

export interface ChannelService {
  create(input: { name: string; welcome?: string; followUp?: FollowUpInput; tag?: string | null; groupId?: string | null }): Promise<ChannelView>;
  get(id: string): Promise<ChannelView>;
  /** A page of channels, searched, filtered and sorted, with their counters. */
  list(options?: ChannelListOptions): Promise<ChannelPage>;
  /** Renames, changes the welcome reply, archives or restores; the same rules as `create`. */
  update(id: string, changes: ChannelChanges): Promise<ChannelView>;
  /**
   * Counters over `[from, to]`, each an instant (epoch ms) or a day (`YYYY-MM-DD`) in the account's
   * zone; default: the channel's creation to now. `days` lists the days that have counters.
   */
  stats(id: string, range?: StatsRange): Promise<ChannelStats>;
  /** `stats` with every day of the range in `days`, zeros included (at most `DAILY_STATS_MAX_DAYS`), for exports and charts. */
  dailyStats(id: string, range?: StatsRange): Promise<ChannelStats>;
  /** The counters of several channels (`ids`) or of a group, summed per day, each person one unique scanner across them. */
  mergedStats(query: MergedStatsQuery): Promise<MergedChannelStats>;
  /** Moves, archives or restores a selection or the channels a filter selects, in one transaction. */
  batch(input: ChannelBatchInput): Promise<ChannelBatchResult>;
}

export type StatsRange = { from?: number | string | undefined; to?: number | string | undefined };

const NAME_MAX = 100;
const WELCOME_MAX = 600; // a passive text reply is limited to 2,048 bytes; 600 CJK characters stay under it
export const CHANNEL_PAGE_DEFAULT = 100;
export const CHANNEL_PAGE_MAX = 1_000;
export { DAILY_STATS_MAX_DAYS } from "./days.ts";
const SORTS: readonly channels.ChannelSort[] = ["name", "createdAt", "todayScans", "totalScans"];

function checkName(input: unknown): string {
  const name = typeof input === "string" ? input.trim() : "";
  if (name.length === 0 || name.length > NAME_MAX) throw new ValidationError("name", `must be 1 to ${NAME_MAX} characters`);
  checkPlainText("name", name);
  return name;
}

/** The welcome reply to store: null for none. */
function checkWelcome(input: string | null | undefined): string | null {
  if (input !== null && input !== undefined && typeof input !== "string") throw new ValidationError("welcome", "must be a string or null");
  const welcome = input?.trim() || null;
  if (welcome !== null && welcome.length > WELCOME_MAX) throw new ValidationError("welcome", `must be at most ${WELCOME_MAX} characters`);
  // Checked here, not when a push arrives: the welcome is the passive reply to committed effects.
  if (welcome !== null && !isReplyText(welcome)) throw new ValidationError("welcome", REPLY_TEXT_RULE);
  return welcome;
}

const channelLabel = (name: string): string => `channel: ${name}`;

function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new ValidationError(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

export function createChannelService(deps: {
  db: Database;
  codes: CodeService;
  accountId: string;
  timeZone: string;
  clock: Clock;
  random: Random;
  /** Follow-ups and tags (issue #12); without it, a channel takes neither. */
  followUps?: ChannelFollowUps;
}): ChannelService {
  const { db, accountId } = deps;

  /** The follow-up and tag columns for `input`, the tag created at WeChat first (a network call, outside any transaction). */
  async function extras(input: Pick<ChannelChanges, "followUp" | "tag">): Promise<{ changes: channels.ChannelChanges; image?: CheckedFollowUp["image"] }> {
    const changes: channels.ChannelChanges = {};
    let image: CheckedFollowUp["image"];
    if (input.followUp !== undefined || input.tag !== undefined) {
      if (!deps.followUps) throw new ValidationError(input.tag !== undefined ? "tag" : "followUp", "this service runs without the WeChat API");
    }
    if (input.followUp !== undefined) {
      const checked = checkFollowUp(input.followUp);
      changes.followUpText = checked.followUpText;
      changes.followUpImage = checked.followUpImage;
      image = checked.image;
    }
    if (input.tag !== undefined) {
      const tagName = checkTagName(input.tag);
      changes.tagName = tagName;
      changes.tagId = tagName === null ? null : await deps.followUps!.tagIdFor(tagName);
    }
    return image ? { changes, image } : { changes };
  }

  async function saveExtras(sql: Sql, id: string, extra: Awaited<ReturnType<typeof extras>>): Promise<void> {
    if (extra.image) await channels.saveFollowUpImage(sql, accountId, extra.image.id, extra.image.bytes, extra.image.contentType);
    if (Object.keys(extra.changes).length > 0) await channels.updateChannel(sql, accountId, id, extra.changes);
  }

  async function page(query: Omit<channels.ChannelListQuery, "today">): Promise<ChannelPage> {
    const today = dayInZone(deps.clock.now(), deps.timeZone);
    return db.read(async (sql) => {
      const found = await channels.listChannelPage(sql, accountId, { ...query, today });
      const codes = new Map((await codesStore.getQrCodes(sql, accountId, [...new Set(found.items.map((i) => i.channel.qrcodeId!))])).map((c) => [c.id, c]));
      const views = found.items.map((i): ChannelView => {
        const qrcode = codes.get(i.channel.qrcodeId!);
        if (!qrcode) throw new NotFoundError(`channel ${i.channel.id} has no code`);
        return { ...i.channel, qrcode, today: i.today, total: i.total };
      });
      return { channels: views, total: found.total };
    });
  }

  async function get(id: string): Promise<ChannelView> {
    const found = await page({ id, archived: "all", sort: "createdAt", order: "asc", limit: 1, offset: 0 });
    const channel = found.channels[0];
    if (!channel) throw new NotFoundError(`no channel ${id}`);
    return channel;
  }

  async function stats(id: string, range: StatsRange = {}): Promise<ChannelStats> {
    const channel = await db.read((sql) => channels.getChannel(sql, accountId, id));
    if (!channel?.qrcodeId) throw new NotFoundError(`no channel ${id}`);
    const { from, to } = statsRangeDays(range, channel.createdAt, deps.clock.now(), deps.timeZone);
    const [days, uniqueScanners] = await db.read(
      async (sql) => [await channels.channelDays(sql, id, from, to), await channels.channelUniqueScanners(sql, id, from, to)] as const,
    );
    const sum = (k: keyof channels.DayCounts): number => days.reduce((n, d) => n + d[k], 0);
    return {
      from,
      to,
      scans: sum("scans"),
      uniqueScanners,
      newFollowers: sum("newFollowers"),
      returningFollowers: sum("returningFollowers"),
      unfollows: sum("unfollows"),
      days,
    };
  }

  return {
    async create(input) {
      const name = checkName(input.name);
      const welcome = checkWelcome(input.welcome);
      // Checked before anything is created; the tag is created only once the name is known to be free.
      if (input.followUp !== undefined) checkFollowUp(input.followUp);
      if (input.tag !== undefined) checkTagName(input.tag);
      const id = newId("ch", deps.random);
      const row = { id, accountId, name, welcome, qrcodeId: null, archived: false, createdAt: deps.clock.now(), groupId: input.groupId ?? null };
      const inserted = await db.transaction(async (sql) => {
        await checkGroupId(sql, accountId, row.groupId);
        return channels.insertChannel(sql, row);
      });
      if (!inserted) throw new NameConflictError("name", name);
      try {
        const extra = await extras(input);
        const qrcode = await deps.codes.create({ type: "permanent", label: channelLabel(name), owner: { kind: "channel", id } });
        await db.transaction(async (sql) => {
          await saveExtras(sql, id, extra);
          await channels.setChannelQrCode(sql, id, qrcode.id);
        });
        return { ...row, ...extra.changes, qrcodeId: qrcode.id, qrcode, today: { ...channels.ZERO_COUNTS }, total: { ...channels.ZERO_COUNTS } };
      } catch (err) {
        // Unless a reconciliation gave it the code meanwhile: then the channel exists after all.
        await db.transaction((sql) => channels.deleteUnfinishedChannel(sql, accountId, id));
        throw err;
      }
    },
    get,
    async list(options = {}) {
      const sort = options.sort ?? "createdAt";
      if (!SORTS.includes(sort)) throw new ValidationError("sort", `must be one of ${SORTS.join(", ")}`);
      const order = options.order ?? "asc";
      if (order !== "asc" && order !== "desc") throw new ValidationError("order", 'must be "asc" or "desc"');
      const archived = options.archived ?? false;
      if (archived !== true && archived !== false && archived !== "all") throw new ValidationError("archived", 'must be true, false or "all"');
      const ids = options.ids === undefined ? undefined : checkChannelIds(options.ids);
      if (options.groupId || ids) {
        await db.read(async (sql) => {
          await checkGroupId(sql, accountId, options.groupId);
          if (ids) await checkKnownChannels(sql, accountId, ids);
        });
      }
      return page({
        ids,
        search: options.search?.trim() || undefined,
        archived,
        groupId: options.groupId,
        sort,
        order,
        limit: wholeNumber("limit", options.limit ?? CHANNEL_PAGE_DEFAULT, 1, CHANNEL_PAGE_MAX),
        offset: wholeNumber("offset", options.offset ?? 0, 0, Number.MAX_SAFE_INTEGER),
      });
    },
    async update(id, input) {
      const changes: channels.ChannelChanges = {};
      if (input.name !== undefined) changes.name = checkName(input.name);
      if (input.welcome !== undefined) changes.welcome = checkWelcome(input.welcome);
      if (input.archived !== undefined) {
        if (typeof input.archived !== "boolean") throw new ValidationError("archived", "must be true or false");
        changes.archived = input.archived;
      }
      if (input.groupId !== undefined) changes.groupId = input.groupId;
      if (input.followUp !== undefined) checkFollowUp(input.followUp);
      if (input.tag !== undefined) checkTagName(input.tag);
      if (!(await db.read((sql) => channels.getChannel(sql, accountId, id)))?.qrcodeId) throw new NotFoundError(`no channel ${id}`);
      const extra = await extras(input);
      const { name } = changes;
      const nameTaken = (sql: Sql): Promise<boolean> => channels.channelNameTaken(sql, accountId, name!, id);
      let found: boolean;
      try {
        found = await db.transaction(async (sql) => {
          const before = await channels.getChannel(sql, accountId, id);
          if (!before?.qrcodeId) return false;
          await checkGroupId(sql, accountId, changes.groupId);
          if (name !== undefined && name !== before.name) {
            if (await nameTaken(sql)) throw new NameConflictError("name", name);
            await codesStore.setQrCodeLabel(sql, accountId, before.qrcodeId, channelLabel(name));
          }
          await saveExtras(sql, id, extra);
          return channels.updateChannel(sql, accountId, id, changes);
        });
      } catch (err) {
        // A channel created or renamed meanwhile took the name: the unique key refused ours.
        if (!(err instanceof QrError) && name !== undefined && (await db.read(nameTaken))) throw new NameConflictError("name", name);
        throw err;
      }
      if (!found) throw new NotFoundError(`no channel ${id}`);
      return get(id);
    },
    stats,
    async dailyStats(id, range = {}) {
      const found = await stats(id, range);
      const every = calendarDays(found.from, found.to);
      if (every.length > DAILY_STATS_MAX_DAYS) throw new ValidationError("from", `a range of at most ${DAILY_STATS_MAX_DAYS} days, got ${every.length}`);
      const byDay = new Map(found.days.map((d) => [d.date, d]));
      return { ...found, days: every.map((date) => byDay.get(date) ?? { date, ...channels.ZERO_COUNTS }) };
    },
    mergedStats: (query) => mergedChannelStats(deps, query),
    batch: (input) => batchChannels(deps, input),
  };
}
