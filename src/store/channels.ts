/** Channels and their per-day counters, updated in the push's own transaction. */
import { inStatements, placeholderList, placeholderRows, readOne, type Read, type Sql, type SqlParam, type Statement } from "./database.ts";

export interface ChannelRow {
  id: string;
  accountId: string;
  name: string;
  welcome: string | null;
  qrcodeId: string | null;
  /** Left out of the default list; its code still works and its pushes still count. */
  archived: boolean;
  createdAt: number;
  /** Sent as a customer-service message after every scan through the channel (issue #12). */
  followUpText?: string | null;
  /** The id of an image in `channel_follow_up_images`, sent the same way. */
  followUpImage?: string | null;
  /** The tag given to whoever scans through the channel; its WeChat id once created. */
  tagName?: string | null;
  tagId?: number | null;
  /** Its group (issue #13); null or absent: ungrouped. */
  groupId?: string | null;
}

interface DbChannelRow {
  id: string;
  account_id: string;
  name: string;
  welcome: string | null;
  qrcode_id: string | null;
  archived: number;
  created_at: number;
  follow_up_text: string | null;
  follow_up_image: string | null;
  tag_name: string | null;
  tag_id: number | string | null;
  group_id: string | null;
}

const CHANNEL_COLUMNS =
  "c.id, c.account_id, c.name, c.welcome, c.qrcode_id, c.archived, c.created_at, c.follow_up_text, c.follow_up_image, c.tag_name, c.tag_id, c.group_id";

const toChannel = (r: DbChannelRow): ChannelRow => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  welcome: r.welcome,
  qrcodeId: r.qrcode_id,
  archived: Number(r.archived) === 1,
  createdAt: Number(r.created_at),
  followUpText: r.follow_up_text,
  followUpImage: r.follow_up_image,
  tagName: r.tag_name,
  tagId: r.tag_id === null ? null : Number(r.tag_id),
  groupId: r.group_id,
});

/** False when the account already has a channel of that name. */
export async function insertChannel(sql: Sql, c: ChannelRow): Promise<boolean> {
  const changed = await sql.run(
    "INSERT INTO channels (id, account_id, name, welcome, qrcode_id, archived, created_at, group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING",
    [c.id, c.accountId, c.name, c.welcome, c.qrcodeId, c.archived ? 1 : 0, c.createdAt, c.groupId ?? null],
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
  const r = await sql.get<DbChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.account_id = ? AND c.id = ?`, [accountId, id]);
  return r && toChannel(r);
}

/** The channels among `ids` that exist, by id. */
export function getChannels(sql: Sql, accountId: string, ids: readonly string[]): Promise<Map<string, ChannelRow>> {
  return readOne(sql, channelsRead(accountId, ids));
}

/** `getChannels` as a `Read`. */
export function channelsRead(accountId: string, ids: readonly string[]): Read<Map<string, ChannelRow>> {
  return {
    statements: inStatements([...new Set(ids)], 1).map((run) => ({
      text: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.account_id = ? AND c.id IN (${placeholderList(run.length)})`,
      params: [accountId, ...run],
    })),
    result: (rows) => new Map((rows as DbChannelRow[]).map((r) => [r.id, toChannel(r)])),
  };
}

/** Whether a channel other than `exceptId` is called `name`. */
export async function channelNameTaken(sql: Sql, accountId: string, name: string, exceptId: string): Promise<boolean> {
  return (await sql.get("SELECT 1 AS taken FROM channels WHERE account_id = ? AND name = ? AND id <> ?", [accountId, name, exceptId])) !== undefined;
}

export interface ChannelChanges {
  name?: string;
  welcome?: string | null;
  archived?: boolean;
  followUpText?: string | null;
  followUpImage?: string | null;
  tagName?: string | null;
  tagId?: number | null;
  groupId?: string | null;
}

