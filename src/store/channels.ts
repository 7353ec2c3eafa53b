/** Channels and their per-day counters, updated in the push's own transaction. */
import type { Sql } from "./database.ts";

export interface ChannelRow {
  id: string;
  accountId: string;
  name: string;
  welcome: string | null;
  qrcodeId: string | null;
  createdAt: number;
}

interface DbChannelRow {
  id: string;
  account_id: string;
  name: string;
  welcome: string | null;
  qrcode_id: string | null;
  created_at: number;
}

const toChannel = (r: DbChannelRow): ChannelRow => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  welcome: r.welcome,
  qrcodeId: r.qrcode_id,
  createdAt: Number(r.created_at),
});

/** False when the account already has a channel of that name. */
export async function insertChannel(sql: Sql, c: ChannelRow): Promise<boolean> {
  const changed = await sql.run(
    "INSERT INTO channels (id, account_id, name, welcome, qrcode_id, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING",
    [c.id, c.accountId, c.name, c.welcome, c.qrcodeId, c.createdAt],
  );
  return changed === 1;
}

export async function setChannelQrCode(sql: Sql, id: string, qrcodeId: string): Promise<void> {
  await sql.run("UPDATE channels SET qrcode_id = ? WHERE id = ?", [qrcodeId, id]);
}

/** Gives a channel whose creation was interrupted the code reconciled for it (only if it still has none). */
export async function attachUnfinishedChannelCode(sql: Sql, accountId: string, id: string, qrcodeId: string): Promise<void> {
  await sql.run("UPDATE channels SET qrcode_id = ? WHERE account_id = ? AND id = ? AND qrcode_id IS NULL", [qrcodeId, accountId, id]);
}

/** Removes a channel whose creation was interrupted and whose code will never exist (its name is free again). */
export async function deleteUnfinishedChannel(sql: Sql, accountId: string, id: string): Promise<void> {
  await sql.run("DELETE FROM channels WHERE account_id = ? AND id = ? AND qrcode_id IS NULL", [accountId, id]);
}

export async function getChannel(sql: Sql, accountId: string, id: string): Promise<ChannelRow | undefined> {
  const r = await sql.get<DbChannelRow>("SELECT id, account_id, name, welcome, qrcode_id, created_at FROM channels WHERE account_id = ? AND id = ?", [
    accountId,
    id,
  ]);
  return r && toChannel(r);
}

export async function listChannels(sql: Sql, accountId: string): Promise<ChannelRow[]> {
  const rows = await sql.all<DbChannelRow>(
    "SELECT id, account_id, name, welcome, qrcode_id, created_at FROM channels WHERE account_id = ? ORDER BY created_at, id",
    [accountId],
  );
  return rows.map(toChannel);
}

export interface DayCounts {
  scans: number;
  uniqueScanners: number;
  newFollowers: number;
  returningFollowers: number;
  unfollows: number;
}

export const ZERO_COUNTS: Readonly<DayCounts> = Object.freeze({ scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 });

export async function addChannelDay(sql: Sql, accountId: string, channelId: string, day: string, d: Partial<DayCounts>): Promise<void> {
  const v = { ...ZERO_COUNTS, ...d };
  await sql.run(
    `INSERT INTO channel_days (account_id, channel_id, day, scans, unique_scanners, new_followers, returning_followers, unfollows)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (channel_id, day) DO UPDATE SET scans = channel_days.scans + excluded.scans,
       unique_scanners = channel_days.unique_scanners + excluded.unique_scanners,
       new_followers = channel_days.new_followers + excluded.new_followers,
       returning_followers = channel_days.returning_followers + excluded.returning_followers,
       unfollows = channel_days.unfollows + excluded.unfollows`,
    [accountId, channelId, day, v.scans, v.uniqueScanners, v.newFollowers, v.returningFollowers, v.unfollows],
  );
}

/** True when this is the follower's first scan of the channel that day. */
export async function addChannelScanner(sql: Sql, accountId: string, channelId: string, day: string, openId: string): Promise<boolean> {
  const changed = await sql.run(
    "INSERT INTO channel_scanners (account_id, channel_id, day, open_id) VALUES (?, ?, ?, ?) ON CONFLICT (channel_id, day, open_id) DO NOTHING",
    [accountId, channelId, day, openId],
  );
  return changed === 1;
}

export async function channelDays(sql: Sql, channelId: string, fromDay: string, toDay: string): Promise<Array<DayCounts & { date: string }>> {
  const rows = await sql.all<{ day: string; scans: number; unique_scanners: number; new_followers: number; returning_followers: number; unfollows: number }>(
    `SELECT day, scans, unique_scanners, new_followers, returning_followers, unfollows FROM channel_days
     WHERE channel_id = ? AND day >= ? AND day <= ? ORDER BY day`,
    [channelId, fromDay, toDay],
  );
  return rows.map((r) => ({
    date: r.day,
    scans: Number(r.scans),
    uniqueScanners: Number(r.unique_scanners),
    newFollowers: Number(r.new_followers),
    returningFollowers: Number(r.returning_followers),
    unfollows: Number(r.unfollows),
  }));
}

/** Distinct followers who scanned the channel within the range (the per-day rows cannot be summed for this). */
export async function channelUniqueScanners(sql: Sql, channelId: string, fromDay: string, toDay: string): Promise<number> {
  const r = await sql.get<{ n: number }>("SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE channel_id = ? AND day >= ? AND day <= ?", [
    channelId,
    fromDay,
    toDay,
  ]);
  return Number(r?.n ?? 0);
}
