/**
 * Database access: SQLite (embedded default) or PostgreSQL behind one `Database`, versioned
 * migrations, and the queries the domain runs inside its transactions.
 * @module
 */
import { parseDatabaseUrl, type Database } from "./database.ts";
import { PostgresDatabase } from "./postgres-database.ts";
import { SqliteDatabase } from "./sqlite-database.ts";

export * from "./database.ts";
export { migrate, MIGRATIONS, type Migration } from "./migrations.ts";
export { SqliteDatabase, type SqliteOptions } from "./sqlite-database.ts";
export { PostgresDatabase, type PostgresOptions } from "./postgres-database.ts";
export * as codes from "./codes.ts";
export * as followers from "./followers.ts";
export * as channels from "./channels.ts";
export * as posters from "./posters.ts";

/** `sqlite:<file>` or `postgres://…` (WXQR_DATABASE). */
export function openDatabase(url: string): Database {
  const parsed = parseDatabaseUrl(url);
  return parsed.dialect === "sqlite" ? new SqliteDatabase({ file: parsed.file }) : new PostgresDatabase({ connectionString: parsed.connectionString });
}
