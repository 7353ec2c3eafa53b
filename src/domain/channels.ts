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
import { channelStatus, type ChannelStatus } from "./channel-status.ts";
import { channelCodeInput, channelLabel, checkCodeSpec, newImageToken, renewalPoint, sameSpec, specOf, type CodeSpecInput } from "./channel-codes.ts";
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

export type { Audience, AudienceTexts, ChannelRow, ChannelSort, DayCounts } from "../store/channels.ts";
export type { ChannelStatus } from "./channel-status.ts";

export interface ChannelWithCode extends channels.ChannelRow {
  qrcode: QrCodeRow;
}

/** A channel as the API shows it: with today's counters and those since it began. */
export interface ChannelView extends ChannelWithCode {
  /** Today in the account's zone. */
  today: channels.DayCounts;
  /** Since the channel began; `uniqueScanners` counts each follower once over all days. */
  total: channels.DayCounts;
  /** At the time of reading (`channelStatus`): only an "active" channel replies. */
  status: ChannelStatus;
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
  /** The passive reply per audience, each falling back to the welcome; an audience left out keeps its text, null or "" clears it. */
  replies?: ReplyInputs;
  /** The audiences the follow-up goes to; null: all. */
  followUpAudiences?: readonly channels.Audience[] | null;
  /** Epoch ms: the schedule's start (inclusive) and end (exclusive); null clears it. */
  startsAt?: number | null;
  endsAt?: number | null;
  /** While paused, scans count but get no reply and no follow-up. */
  paused?: boolean;
  /**
   * Its code (issue #13). A new type creates a new code now (the old one keeps counting until it
   * expires, if ever); the same type with other `days` or `renew` applies from the next renewal.
   */
  code?: CodeSpecInput;
}

export type ReplyInputs = Partial<Record<channels.Audience, string | null>>;

export type ChannelInput = Pick<ChannelChanges, "followUp" | "tag" | "groupId" | "replies" | "followUpAudiences" | "startsAt" | "endsAt" | "code"> & {
  name: string;
  welcome?: string;
};

/** When a temporary code that does not renew expires: the channel ends with it (null: it never does). */
function codeEndsAt(channel: Pick<channels.ChannelRow, "codeDays" | "codeRenew">, qrcode: Pick<QrCodeRow, "expiresAt">): number | null {
  return channel.codeDays != null && !channel.codeRenew ? qrcode.expiresAt : null;
}

export interface ChannelStats extends channels.DayCounts {
  from: string;
  to: string;
  days: Array<channels.DayCounts & { date: string }>;
}

