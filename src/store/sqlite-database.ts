/**
 * SQLite through better-sqlite3: WAL, `synchronous=FULL` (a commit is on disk before the push
 * is answered), one writing connection whose transactions are queued (SQLite has one writer
 * anyway) and one read-only connection for reads.
 * @module
 */
import BetterSqlite3 from "better-sqlite3";
import { StorageUnavailableError } from "../errors.ts";
import { batchOptimistically, type BatchWork, type Database, type ItemResult, type Sql, type SqlParam } from "./database.ts";

type Statement = BetterSqlite3.Statement<SqlParam[]>;

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  file: string;
  /** `FULL` (default) syncs every commit; `NORMAL` risks the last commits on power loss. */
  synchronous?: "FULL" | "NORMAL";
}

export class SqliteDatabase implements Database {
  readonly dialect = "sqlite" as const;
  private readonly db: BetterSqlite3.Database;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sql: Sql;
  // Reads use a second, read-only connection (WAL lets it read while a write commits), so the
  // statistics, the scan log and SSE polling never wait in the queue of the pushes' commits.
  private readonly reader: { db: BetterSqlite3.Database; sql: Sql } | undefined;
  private readQueue: Promise<unknown> = Promise.resolve();

  constructor(options: SqliteOptions) {
    try {
      this.db = new BetterSqlite3(options.file);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
      this.db.pragma("busy_timeout = 5000");
      this.db.pragma("foreign_keys = ON");
      if (options.file !== ":memory:" && options.file !== "") {
        const readerDb = new BetterSqlite3(options.file, { readonly: true });
        readerDb.pragma("busy_timeout = 5000");
        this.reader = { db: readerDb, sql: sqlOn(readerDb) };
      }
    } catch (cause) {
      throw new StorageUnavailableError(`cannot open SQLite database ${options.file}: ${(cause as Error).message}`, { cause });
    }
    this.sql = sqlOn(this.db);
  }

  /** Serialises work on the one connection. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.exec("BEGIN IMMEDIATE");
      try {
        const value = await fn(this.sql);
        this.exec("COMMIT");
        return value;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  batch<I, R>(items: readonly I[], work: BatchWork<I, R>): Promise<ItemResult<R>[]> {
    return batchOptimistically((fn) => this.transaction(fn), items, work);
  }

  read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const reader = this.reader;
    if (!reader) return this.exclusive(() => fn(this.sql));
    // One read at a time on the reader, inside a read transaction: one snapshot for all its queries.
    const work = async (): Promise<T> => {
      reader.db.exec("BEGIN");
      try {
        return await fn(reader.sql);
      } finally {
        if (reader.db.inTransaction) reader.db.exec("COMMIT");
      }
    };
    const next = this.readQueue.then(work, work);
    this.readQueue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.readQueue.catch(() => undefined);
    this.reader?.db.close();
    await this.exclusive(async () => this.db.close());
  }

  private exec(text: string): void {
    try {
      this.db.exec(text);
    } catch (cause) {
      throw new StorageUnavailableError(`${text} failed: ${(cause as Error).message}`, { cause });
    }
  }
}

const MAX_PREPARED = 2_000;

/** A `Sql` over one connection, with its statements prepared once. */
function sqlOn(db: BetterSqlite3.Database): Sql {
  const statements = new Map<string, Statement>();
  const prepare = (text: string): Statement => {
    let stmt = statements.get(text);
    if (!stmt) {
      stmt = db.prepare<SqlParam[]>(text);
      // Multi-row statements have a text per row count: keep the prepared ones bounded.
      if (statements.size >= MAX_PREPARED) statements.clear();
      statements.set(text, stmt);
    }
    return stmt;
  };
  return {
    dialect: "sqlite",
    run: async (text, params = []) => {
      const stmt = prepare(text);
      if (stmt.reader) {
        stmt.all(...params);
        return 0;
      }
      return stmt.run(...params).changes;
    },
    get: async <T>(text: string, params: readonly SqlParam[] = []) => prepare(text).get(...params) as T | undefined,
    all: async <T>(text: string, params: readonly SqlParam[] = []) => prepare(text).all(...params) as T[],
  };
}
