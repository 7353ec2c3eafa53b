/** Batch operations on channels (issue #13): one statement over the whole selection, never one per channel. */
import { channelFilterClause, type ChannelFilter } from "./channels.ts";
import type { Sql, SqlParam } from "./database.ts";

/**
 * A column a batch operation sets, with the value it sets. Another action is one more member
 * here (h13-audience's `paused` column: `{ column: "paused"; value: 0 | 1 }`).
 */
export type ChannelBatchChange = { column: "group_id"; value: string | null } | { column: "archived"; value: 0 | 1 };

/** How many channels `filter` selects. */
export async function countChannels(sql: Sql, accountId: string, filter: ChannelFilter): Promise<number> {
  const where = channelFilterClause(sql, accountId, filter);
  const r = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM channels c WHERE ${where.filter}`, where.params);
  return Number(r?.n ?? 0);
}

/**
 * Sets the column on every channel `filter` selects whose value differs, in one statement;
 * returns how many changed. `IS DISTINCT FROM` compares null as a value (SQLite ≥ 3.39 and PostgreSQL).
 */
export async function setChannelsColumn(sql: Sql, accountId: string, filter: ChannelFilter, change: ChannelBatchChange): Promise<number> {
  const where = channelFilterClause(sql, accountId, filter);
  const value: SqlParam = change.value;
  return sql.run(
    `UPDATE channels SET ${change.column} = ? WHERE ${change.column} IS DISTINCT FROM ? AND id IN (SELECT c.id FROM channels c WHERE ${where.filter})`,
    [value, value, ...where.params],
  );
}