/** Applies the given changes; false when the account has no such channel. */
export async function updateChannel(sql: Sql, accountId: string, id: string, changes: ChannelChanges): Promise<boolean> {
  const values: Array<[string, SqlParam]> = [];
  if (changes.name !== undefined) values.push(["name", changes.name]);
  if (changes.welcome !== undefined) values.push(["welcome", changes.welcome]);
  if (changes.archived !== undefined) values.push(["archived", changes.archived ? 1 : 0]);
  if (changes.followUpText !== undefined) values.push(["follow_up_text", changes.followUpText]);
  if (changes.followUpImage !== undefined) values.push(["follow_up_image", changes.followUpImage]);
  if (changes.tagName !== undefined) values.push(["tag_name", changes.tagName]);
  if (changes.tagId !== undefined) values.push(["tag_id", changes.tagId]);
  if (changes.groupId !== undefined) values.push(["group_id", changes.groupId]);
  // No change still says whether the channel exists.
  const sets = values.length === 0 ? "id = id" : values.map(([column]) => `${column} = ?`).join(", ");
  return (await sql.run(`UPDATE channels SET ${sets} WHERE account_id = ? AND id = ?`, [...values.map(([, v]) => v), accountId, id])) === 1;
}

export type ChannelSort = "name" | "createdAt" | "todayScans" | "totalScans";

/** Which channels a list, an export or a batch operation takes: every given condition must hold. */
export interface ChannelFilter {
  /** Only this channel (reading one channel with its counters). */
  id?: string | undefined;
  /** Only these channels (a selection; at most a few thousand). */
  ids?: readonly string[] | undefined;
  /** Part of the name; letters A–Z match either case (the same on both engines). */
  search?: string | undefined;
  archived: boolean | "all";
  /** Only the channels of this group; null: only ungrouped ones. */
  groupId?: string | null | undefined;
}

export interface ChannelListQuery extends ChannelFilter {
  sort: ChannelSort;
  order: "asc" | "desc";
  limit: number;
  offset: number;
  /** `YYYY-MM-DD`: the day whose counters are `today`. */
  today: string;
}

export interface ChannelListItem {
  channel: ChannelRow;
  today: DayCounts;
  /** Since the channel began; `uniqueScanners` is distinct over all days. */
  total: DayCounts;
}

const COUNT_COLUMNS = ["scans", "unique_scanners", "new_followers", "returning_followers", "unfollows"] as const;
type CountColumn = (typeof COUNT_COLUMNS)[number];

/**
 * The WHERE clause (over `channels c`) that selects the account's channels matching `q`, with a
 * code (an unfinished creation is never selected): shared by the list, the export and batch
 * operations, so that a filter selects the same channels everywhere.
 */
export function channelFilterClause(sql: Sql, accountId: string, q: ChannelFilter): { filter: string; params: SqlParam[] } {
  const byCodePoint = sql.dialect === "postgres" ? ' COLLATE "C"' : "";
  const where: string[] = [];
  const params: SqlParam[] = [];
  const add = (clause: string, ...values: SqlParam[]): void => {
    where.push(clause);
    params.push(...values);
  };
  add("c.account_id = ?", accountId);
  add("c.qrcode_id IS NOT NULL");
  if (q.id !== undefined) add("c.id = ?", q.id);
  if (q.ids !== undefined) add(q.ids.length === 0 ? "1 = 0" : `c.id IN (${placeholderList(q.ids.length)})`, ...q.ids);
  if (q.archived !== "all") add("c.archived = ?", q.archived ? 1 : 0);
  if (q.groupId === null) add("c.group_id IS NULL");
  else if (q.groupId !== undefined) add("c.group_id = ?", q.groupId);
  // lower() folds A–Z only on SQLite, and under the "C" collation only A–Z on PostgreSQL too.
  if (q.search) add(`lower(c.name${byCodePoint}) LIKE ? ESCAPE '\\'`, `%${likeEscaped(asciiLower(q.search))}%`);
  return { filter: where.join(" AND "), params };
}

/**
 * A page of the account's channels (with a code: an unfinished creation is not listed) and how
 * many match. A fixed number of queries whatever the number of channels: the page with today's
 * counters (one row per channel, joined by key), then for the page's channels only one grouped
 * sum of their days, which also gives their distinct scanners of all time (every follower who
 * ever scanned a channel has their latest scan of it on one of its days: `last_scanners`).
 */
