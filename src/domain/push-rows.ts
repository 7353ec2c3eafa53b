/**
 * The rows a batch of pushes reads and writes, held in memory for the batch (issue #11): read
 * first, in one statement per table for the whole batch; changed in memory by each push in
 * arrival order (so a push sees what the earlier pushes of its batch did, duplicates included);
 * written last, in one statement per table. A batch thus costs a fixed number of round trips
 * whatever its size, where a statement per row cost ~9 per push on PostgreSQL.
 *
 * What is read stays true while the batch runs, because every row read is one of the batch's own
 * followers, whose locks the batch took first (`followers.lockFollowers`): the follower, their
 * dedupe keys (each names its follower), their scanner rows, their latest scan days and their
 * referral as invitee. Codes
 * and channels are shared, but a push only reads them. A lookup the first read did not cover
 * (e.g. a code first named by an earlier push of the batch) is read on its own: correct, only slower.
 * @module
 */
import type { PushMessage, ScanMessage } from "../push/events.ts";
import * as channels from "../store/channels.ts";
import * as codes from "../store/codes.ts";
import { readOne, readTogether, runTogether, type Sql, type Statement } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import { followUpInserts, type FollowUpInsert } from "../store/follow-ups.ts";
import * as lastScans from "../store/last-scans.ts";
import { outboxInserts, type OutboxInsert } from "../store/outbox.ts";
import * as referrals from "../store/referrals.ts";
import { dayInZone } from "./days.ts";

/** The batch's rows as the current push sees them, and the rows it adds. */
export interface PushRows {
  follower(openId: string): Promise<followers.FollowerRow | undefined>;
  /** Sets what wxqr knows of a follower (written at the batch's end). */
  saveFollower(row: followers.FollowerRow): void;
  /** Appends a push to the log; false when its dedupe key is there already (a duplicate). */
  log(row: followers.PushLogRow): Promise<boolean>;
  /** The code a scan names: by its ticket, else by its scene. */
  codeOfScan(message: ScanMessage): Promise<codes.QrCodeRow | undefined>;
  code(id: string): Promise<codes.QrCodeRow | undefined>;
  channel(id: string): Promise<channels.ChannelRow | undefined>;
  /** Adds the follower to a channel's scanners of a day; true when they were not among them. */
  addChannelScanner(key: channels.ChannelScannerKey): Promise<boolean>;
  /**
   * Moves the follower's latest scan day of the channel, and of any channel, to the scan's day
   * when it is later. Says, for each that moved, the day it moved from (null: their first scan);
   * a late push (a day not after the latest) moves neither.
   */
  advanceLastScans(key: channels.ChannelScannerKey): Promise<{ channel?: LastScanMove; account?: LastScanMove }>;
  /** Records a referral; false when the invitee already has an inviter. */
  addReferral(row: referrals.ReferralRow): Promise<boolean>;
  addOutbox(row: OutboxInsert): void;
  /** Adds a follow-up message or tagging (a row whose key is there already is left out when written). */
  addFollowUp(row: FollowUpInsert): void;
}

export interface BatchRows extends PushRows {
  /** Reads what `messages` will look up: a statement per table, or two for all on PostgreSQL (`readTogether`). */
  load(messages: readonly PushMessage[]): Promise<void>;
  /** Writes every row added, then `also`: a statement per table, or one for all on PostgreSQL (`runTogether`). */
  write(also?: readonly Statement[]): Promise<void>;
}

export interface LastScanMove {
  from: string | null;
}

/** Rows the batch reads: undefined when never read, null when read and absent. */
type Known<V> = Map<string, V | null>;

async function lookup<V>(known: Known<V>, key: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
  let v = known.get(key);
  if (v === undefined) {
    v = (await read()) ?? null;
    known.set(key, v);
  }
  return v ?? undefined;
}

/** Records what a read found for each key asked for, absent ones as null. */
function remember<V>(known: Known<V>, keys: Iterable<string>, found: Map<string, V>): void {
  for (const k of keys) known.set(k, found.get(k) ?? null);
}

const sceneKeyOf = (m: ScanMessage): string => codes.sceneKey({ sceneId: m.scene.id, sceneStr: m.scene.id === undefined ? m.scene.str : null });

