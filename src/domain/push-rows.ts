/**
 * The rows a batch of pushes reads and writes, held in memory for the batch (issue #11): read
 * first, in one statement per table for the whole batch; changed in memory by each push in
 * arrival order (so a push sees what the earlier pushes of its batch did, duplicates included);
 * written last, in one statement per table. A batch thus costs a fixed number of round trips
 * whatever its size, where a statement per row cost ~9 per push on PostgreSQL.
 *
 * What is read stays true while the batch runs, because every row read is one of the batch's own
 * followers, whose locks the batch took first (`followers.lockFollowers`): the follower, their
 * dedupe keys (each names its follower), their scanner rows and their referral as invitee. Codes
 * and channels are shared, but a push only reads them. A lookup the first read did not cover
 * (e.g. a code first named by an earlier push of the batch) is read on its own: correct, only slower.
 * @module
 */
import type { PushMessage, ScanMessage } from "../push/events.ts";
import * as channels from "../store/channels.ts";
import * as codes from "../store/codes.ts";
import type { Sql } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import { insertFollowUps, type FollowUpInsert } from "../store/follow-ups.ts";
import { insertOutboxRows, type OutboxInsert } from "../store/outbox.ts";
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
  /** Records a referral; false when the invitee already has an inviter. */
  addReferral(row: referrals.ReferralRow): Promise<boolean>;
  addOutbox(row: OutboxInsert): void;
  /** Adds a follow-up message or tagging (a row whose key is there already is left out when written). */
  addFollowUp(row: FollowUpInsert): void;
}

export interface BatchRows extends PushRows {
  /** Reads, a statement per table, what `messages` will look up. */
  load(messages: readonly PushMessage[]): Promise<void>;
  /** Writes every row added, a statement per table, in one order. */
  write(): Promise<void>;
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

  const newLog: followers.PushLogRow[] = [];
  const changedFollowers = new Map<string, followers.FollowerRow>();
  const newScanners: channels.ChannelScannerKey[] = [];
  const newReferrals: referrals.ReferralRow[] = [];
  const newOutbox: OutboxInsert[] = [];
  const newFollowUps: FollowUpInsert[] = [];

  const knowCode = (c: codes.QrCodeRow): void => void byId.set(c.id, c);

  const rows: BatchRows = {
    async load(messages) {
      const openIds = [...new Set(messages.map((m) => m.openId))];
      remember(followerRows, openIds, await followers.getFollowers(sql, accountId, openIds));
      const keys = messages.map((m) => m.dedupeKey);
      const loggedKeys = await followers.loggedDedupeKeys(sql, accountId, keys);
      remember(logged, keys, new Map([...loggedKeys].map((k) => [k, true as const])));

      const scans = messages.filter((m): m is ScanMessage => m.kind === "scan");
      const tickets = [...new Set(scans.flatMap((m) => (m.ticket ? [m.ticket] : [])))];
      if (tickets.length > 0) remember(byTicket, tickets, await codes.findQrCodesByTickets(sql, accountId, tickets));
      const bySceneOnly = scans.filter((m) => !m.ticket || byTicket.get(m.ticket) === null);
      const sceneKeys = [...new Set(bySceneOnly.map(sceneKeyOf))];
      if (sceneKeys.length > 0) remember(byScene, sceneKeys, await codes.findQrCodesByScenes(sql, accountId, sceneKeys));
      for (const c of [...byTicket.values(), ...byScene.values()]) if (c) knowCode(c);

      // An unfollow counts against the code that first brought the follower.
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
      const channelIds = [...new Set(scanned.flatMap(({ code }) => (code?.ownerKind === "channel" && code.ownerId ? [code.ownerId] : [])))];
      if (channelIds.length > 0) remember(channelRows, channelIds, await channels.getChannels(sql, accountId, channelIds));
      const scannerKeys = scanned.flatMap(({ m, code }) =>
        code?.ownerKind === "channel" && code.ownerId && channelRows.get(code.ownerId)
          ? [{ channelId: code.ownerId, day: dayInZone(m.createTime * 1000, timeZone), openId: m.openId }]
          : [],
      );
      if (scannerKeys.length > 0) {
        const found = await channels.knownChannelScanners(sql, scannerKeys);
        for (const k of scannerKeys.map(channels.channelScannerKey)) scanners.set(k, found.has(k) ? true : null);
      }
      const invitees = [...new Set(scanned.flatMap(({ m, code }) => (code?.ownerKind === "follower" && m.isNewFollower ? [m.openId] : [])))];
      if (invitees.length > 0) {
        const found = await referrals.invitedAmong(sql, accountId, invitees);
        for (const k of invitees) invited.set(k, found.has(k) ? true : null);
      }
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

    async write() {
      // The log and the outboxes in arrival order (their `seq`); followers in key order.
      if (newLog.length > 0) await followers.appendPushLogRows(sql, newLog);
      if (changedFollowers.size > 0)
        await followers.saveFollowers(
          sql,
          [...changedFollowers.values()].sort((a, b) => compare(a.openId, b.openId)),
        );
      if (newScanners.length > 0) await channels.addChannelScanners(sql, accountId, newScanners);
      if (newReferrals.length > 0) await referrals.insertReferrals(sql, newReferrals);
      if (newOutbox.length > 0) await insertOutboxRows(sql, newOutbox);
      if (newFollowUps.length > 0) await insertFollowUps(sql, newFollowUps);
    },
  };
  return rows;
}

// Code-unit order: the same in every process, whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