export async function listChannelPage(sql: Sql, accountId: string, q: ChannelListQuery): Promise<{ items: ChannelListItem[]; total: number }> {
  const byCodePoint = sql.dialect === "postgres" ? ' COLLATE "C"' : "";
  const { filter, params } = channelFilterClause(sql, accountId, q);
  const counted = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM channels c WHERE ${filter}`, params);

  // Sorting by the totals sums each channel's days through its own key: a plan that holds
  // whatever the engine's statistics say (a join on an aggregate of all days did not).
  const sortKey: Record<ChannelSort, string> = {
    name: `c.name${byCodePoint}`,
    createdAt: "c.created_at",
    todayScans: "COALESCE(t.scans, 0)",
    totalScans: "COALESCE((SELECT SUM(d.scans) FROM channel_days d WHERE d.channel_id = c.id), 0)",
  };
  const dir = q.order === "desc" ? "DESC" : "ASC";
  const rows = await sql.all<DbChannelRow & Record<`t_${CountColumn}`, number | null>>(
    `SELECT ${CHANNEL_COLUMNS}, ${COUNT_COLUMNS.map((k) => `t.${k} AS t_${k}`).join(", ")}
     FROM channels c LEFT JOIN channel_days t ON t.channel_id = c.id AND t.day = ?
     WHERE ${filter}
     ORDER BY ${sortKey[q.sort]} ${dir}, c.created_at ${dir}, c.id ${dir}
     LIMIT ? OFFSET ?`,
    [q.today, ...params, q.limit, q.offset],
  );
  const totals = new Map<string, Record<CountColumn, number | null>>();
  const uniques = new Map<string, number>();
  if (rows.length > 0) {
    const ids = rows.map((r) => r.id);
    const idList = ids.map(() => "?").join(", ");
    const sums = await sql.all<{ channel_id: string; last_scanners: number | null } & Record<CountColumn, number | null>>(
      `SELECT channel_id, ${COUNT_COLUMNS.map((k) => `SUM(${k}) AS ${k}`).join(", ")}, SUM(last_scanners) AS last_scanners
       FROM channel_days WHERE channel_id IN (${idList}) GROUP BY channel_id`,
      ids,
    );
    for (const r of sums) {
      totals.set(r.channel_id, r);
      uniques.set(r.channel_id, Number(r.last_scanners ?? 0));
    }
  }
  const items = rows.map((r) => {
    const a = totals.get(r.id);
    return {
      channel: toChannel(r),
      today: {
        scans: Number(r.t_scans ?? 0),
        uniqueScanners: Number(r.t_unique_scanners ?? 0),
        newFollowers: Number(r.t_new_followers ?? 0),
        returningFollowers: Number(r.t_returning_followers ?? 0),
        unfollows: Number(r.t_unfollows ?? 0),
      },
      total: {
        scans: Number(a?.scans ?? 0),
        uniqueScanners: uniques.get(r.id) ?? 0,
        newFollowers: Number(a?.new_followers ?? 0),
        returningFollowers: Number(a?.returning_followers ?? 0),
        unfollows: Number(a?.unfollows ?? 0),
      },
    };
  });
  return { items, total: Number(counted?.n ?? 0) };
}

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export interface DayCounts {
  scans: number;
  uniqueScanners: number;
  newFollowers: number;
  returningFollowers: number;
  unfollows: number;
}

export const ZERO_COUNTS: Readonly<DayCounts> = Object.freeze({ scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 });

export async function addChannelDay(sql: Sql, accountId: string, channelId: string, day: string, d: Partial<DayCounts>): Promise<void> {
  await addChannelDays(sql, accountId, [{ channelId, day, counts: { ...ZERO_COUNTS, ...d } }]);
}

/** What to add to one (channel, day) row. */
export interface ChannelDayAddition {
  channelId: string;
  day: string;
  counts: DayCounts;
  /** To the followers whose latest scan of the channel is that day (`last-scans.ts`); default 0. */
  lastScanners?: number;
}

/**
 * Adds to the counters of several (channel, day) rows, in the given order; one row may appear
 * once only (PostgreSQL updates a row once per statement).
 */
export async function addChannelDays(sql: Sql, accountId: string, rows: readonly ChannelDayAddition[]): Promise<void> {
  for (const s of channelDayUpserts(accountId, rows)) await sql.run(s.text, s.params);
}

/** `addChannelDays` as statements, for `runTogether`. */
export function channelDayUpserts(accountId: string, rows: readonly ChannelDayAddition[]): Statement[] {
  return inStatements(rows, 9).map((run) => ({
    text: `INSERT INTO channel_days (account_id, channel_id, day, scans, unique_scanners, new_followers, returning_followers, unfollows, last_scanners)
       VALUES ${placeholderRows(run.length, 9)}
       ON CONFLICT (channel_id, day) DO UPDATE SET scans = channel_days.scans + excluded.scans,
         unique_scanners = channel_days.unique_scanners + excluded.unique_scanners,
         new_followers = channel_days.new_followers + excluded.new_followers,
         returning_followers = channel_days.returning_followers + excluded.returning_followers,
         unfollows = channel_days.unfollows + excluded.unfollows,
         last_scanners = channel_days.last_scanners + excluded.last_scanners`,
    params: run.flatMap(({ channelId, day, counts: v, lastScanners }) => [
      accountId,
      channelId,
      day,
      v.scans,
      v.uniqueScanners,
      v.newFollowers,
      v.returningFollowers,
      v.unfollows,
      lastScanners ?? 0,
    ]),
  }));
}

/** True when this is the follower's first scan of the channel that day. */
export async function addChannelScanner(sql: Sql, accountId: string, channelId: string, day: string, openId: string): Promise<boolean> {
  const changed = await sql.run(
    "INSERT INTO channel_scanners (account_id, channel_id, day, open_id) VALUES (?, ?, ?, ?) ON CONFLICT (channel_id, day, open_id) DO NOTHING",
    [accountId, channelId, day, openId],
  );
  return changed === 1;
}

export interface ChannelScannerKey {
  channelId: string;
  day: string;
  openId: string;
}

/** `channelId|day|openId`: how `knownChannelScanners` names a scanner row. */
export const channelScannerKey = (k: ChannelScannerKey): string => `${k.channelId}\u0000${k.day}\u0000${k.openId}`;

/** Which of these (channel, day, openId) rows exist, as `channelScannerKey`s. */
export function knownChannelScanners(sql: Sql, keys: readonly ChannelScannerKey[]): Promise<Set<string>> {
  return readOne(sql, knownChannelScannersRead(keys));
}

/** `knownChannelScanners` as a `Read`. */
export function knownChannelScannersRead(keys: readonly ChannelScannerKey[]): Read<Set<string>> {
  return {
    statements: inStatements(keys, 3).map((run) => ({
      text: `SELECT channel_id, day, open_id FROM channel_scanners WHERE (channel_id, day, open_id) IN (VALUES ${placeholderRows(run.length, 3)})`,
      params: run.flatMap((k) => [k.channelId, k.day, k.openId]),
    })),
    result: (rows) =>
      new Set(
        (rows as Array<{ channel_id: string; day: string; open_id: string }>).map((r) =>
          channelScannerKey({ channelId: r.channel_id, day: r.day, openId: r.open_id }),
        ),
      ),
  };
}

/** Inserts scanner rows that are not there yet. */
export async function addChannelScanners(sql: Sql, accountId: string, keys: readonly ChannelScannerKey[]): Promise<void> {
  for (const s of channelScannerInserts(accountId, keys)) await sql.run(s.text, s.params);
}

/** `addChannelScanners` as statements, for `runTogether`. */
export function channelScannerInserts(accountId: string, keys: readonly ChannelScannerKey[]): Statement[] {
  return inStatements(keys, 4).map((run) => ({
    text: `INSERT INTO channel_scanners (account_id, channel_id, day, open_id) VALUES ${placeholderRows(run.length, 4)} ON CONFLICT (channel_id, day, open_id) DO NOTHING`,
    params: run.flatMap((k) => [accountId, k.channelId, k.day, k.openId]),
  }));
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

/**
 * Distinct followers who scanned the channel within the range. When no follower's latest scan of
 * it is after `toDay` (a range ending today), they are those whose latest scan is on or after
 * `fromDay`: a sum over the channel's day rows from `fromDay` on, however many scans the range
 * holds. Otherwise (a range ending before the latest scans) a count of distinct scanner rows,
 * which grows with the range's scans (issue #11).
 */
export async function channelUniqueScanners(sql: Sql, channelId: string, fromDay: string, toDay: string): Promise<number> {
  const sums = await sql.get<{ n: number | null; later: number | null }>(
    `SELECT SUM(last_scanners) AS n, SUM(CASE WHEN day > ? AND last_scanners > 0 THEN 1 ELSE 0 END) AS later
     FROM channel_days WHERE channel_id = ? AND day >= ?`,
    [toDay, channelId, fromDay],
  );
  if (Number(sums?.later ?? 0) === 0) return Number(sums?.n ?? 0);
  const r = await sql.get<{ n: number }>("SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE channel_id = ? AND day >= ? AND day <= ?", [
    channelId,
    fromDay,
    toDay,
  ]);
  return Number(r?.n ?? 0);
}

/**
 * The account's counters summed over all its channels (archived ones included), for ranges that
 * all end on `toDay` and start on each of `fromDays`, in one pass over the longest range (the
 * day indexes of v7 keep it to those days). `uniqueScanners` counts each follower once per range:
 * a sum of the account's per-day counts of latest scans (`account_days`) when no follower's
 * latest scan is after `toDay`, else a count of distinct scanner rows (see `channelUniqueScanners`).
 */
export async function accountTotals(sql: Sql, accountId: string, toDay: string, fromDays: readonly string[]): Promise<DayCounts[]> {
  if (fromDays.length === 0) return [];
  const earliest = fromDays.reduce((a, b) => (a < b ? a : b));
  const sums = fromDays.flatMap((_, i) => COUNT_COLUMNS.map((k) => `SUM(CASE WHEN day >= ? THEN ${k} ELSE 0 END) AS r${i}_${k}`));
  const days = await sql.get<Record<string, number | null>>(`SELECT ${sums.join(", ")} FROM channel_days WHERE account_id = ? AND day >= ? AND day <= ?`, [
    ...fromDays.flatMap((from) => COUNT_COLUMNS.map(() => from)),
    accountId,
    earliest,
    toDay,
  ]);
  const latest = fromDays.map((_, i) => `SUM(CASE WHEN day >= ? THEN last_scanners ELSE 0 END) AS r${i}`);
  let scanners = await sql.get<Record<string, number | null>>(
    `SELECT ${latest.join(", ")}, SUM(CASE WHEN day > ? AND last_scanners > 0 THEN 1 ELSE 0 END) AS later FROM account_days WHERE account_id = ? AND day >= ?`,
    [...fromDays, toDay, accountId, earliest],
  );
  if (Number(scanners?.later ?? 0) > 0) {
    const distinct = fromDays.map((_, i) => `COUNT(DISTINCT CASE WHEN day >= ? THEN open_id END) AS r${i}`);
    scanners = await sql.get<Record<string, number | null>>(
      `SELECT ${distinct.join(", ")} FROM channel_scanners WHERE account_id = ? AND day >= ? AND day <= ?`,
      [...fromDays, accountId, earliest, toDay],
    );
  }
  return fromDays.map((_, i) => ({
    scans: Number(days?.[`r${i}_scans`] ?? 0),
    uniqueScanners: Number(scanners?.[`r${i}`] ?? 0),
    newFollowers: Number(days?.[`r${i}_new_followers`] ?? 0),
    returningFollowers: Number(days?.[`r${i}_returning_followers`] ?? 0),
    unfollows: Number(days?.[`r${i}_unfollows`] ?? 0),
  }));
}

/** The tag id a channel of this account already holds for `name` (tags are account-wide). */
export async function tagIdNamed(sql: Sql, accountId: string, name: string): Promise<number | undefined> {
  const r = await sql.get<{ tag_id: number | string }>("SELECT tag_id FROM channels WHERE account_id = ? AND tag_name = ? AND tag_id IS NOT NULL LIMIT 1", [
    accountId,
    name,
  ]);
  return r ? Number(r.tag_id) : undefined;
}

/** Everyone who ever scanned or subscribed through a channel (its scanners over all days). */
export async function channelFollowerIds(sql: Sql, channelId: string): Promise<string[]> {
  const rows = await sql.all<{ open_id: string }>("SELECT DISTINCT open_id FROM channel_scanners WHERE channel_id = ? ORDER BY open_id", [channelId]);
  return rows.map((r) => r.open_id);
}

export async function saveFollowUpImage(sql: Sql, accountId: string, id: string, bytes: Uint8Array, contentType: string): Promise<void> {
  await sql.run("INSERT INTO channel_follow_up_images (account_id, id, bytes, content_type) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, id) DO NOTHING", [
    accountId,
    id,
    bytes,
    contentType,
  ]);
}

export async function getFollowUpImage(sql: Sql, accountId: string, id: string): Promise<{ bytes: Buffer; contentType: string } | undefined> {
  const r = await sql.get<{ bytes: Uint8Array; content_type: string }>(
    "SELECT bytes, content_type FROM channel_follow_up_images WHERE account_id = ? AND id = ?",
    [accountId, id],
  );
  return r && { bytes: Buffer.from(r.bytes), contentType: r.content_type };
}