export interface ChannelService {
  create(input: ChannelInput): Promise<ChannelView>;
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

/** A reply text to store (the welcome, or an audience's reply, named by `field`): null for none. */
function checkReplyText(field: string, input: string | null | undefined): string | null {
  if (input !== null && input !== undefined && typeof input !== "string") throw new ValidationError(field, "must be a string or null");
  const text = input?.trim() || null;
  if (text !== null && text.length > WELCOME_MAX) throw new ValidationError(field, `must be at most ${WELCOME_MAX} characters`);
  // Checked here, not when a push arrives: the reply answers committed effects.
  if (text !== null && !isReplyText(text)) throw new ValidationError(field, REPLY_TEXT_RULE);
  return text;
}

const checkWelcome = (input: string | null | undefined): string | null => checkReplyText("welcome", input);

function checkReplies(input: unknown): Partial<channels.AudienceTexts> {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    throw new ValidationError("replies", "must be {newFollower?, returningFollower?, follower?}");
  const given = input as Record<string, unknown>;
  const unknown = Object.keys(given).find((k) => !(channels.AUDIENCES as readonly string[]).includes(k));
  if (unknown !== undefined) throw new ValidationError(`replies.${unknown}`, `is not an audience: ${channels.AUDIENCES.join(", ")}`);
  const replies: Partial<channels.AudienceTexts> = {};
  for (const a of channels.AUDIENCES) if (given[a] !== undefined) replies[a] = checkReplyText(`replies.${a}`, given[a] as string | null);
  return replies;
}

function checkAudiences(input: unknown): channels.Audience[] | null {
  if (input === null) return null;
  if (!Array.isArray(input) || input.length === 0 || input.some((a) => !(channels.AUDIENCES as readonly unknown[]).includes(a))) {
    throw new ValidationError("followUpAudiences", `must be null (all) or a non-empty list of ${channels.AUDIENCES.join(", ")}`);
  }
  return channels.AUDIENCES.filter((a) => input.includes(a));
}

function checkInstant(field: "startsAt" | "endsAt", input: unknown): number | null {
  if (input === null) return null;
  if (typeof input !== "number" || !Number.isSafeInteger(input) || input < 0) throw new ValidationError(field, "must be an instant in epoch ms, or null");
  return input;
}

/** The schedule as it will be: an end must come after the start. */
function checkSchedule(startsAt: number | null | undefined, endsAt: number | null | undefined): void {
  if (startsAt != null && endsAt != null && endsAt <= startsAt) throw new ValidationError("endsAt", "must be after startsAt");
}

/** The audience and schedule columns of `input`, checked. */
function audienceChanges(input: Pick<ChannelChanges, "replies" | "followUpAudiences" | "startsAt" | "endsAt" | "paused">): channels.ChannelChanges {
  const changes: channels.ChannelChanges = {};
  if (input.replies !== undefined) changes.replies = checkReplies(input.replies);
  if (input.followUpAudiences !== undefined) changes.followUpAudiences = checkAudiences(input.followUpAudiences);
  if (input.startsAt !== undefined) changes.startsAt = checkInstant("startsAt", input.startsAt);
  if (input.endsAt !== undefined) changes.endsAt = checkInstant("endsAt", input.endsAt);
  if (input.paused !== undefined) {
    if (typeof input.paused !== "boolean") throw new ValidationError("paused", "must be true or false");
    changes.paused = input.paused;
  }
  return changes;
}

type FollowUpColumns = Pick<channels.ChannelChanges, "followUpText" | "followUpImage" | "tagName" | "tagId">;
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
  async function extras(input: Pick<ChannelChanges, "followUp" | "tag">): Promise<{ changes: FollowUpColumns; image?: CheckedFollowUp["image"] }> {
    const changes: FollowUpColumns = {};
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

  /**
   * The columns of a `code` change. A change of type creates the new code first (a network call,
   * outside any transaction); it then replaces the current one whatever a renewal did meanwhile:
   * the operator's choice wins, and a renewed code left behind keeps counting as the channel's.
   */
  async function codeChange(existing: channels.ChannelRow, input: CodeSpecInput, name: string): Promise<channels.ChannelChanges> {
    const before = specOf(existing);
    const after = checkCodeSpec(input, before);
    if (sameSpec(before, after)) return {};
    const columns = { codeDays: after.type === "temporary" ? after.days : null, codeRenew: after.type === "temporary" && after.renew };
    if (before.type === after.type) {
      const current = await deps.codes.get(existing.qrcodeId!);
      return { ...columns, renewAt: current ? renewalPoint(after, current) : null };
    }
    const qrcode = await deps.codes.create(channelCodeInput(after, { id: existing.id, name }));
    return { ...columns, qrcodeId: qrcode.id, renewAt: renewalPoint(after, qrcode) };
  }

  async function page(query: Omit<channels.ChannelListQuery, "today">): Promise<ChannelPage> {
    const now = deps.clock.now();
    const today = dayInZone(now, deps.timeZone);
    return db.read(async (sql) => {
      const found = await channels.listChannelPage(sql, accountId, { ...query, today });
      const codes = new Map((await codesStore.getQrCodes(sql, accountId, [...new Set(found.items.map((i) => i.channel.qrcodeId!))])).map((c) => [c.id, c]));
      const views = found.items.map((i): ChannelView => {
        const qrcode = codes.get(i.channel.qrcodeId!);
        if (!qrcode) throw new NotFoundError(`channel ${i.channel.id} has no code`);
        return { ...i.channel, qrcode, today: i.today, total: i.total, status: channelStatus(i.channel, now, codeEndsAt(i.channel, qrcode)) };
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
      const audience = audienceChanges({ ...input, paused: undefined });
      checkSchedule(audience.startsAt, audience.endsAt);
      // Checked before anything is created; the tag is created only once the name is known to be free.
      if (input.followUp !== undefined) checkFollowUp(input.followUp);
      if (input.tag !== undefined) checkTagName(input.tag);
      const spec = checkCodeSpec(input.code ?? { type: "permanent" });
      const id = newId("ch", deps.random);
      const row: channels.ChannelRow = {
        id,
        accountId,
        name,
        welcome,
        qrcodeId: null,
        archived: false,
        createdAt: deps.clock.now(),
        groupId: input.groupId ?? null,
        replies: { newFollower: null, returningFollower: null, follower: null, ...audience.replies },
        followUpAudiences: audience.followUpAudiences ?? null,
        startsAt: audience.startsAt ?? null,
        endsAt: audience.endsAt ?? null,
        paused: false,
        codeDays: spec.type === "temporary" ? spec.days : null,
        codeRenew: spec.type === "temporary" && spec.renew,
        imageToken: newImageToken(deps.random),
      };
      const inserted = await db.transaction(async (sql) => {
        await checkGroupId(sql, accountId, row.groupId);
        return channels.insertChannel(sql, row);
      });
      if (!inserted) throw new NameConflictError("name", name);
      try {
        const extra = await extras(input);
        const qrcode = await deps.codes.create(channelCodeInput(spec, { id, name }));
        const renewAt = renewalPoint(spec, qrcode);
        await db.transaction(async (sql) => {
          await saveExtras(sql, id, extra);
          await channels.setChannelQrCode(sql, id, qrcode.id, renewAt);
        });
        const counts = { today: { ...channels.ZERO_COUNTS }, total: { ...channels.ZERO_COUNTS } };
        const status = channelStatus(row, deps.clock.now(), codeEndsAt(row, qrcode));
        return { ...row, ...extra.changes, qrcodeId: qrcode.id, renewAt, qrcode, ...counts, status };
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
          await checkGroupId(sql, accountId, options.groupId, "read");
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
      const changes: channels.ChannelChanges = audienceChanges(input);
      if (input.name !== undefined) changes.name = checkName(input.name);
      if (input.welcome !== undefined) changes.welcome = checkWelcome(input.welcome);
      if (input.archived !== undefined) {
        if (typeof input.archived !== "boolean") throw new ValidationError("archived", "must be true or false");
        changes.archived = input.archived;
      }
      if (input.groupId !== undefined) changes.groupId = input.groupId;
      if (input.followUp !== undefined) checkFollowUp(input.followUp);
      if (input.tag !== undefined) checkTagName(input.tag);
      const existing = await db.read((sql) => channels.getChannel(sql, accountId, id));
      if (!existing?.qrcodeId) throw new NotFoundError(`no channel ${id}`);
      const code = input.code === undefined ? undefined : await codeChange(existing, input.code, changes.name ?? existing.name);
      const extra = await extras(input);
      const { name } = changes;
      const nameTaken = (sql: Sql): Promise<boolean> => channels.channelNameTaken(sql, accountId, name!, id);
      let found: boolean;
      try {
        found = await db.transaction(async (sql) => {
          const before = await channels.getChannel(sql, accountId, id);
          if (!before?.qrcodeId) return false;
          checkSchedule(changes.startsAt !== undefined ? changes.startsAt : before.startsAt, changes.endsAt !== undefined ? changes.endsAt : before.endsAt);
          await checkGroupId(sql, accountId, changes.groupId);
          if (name !== undefined && name !== before.name) {
            if (await nameTaken(sql)) throw new NameConflictError("name", name);
            await codesStore.setQrCodeLabel(sql, accountId, before.qrcodeId, channelLabel(name));
          }
          await saveExtras(sql, id, extra);
          return channels.updateChannel(sql, accountId, id, { ...changes, ...code });
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
