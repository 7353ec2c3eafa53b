/**
 * Versioned schema migrations, applied in order inside one transaction each (`wxqr migrate`,
 * also at start). The DDL is shared; `{serial}` is the one place the engines differ.
 * Times are epoch milliseconds (UTC instants); days for statistics are `YYYY-MM-DD` strings
 * cut in the account's time zone.
 * @module
 */
import type { Database, Dialect } from "./database.ts";
import { v1 } from "./schema/v1-core.ts";
import { v2 } from "./schema/v2-referrals.ts";
import { v3 } from "./schema/v3-scan-sessions.ts";
import { v4 } from "./schema/v4-outbox-tokens.ts";
import { v5 } from "./schema/v5-session-codes.ts";
import { v6 } from "./schema/v6-admin-sessions.ts";
import { v7 } from "./schema/v7-channel-archive.ts";
import { v8 } from "./schema/v8-posters.ts";
import { v9 } from "./schema/v9-follow-ups.ts";
import { v10 } from "./schema/v10-latest-scans.ts";
import { v11 } from "./schema/v11-channel-groups.ts";
import { v12 } from "./schema/v12-temporary-channels.ts";
import { v13 } from "./schema/v13-channel-audiences.ts";

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

const SERIAL: Record<Dialect, string> = { sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT", postgres: "BIGSERIAL PRIMARY KEY" };

/** In order. Each file in schema/ is one version; an applied migration is never edited. */
export const MIGRATIONS: readonly Migration[] = [
  v1,
  v2,
  v3,
  v4,
  v5,
  v6,
  v7,
  v8,
  v9,
  v10,
  v11,
  v12,
  v13,
  // next versions: one line each, in order
];

const LOCK_ID = 4_172_019; // any constant: serialises migrations across instances on PostgreSQL

/** Applies the migrations not yet applied; returns their versions. Safe to run from several processes. */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (sql) => {
    if (sql.dialect === "postgres") await sql.run(`SELECT pg_advisory_xact_lock(${LOCK_ID})`);
    await sql.run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const done = new Set((await sql.all<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      for (const statement of m.statements) await sql.run(statement.replace("{serial}", SERIAL[sql.dialect]));
      await sql.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)", [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