export function createBatchRows(sql: Sql, options: { accountId: string; timeZone: string }): BatchRows {
  const { accountId, timeZone } = options;
  const followerRows: Known<followers.FollowerRow> = new Map();
  const logged: Known<true> = new Map();
  const byTicket: Known<codes.QrCodeRow> = new Map();
  const byScene: Known<codes.QrCodeRow> = new Map();
  const byId: Known<codes.QrCodeRow> = new Map();
  const channelRows: Known<channels.ChannelRow> = new Map();
  const scanners: Known<true> = new Map();
  const invited: Known<true> = new Map();
  const channelLast: Known<string> = new Map();
  const accountLast: Known<string> = new Map();

  const newLog: followers.PushLogRow[] = [];
  const changedFollowers = new Map<string, followers.FollowerRow>();
  const newScanners: channels.ChannelScannerKey[] = [];
  const newReferrals: referrals.ReferralRow[] = [];
  const movedChannelLast = new Map<string, lastScans.ChannelLastScan>();
  const movedAccountLast = new Map<string, string>();
  const newOutbox: OutboxInsert[] = [];
  const newFollowUps: FollowUpInsert[] = [];

  const knowCode = (c: codes.QrCodeRow): void => void byId.set(c.id, c);

  const rows: BatchRows = {
    async load(messages) {
      // What the messages name: followers, dedupe keys, tickets (one round trip on PostgreSQL).
      const openIds = [...new Set(messages.map((m) => m.openId))];
      const keys = messages.map((m) => m.dedupeKey);
      const scans = messages.filter((m): m is ScanMessage => m.kind === "scan");
      const tickets = [...new Set(scans.flatMap((m) => (m.ticket ? [m.ticket] : [])))];
      const [foundFollowers, loggedKeys, foundByTicket] = await readTogether<[Map<string, followers.FollowerRow>, Set<string>, Map<string, codes.QrCodeRow>]>(
        sql,
        [followers.followersRead(accountId, openIds), followers.loggedDedupeKeysRead(accountId, keys), codes.qrCodesByTicketsRead(accountId, tickets)],
      );
      remember(followerRows, openIds, foundFollowers);
      remember(logged, keys, new Map([...loggedKeys].map((k) => [k, true as const])));
      remember(byTicket, tickets, foundByTicket);
      // Codes learnt by scene only (rare: a push without a ticket, or one wxqr did not make).
      const sceneKeys = [...new Set(scans.filter((m) => !m.ticket || byTicket.get(m.ticket) === null).map(sceneKeyOf))];
      if (sceneKeys.length > 0) remember(byScene, sceneKeys, await codes.findQrCodesByScenes(sql, accountId, sceneKeys));
      for (const c of [...byTicket.values(), ...byScene.values()]) if (c) knowCode(c);

      // An unfollow counts against the code that first brought the follower (usually one of the above).
      const sourceIds = [
        ...new Set(
          messages.flatMap((m) => {
            const id = m.kind === "unsubscribe" ? followerRows.get(m.openId)?.sourceQrcodeId : undefined;
            return id && !byId.has(id) ? [id] : [];
          }),
        ),
      ];
      if (sourceIds.length > 0) remember(byId, sourceIds, new Map((await codes.getQrCodes(sql, accountId, sourceIds)).map((c) => [c.id, c])));

      // What the owners of the scanned codes will ask: channels and their scanners, referrals.
      const scanned = scans.map((m) => ({ m, code: (m.ticket ? byTicket.get(m.ticket) : undefined) ?? byScene.get(sceneKeyOf(m)) ?? undefined }));
      const ofChannels = scanned.flatMap(({ m, code }) => (code?.ownerKind === "channel" && code.ownerId ? [{ m, channelId: code.ownerId }] : []));
      const channelIds = [...new Set(ofChannels.map((s) => s.channelId))];
      const scannerKeys = ofChannels.map(({ m, channelId }) => ({ channelId, day: dayInZone(m.createTime * 1000, timeZone), openId: m.openId }));
      const invitees = [...new Set(scanned.flatMap(({ m, code }) => (code?.ownerKind === "follower" && m.isNewFollower ? [m.openId] : [])))];
      const pairs = uniqueBy(scannerKeys, lastScans.channelFollowerKey);
      const scannerIds = [...new Set(scannerKeys.map((k) => k.openId))];
      const [foundChannels, knownScanners, alreadyInvited, foundChannelLast, foundAccountLast] = await readTogether<
        [Map<string, channels.ChannelRow>, Set<string>, Set<string>, Map<string, string>, Map<string, string>]
      >(sql, [
        channels.channelsRead(accountId, channelIds),
        channels.knownChannelScannersRead(scannerKeys),
        referrals.invitedAmongRead(accountId, invitees),
        lastScans.channelLastScansRead(pairs),
        lastScans.accountLastScansRead(accountId, scannerIds),
      ]);
      remember(channelRows, channelIds, foundChannels);
      for (const k of scannerKeys.map(channels.channelScannerKey)) scanners.set(k, knownScanners.has(k) ? true : null);
      remember(channelLast, pairs.map(lastScans.channelFollowerKey), foundChannelLast);
      remember(accountLast, scannerIds, foundAccountLast);
      for (const k of invitees) invited.set(k, alreadyInvited.has(k) ? true : null);
    },

    follower: (openId) => lookup(followerRows, openId, () => followers.getFollower(sql, accountId, openId)),

    saveFollower(row) {
      // As the upsert does: a follower's row, once there, keeps its first `first_seen_at`.
      const prior = followerRows.get(row.openId);
      const next = prior ? { ...row, firstSeenAt: prior.firstSeenAt } : row;
      followerRows.set(row.openId, next);
      changedFollowers.set(row.openId, next);
    },

    async log(row) {
      const there = await lookup(logged, row.dedupeKey, async () =>
        (await followers.loggedDedupeKeys(sql, accountId, [row.dedupeKey])).size > 0 ? (true as const) : undefined,
      );
      if (there) return false;
      logged.set(row.dedupeKey, true);
      newLog.push(row);
      return true;
    },

    async codeOfScan(m) {
      const viaTicket = m.ticket ? await lookup(byTicket, m.ticket, () => codes.findQrCodeByTicket(sql, accountId, m.ticket!)) : undefined;
      const code = viaTicket ?? (await lookup(byScene, sceneKeyOf(m), () => codes.findQrCodeByScene(sql, accountId, sceneKeyOf(m))));
      if (code) knowCode(code);
      return code;
    },

    code: (id) => lookup(byId, id, () => codes.getQrCode(sql, accountId, id)),

    channel: (id) => lookup(channelRows, id, () => channels.getChannel(sql, accountId, id)),

    async addChannelScanner(key) {
      const k = channels.channelScannerKey(key);
      const there = await lookup(scanners, k, async () => ((await channels.knownChannelScanners(sql, [key])).size > 0 ? (true as const) : undefined));
      if (there) return false;
      scanners.set(k, true);
      newScanners.push(key);
      return true;
    },

    async advanceLastScans(key) {
      const pair = lastScans.channelFollowerKey(key);
      const ofChannel = await lookup(channelLast, pair, async () => (await readOne(sql, lastScans.channelLastScansRead([key]))).get(pair));
      const ofAccount = await lookup(accountLast, key.openId, async () =>
        (await readOne(sql, lastScans.accountLastScansRead(accountId, [key.openId]))).get(key.openId),
      );
      const moved: { channel?: LastScanMove; account?: LastScanMove } = {};
      if (ofChannel === undefined || key.day > ofChannel) {
        moved.channel = { from: ofChannel ?? null };
        channelLast.set(pair, key.day);
        movedChannelLast.set(pair, key);
      }
      if (ofAccount === undefined || key.day > ofAccount) {
        moved.account = { from: ofAccount ?? null };
        accountLast.set(key.openId, key.day);
        movedAccountLast.set(key.openId, key.day);
      }
      return moved;
    },

    async addReferral(row) {
      const there = await lookup(invited, row.invitee, async () =>
        (await referrals.invitedAmong(sql, accountId, [row.invitee])).size > 0 ? (true as const) : undefined,
      );
      if (there) return false;
      invited.set(row.invitee, true);
      newReferrals.push(row);
      return true;
    },

    addOutbox(row) {
      newOutbox.push(row);
    },

    addFollowUp(row) {
      newFollowUps.push(row);
    },

    async write(also = []) {
      // The log and the outboxes in arrival order (their `seq`); followers in key order.
      await runTogether(sql, [
        ...followers.pushLogInserts(newLog),
        ...followers.followerUpserts([...changedFollowers.values()].sort((a, b) => compare(a.openId, b.openId))),
        ...channels.channelScannerInserts(accountId, newScanners),
        ...lastScans.channelLastScanUpserts(
          accountId,
          [...movedChannelLast.values()].sort((a, b) => compare(a.channelId, b.channelId) || compare(a.openId, b.openId)),
        ),
        ...lastScans.accountLastScanUpserts(
          accountId,
          [...movedAccountLast].sort(([a], [b]) => compare(a, b)).map(([openId, day]) => ({ openId, day })),
        ),
        ...referrals.referralInserts(newReferrals),
        ...outboxInserts(newOutbox),
        ...followUpInserts(newFollowUps),
        ...also,
      ]);
    },
  };
  return rows;
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

// Code-unit order: the same in every process, whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
