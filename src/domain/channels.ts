/**
 * Channels (渠道码): a named permanent code, an optional welcome reply, and counters kept
 * incrementally by `recordPush` — statistics never scan the push log.
 * @module
 */
import type { Clock, Random } from "../deps.ts";
import { NameConflictError, NotFoundError, ValidationError } from "../errors.ts";
import * as channels from "../store/channels.ts";
import type { Database } from "../store/database.ts";
import type { CodeService, QrCodeRow } from "./codes.ts";
import { dayInZone, isCalendarDay } from "./days.ts";
import { newId } from "./ids.ts";
import { checkPlainText } from "./plain-text.ts";
import { isReplyText, REPLY_TEXT_RULE } from "./reply-text.ts";

export type { ChannelRow, DayCounts } from "../store/channels.ts";

export interface ChannelWithCode extends channels.ChannelRow {
  qrcode: QrCodeRow;
}

export interface ChannelStats extends channels.DayCounts {
  from: string;
  to: string;
  days: Array<channels.DayCounts & { date: string }>;
}

export interface ChannelService {
  create(input: { name: string; welcome?: string }): Promise<ChannelWithCode>;
  get(id: string): Promise<ChannelWithCode>;
  list(): Promise<ChannelWithCode[]>;
  /**
   * Counters over `[from, to]`, each an instant (epoch ms) or a day (`YYYY-MM-DD`) in the account's
   * zone; default: the channel's creation to now.
   */
  stats(id: string, range?: { from?: number | string | undefined; to?: number | string | undefined }): Promise<ChannelStats>;
}

const NAME_MAX = 100;
const WELCOME_MAX = 600; // a passive text reply is limited to 2,048 bytes; 600 CJK characters stay under it

export function createChannelService(deps: {
  db: Database;
  codes: CodeService;
  accountId: string;
  timeZone: string;
  clock: Clock;
  random: Random;
}): ChannelService {
  const { db, accountId } = deps;

  async function withCode(c: channels.ChannelRow): Promise<ChannelWithCode> {
    const qrcode = c.qrcodeId ? await deps.codes.get(c.qrcodeId) : undefined;
    if (!qrcode) throw new NotFoundError(`channel ${c.id} has no code`);
    return { ...c, qrcode };
  }

  async function get(id: string): Promise<ChannelWithCode> {
    const c = await db.read((sql) => channels.getChannel(sql, accountId, id));
    if (!c) throw new NotFoundError(`no channel ${id}`);
    return withCode(c);
  }

  return {
    async create(input) {
      const name = typeof input.name === "string" ? input.name.trim() : "";
      if (name.length === 0 || name.length > NAME_MAX) throw new ValidationError("name", `must be 1 to ${NAME_MAX} characters`);
      checkPlainText("name", name);
      const welcome = input.welcome?.trim() || null;
      if (welcome !== null && welcome.length > WELCOME_MAX) throw new ValidationError("welcome", `must be at most ${WELCOME_MAX} characters`);
      // Checked here, not when a push arrives: the welcome is the passive reply to committed effects.
      if (welcome !== null && !isReplyText(welcome)) throw new ValidationError("welcome", REPLY_TEXT_RULE);
      const id = newId("ch", deps.random);
      const row = { id, accountId, name, welcome, qrcodeId: null, createdAt: deps.clock.now() };
      if (!(await db.transaction((sql) => channels.insertChannel(sql, row)))) throw new NameConflictError("name", name);
      try {
        const qrcode = await deps.codes.create({ type: "permanent", label: `channel: ${name}`, owner: { kind: "channel", id } });
        await db.transaction((sql) => channels.setChannelQrCode(sql, id, qrcode.id));
        return { ...row, qrcodeId: qrcode.id, qrcode };
      } catch (err) {
        // Unless a reconciliation gave it the code meanwhile: then the channel exists after all.
        await db.transaction((sql) => channels.deleteUnfinishedChannel(sql, accountId, id));
        throw err;
      }
    },
    get,
    async list() {
      const rows = await db.read((sql) => channels.listChannels(sql, accountId));
      return Promise.all(rows.filter((r) => r.qrcodeId).map(withCode));
    },
    async stats(id, range = {}) {
      const channel = await get(id);
      const asDay = (v: number | string, field: "from" | "to"): string => {
        if (typeof v !== "string") return dayInZone(v, deps.timeZone);
        if (!isCalendarDay(v)) throw new ValidationError(field, `expected a day of the calendar as YYYY-MM-DD, got ${JSON.stringify(v.slice(0, 40))}`);
        return v;
      };
      const from = asDay(range.from ?? channel.createdAt, "from");
      const to = asDay(range.to ?? deps.clock.now(), "to");
      if (from > to) throw new ValidationError("from", "must not be after `to`");
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
    },
  };
}
