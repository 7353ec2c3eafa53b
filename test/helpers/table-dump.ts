/**
 * Every table of a database in one engine-neutral form, so a SQLite file and a PostgreSQL schema
 * that went through the same steps can be compared with one `toEqual`: tables and columns as the
 * catalog lists them (a table added by a later migration is dumped without touching this file),
 * integer columns as numbers whatever the driver returns, rows sorted.
 */
import type { Database, Sql } from "../../src/store/database.ts";

export type DumpValue = string | number | null;
export type TableDump = { columns: string[]; rows: Array<Record<string, DumpValue>> };

export interface DumpOptions {
  /** Columns left out, as `table.column`: values that legitimately differ between engines. */
  omit?: readonly string[];
  /**
   * Serial columns (`table.column`) replaced by their row's rank: the order is the engine's to keep,
   * the values are not (a PostgreSQL sequence also spends a value on an insert that conflicts).
   */
  rank?: readonly string[];
}

const INTEGER_TYPE = /^(integer|int|int4|int8|bigint|smallint|int2|bigserial|serial)\b/i;

export async function dumpTables(db: Database, options: DumpOptions = {}): Promise<Record<string, TableDump>> {
  const omit = new Set(options.omit ?? []);
  const rank = new Set(options.rank ?? []);
  return db.read(async (sql) => {
    const out: Record<string, TableDump> = {};
    for (const [table, types] of Object.entries(await columnTypes(sql))) {
      const columns = Object.keys(types)
        .filter((c) => !omit.has(`${table}.${c}`))
        .sort();
      const raw = await sql.all<Record<string, unknown>>(`SELECT * FROM ${table}`);
      const rows = raw.map((row) => Object.fromEntries(columns.map((c) => [c, normalise(row[c], types[c]!)])));
      for (const c of columns.filter((c) => rank.has(`${table}.${c}`))) {
        const order = rows.map((r) => r[c] as number).sort((a, b) => a - b);
        for (const r of rows) r[c] = order.indexOf(r[c] as number);
      }
      out[table] = {
        columns,
        rows: rows
          .map((r) => [JSON.stringify(r), r] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, r]) => r),
      };
    }
    return out;
  });
}

/** Table → column → declared type, from the engine's own catalog. */
async function columnTypes(sql: Sql): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  if (sql.dialect === "postgres") {
    const rows = await sql.all<{ table_name: string; column_name: string; data_type: string }>(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    );
    for (const r of rows) (out[r.table_name] ??= {})[r.column_name] = r.data_type;
    return out;
  }
  const tables = await sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  for (const { name } of tables) {
    for (const c of await sql.all<{ name: string; type: string }>(`PRAGMA table_info(${name})`)) (out[name] ??= {})[c.name] = c.type;
  }
  return out;
}

function normalise(value: unknown, type: string): DumpValue {
  if (value === null || value === undefined) return null;
  if (INTEGER_TYPE.test(type)) {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer in a ${type} column: ${String(value)}`);
    return n;
  }
  if (typeof value === "string" || typeof value === "number") return value;
  throw new Error(`unexpected ${typeof value} in a ${type} column`);
}
