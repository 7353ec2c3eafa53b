/**
 * Many channels at once, written straight into the store (for the ZIP tests and the bench): each
 * a real `channels` row with its own permanent code row (scene, ticket, url) and scene allocation,
 * as `POST /api/channels` leaves them, in a few multi-row statements instead of thousands of API calls.
 */
import type { Database } from "../../src/store/database.ts";
import { inStatements, placeholderRows } from "../../src/store/database.ts";

export interface BulkChannel {
  id: string;
  name: string;
  url: string;
}

/** Inserts `count` channels named `${prefix}${i}` (scenes from `firstScene` on) into the account; returns them in order. */
export async function insertBulkChannels(
  db: Database,
  options: { accountId: string; count: number; createdAt: number; prefix?: string; firstScene?: number; groupId?: string | null },
): Promise<BulkChannel[]> {
  const prefix = options.prefix ?? "bulk ";
  const firstScene = options.firstScene ?? 50_000;
  const rows = Array.from({ length: options.count }, (_, i) => {
    const scene = firstScene + i;
    return { id: `ch_bulk${scene}`, code: `qr_bulk${scene}`, name: `${prefix}${i}`, scene, url: `http://weixin.qq.com/q/02bulk${scene.toString(36)}AbCdEf` };
  });
  await db.transaction(async (sql) => {
    for (const run of inStatements(rows, 12)) {
      await sql.run(
        `INSERT INTO qrcodes (id, account_id, type, scene_id, scene_str, ticket, url, expires_at, owner_kind, owner_id, label, created_at) VALUES ${placeholderRows(run.length, 12)}`,
        run.flatMap((r) => [
          r.code,
          options.accountId,
          "permanent",
          r.scene,
          null,
          `gQbulk${r.scene}`,
          r.url,
          null,
          "channel",
          r.id,
          `channel: ${r.name}`,
          options.createdAt,
        ]),
      );
      await sql.run(
        `INSERT INTO scene_allocations (account_id, scene_key, qrcode_id, permanent, expires_at) VALUES ${placeholderRows(run.length, 5)}`,
        run.flatMap((r) => [options.accountId, `id:${r.scene}`, r.code, 1, null]),
      );
      await sql.run(
        `INSERT INTO channels (id, account_id, name, welcome, qrcode_id, archived, created_at, group_id) VALUES ${placeholderRows(run.length, 8)}`,
        run.flatMap((r) => [r.id, options.accountId, r.name, null, r.code, 0, options.createdAt, options.groupId ?? null]),
      );
    }
  });
  return rows.map((r) => ({ id: r.id, name: r.name, url: r.url }));
}
