/**
 * The one seam between wxqr's queries and a database engine. Queries are written once, in
 * the SQL both engines share (`?` placeholders, `ON CONFLICT`, `RETURNING`), against `Sql`;
 * `sqlite-database.ts` and `postgres-database.ts` run them. A query's result rows, in the
 * engines' snake_case, are typed `Db*Row` and turned into camelCase rows in the same file; the
 * `Wire*` prefix stays with WeChat's shapes in `wechat/` and `push/` (style.md §2).
 * @module
 */
import { StorageUnavailableError } from "../errors.ts";

export type Dialect = "sqlite" | "postgres";
/** A `Uint8Array` (a Buffer) goes to a BLOB / BYTEA column and comes back as a Buffer on both engines. */
export type SqlParam = string | number | null | Uint8Array;

/** A connection inside a transaction. */
export interface Sql {
  readonly dialect: Dialect;
  /** Rows changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
}

export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** What a batch does in its transaction: each item, and optionally a first and a last step around them. */
export interface BatchWork<I, R> {
  /** Runs first, with every item: e.g. takes the locks all the items will need, in one order. */
  begin?(sql: Sql, items: readonly I[]): Promise<void>;
  /**
   * Does every item's work at once (set-wise: a few statements for the whole batch), values in
   * the items' order; it throws when any item fails, and the batch is then run again with `item`
   * for each. Without it, `item` runs for each item in turn.
   */
  all?(sql: Sql, items: readonly I[]): Promise<R[]>;
  /** One item's work, on its own: the path that isolates a failing item (in its savepoint). */
  item(sql: Sql, item: I): Promise<R>;
  /**
   * Runs last, with the values of the items that succeeded (a failed item's value never reaches
   * it): e.g. writes the rows many items share, in one order, once.
   */
  end?(sql: Sql, values: readonly R[]): Promise<void>;
}

export interface Database {
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * Group commit: one transaction, each item in its own savepoint, so one bad item is rolled
   * back alone while the rest commit together; `work.begin` before the items, `work.end` after
   * them. Resolves after the commit.
   */
  batch<I, R>(items: readonly I[], work: BatchWork<I, R>): Promise<ItemResult<R>[]>;
  /** A read outside any write transaction. */
  read<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A batch as both engines run it: first all items in one plain transaction (two statements per
 * item fewer than savepoints cost), and only when an item fails, again with a savepoint per item
 * so that the others still commit. Every item's effects are in the database when this resolves.
 */
export async function batchOptimistically<I, R>(
  transaction: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>,
  items: readonly I[],
  work: BatchWork<I, R>,
): Promise<ItemResult<R>[]> {
  try {
    return await transaction(async (sql) => {
      await work.begin?.(sql, items);
      const values = work.all ? await work.all(sql, items) : await eachInTurn(sql, items, work);
      await work.end?.(sql, values);
      return values.map((value): ItemResult<R> => ({ ok: true, value }));
    });
  } catch (err) {
    if (items.length === 1 || err instanceof StorageUnavailableError) throw err;
    return transaction(async (sql) => {
      await work.begin?.(sql, items);
      const results = await runInSavepoints(sql, items, (s, item) => work.item(s, item));
      await work.end?.(
        sql,
        results.flatMap((r) => (r.ok ? [r.value] : [])),
      );
      return results;
    });
  }
}

async function eachInTurn<I, R>(sql: Sql, items: readonly I[], work: BatchWork<I, R>): Promise<R[]> {
  const values: R[] = [];
  for (const item of items) values.push(await work.item(sql, item));
  return values;
}

/** Runs each item of a batch in a savepoint, on an already open transaction. */
export async function runInSavepoints<I, R>(sql: Sql, items: readonly I[], fn: (sql: Sql, item: I) => Promise<R>): Promise<ItemResult<R>[]> {
  const results: ItemResult<R>[] = [];
  for (const item of items) {
    await sql.run("SAVEPOINT item");
    try {
      const value = await fn(sql, item);
      await sql.run("RELEASE SAVEPOINT item");
      results.push({ ok: true, value });
    } catch (error) {
      await sql.run("ROLLBACK TO SAVEPOINT item");
      await sql.run("RELEASE SAVEPOINT item");
      results.push({ ok: false, error });
    }
  }
  return results;
}

// Bound parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS = 30_000;

/** Splits rows of `columns` parameters each into runs that one statement can take. */
export function inStatements<T>(rows: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const runs: T[][] = [];
  for (let i = 0; i < rows.length; i += size) runs.push(rows.slice(i, i + size));
  return runs;
}

/** `(?, ?), (?, ?)`: the placeholders of `rows` rows of `columns` values, for a multi-row VALUES or IN. */
export function placeholderRows(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => row).join(", ");
}

/** `?, ?, ?`: the placeholders of a list, for `IN (…)`. */
export function placeholderList(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/** A statement and its parameters, built to be run now or together with others (`runTogether`). */
export interface Statement {
  text: string;
  params: SqlParam[];
}

/**
 * Runs writes that do not depend on one another: on PostgreSQL as one statement (each a
 * data-modifying `WITH` clause, all run to completion), so one round trip; on SQLite, where a
 * statement costs no round trip, one after another.
 */
export async function runTogether(sql: Sql, statements: readonly Statement[]): Promise<void> {
  const params = statements.reduce((n, s) => n + s.params.length, 0);
  if (sql.dialect === "postgres" && statements.length > 1 && params <= MAX_PARAMS) {
    const clauses = statements.map((s, i) => `w${i} AS (${s.text})`).join(", ");
    await sql.run(
      `WITH ${clauses} SELECT 1`,
      statements.flatMap((s) => s.params),
    );
    return;
  }
  for (const s of statements) await sql.run(s.text, s.params);
}

/** Runs statements one after another, for the rows they changed in all (an insert that skips a row already there counts it out). */
export async function runCounted(sql: Sql, statements: readonly Statement[]): Promise<number> {
  let changed = 0;
  for (const s of statements) changed += await sql.run(s.text, s.params);
  return changed;
}

/** A read built to be run alone or with others (`readTogether`): its statements, and what their rows mean. */
export interface Read<T> {
  statements: Statement[];
  result(rows: unknown[]): T;
}

/**
 * Runs reads that do not depend on one another: on PostgreSQL as one statement (each read's
 * rows aggregated as JSON in a column of its own), so one round trip; on SQLite one after
 * another. Columns come back as JSON gives them (a BIGINT as a number, text as a string).
 */
export async function readTogether<T extends readonly unknown[]>(sql: Sql, reads: { readonly [K in keyof T]: Read<T[K]> }): Promise<T> {
  const statements = reads.flatMap((r) => r.statements);
  let rows: unknown[][];
  const params = statements.reduce((n, s) => n + s.params.length, 0);
  if (sql.dialect === "postgres" && statements.length > 1 && params <= MAX_PARAMS) {
    const columns = statements.map((s, i) => `(SELECT COALESCE(json_agg(r${i}), '[]'::json) FROM (${s.text}) AS r${i}) AS r${i}`);
    const row = await sql.get<Record<string, unknown[]>>(
      `SELECT ${columns.join(", ")}`,
      statements.flatMap((s) => s.params),
    );
    rows = statements.map((_, i) => row?.[`r${i}`] ?? []);
  } else {
    rows = [];
    for (const s of statements) rows.push(await sql.all<unknown>(s.text, s.params));
  }
  let next = 0;
  return reads.map((r) => r.result(rows.slice(next, (next += r.statements.length)).flat())) as unknown as T;
}

/** Runs one `Read`. */
export async function readOne<T>(sql: Sql, read: Read<T>): Promise<T> {
  const [value] = await readTogether<[T]>(sql, [read]);
  return value;
}

/** `sqlite:./wxqr.db` → sqlite; `postgres://…` → postgres. */
export function parseDatabaseUrl(url: string): { dialect: "sqlite"; file: string } | { dialect: "postgres"; connectionString: string } {
  if (url.startsWith("sqlite:")) return { dialect: "sqlite", file: url.slice("sqlite:".length) };
  return { dialect: "postgres", connectionString: url };
}

/** Resolves when the database answers a trivial query (for health checks). */
export async function pingDatabase(db: Database): Promise<void> {
  await db.read((sql) => sql.get("SELECT 1 AS ok"));
}
