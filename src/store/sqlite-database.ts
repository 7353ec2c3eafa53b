/**
 * SQLite through better-sqlite3: WAL, one writing connection whose transactions are queued
 * (SQLite has one writer anyway) and one read-only connection for reads.
 *
 * A transaction resolves only once its commit is on disk, in one of two ways:
 * - `synchronous=FULL`: SQLite fsyncs the WAL inside COMMIT, on the event loop: nothing else
 *   runs (no request is read, no push decrypted) while the disk works;
 * - `synchronous=NORMAL` plus our own `fdatasync` of the WAL file after COMMIT (the default for a
 *   file), run on libuv's thread pool: the event loop goes on, the next transaction may commit
 *   meanwhile, and one fdatasync covers every commit made before it started (issue #11).
 *   NORMAL alone would only lose commits on power loss or an OS crash, never on a process crash
 *   (the OS keeps what was written); the fdatasync closes that gap for every commit that waits on
 *   it, and SQLite itself syncs the WAL before each checkpoint copies it into the database and
 *   syncs the database before the WAL is reused. What a power loss can still take: commits whose
 *   fdatasync had not returned — none of them was answered yet, so WeChat delivers them again.
 *   Reads on the reader connection may see such a commit in that window of a few milliseconds.
 * @module
 */
import { fdatasync, openSync, closeSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { StorageUnavailableError } from "../errors.ts";
import { batchOptimistically, type BatchWork, type Database, type ItemResult, type Sql, type SqlParam } from "./database.ts";

type Statement = BetterSqlite3.Statement<SqlParam[]>;

/** WAL pages between automatic checkpoints (SQLite's default is 1,000); see the constructor. */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  file: string;
  /**
   * How a commit reaches the disk before its transaction resolves: `"wal-fdatasync"` (default for
   * a file) or `"full"` (SQLite's `synchronous=FULL`, fsync inside COMMIT); see the module comment.
   */
  durability?: "wal-fdatasync" | "full";
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
  private readonly walSync: WalSync | undefined;

  constructor(options: SqliteOptions) {
    try {
      this.db = new BetterSqlite3(options.file);
      this.db.pragma("journal_mode = WAL");
      const onFile = options.file !== ":memory:" && options.file !== "";
      const ownSync = onFile && (options.durability ?? "wal-fdatasync") === "wal-fdatasync";
      this.db.pragma(`synchronous = ${ownSync ? "NORMAL" : "FULL"}`);
      if (ownSync) this.walSync = createWalSync(`${options.file}-wal`);
      // A checkpoint runs inside the COMMIT that crosses the threshold, on the event loop, with two
      // fsyncs of its own; ten times SQLite's default of 1,000 pages (a WAL of up to ~40 MiB) makes
      // them a tenth as frequent, and a page changed by many batches is copied once per checkpoint.
      // Measured in process, 50 clients: +30–50 % pushes/s, −10 % CPU per push (issue #11).
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      this.db.pragma("busy_timeout = 5000");
      this.db.pragma("foreign_keys = ON");
      if (onFile) {
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

  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const value = await this.committed(fn);
    // Outside the queue: the next transaction commits while this one's WAL frames go to disk.
    await this.walSync?.durable();
    return value;
  }

  private committed<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
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
    await this.walSync?.close();
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

interface WalSync {
  /** Resolves once an fdatasync of the WAL that started after this call has returned. */
  durable(): Promise<void>;
  close(): Promise<void>;
}

/**
 * fdatasyncs of the WAL file, one at a time: a caller that comes while one runs waits for the
 * next, which then covers every caller that came meanwhile (a group commit of the syncs).
 */
function createWalSync(walFile: string): WalSync {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const syncOnce = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      try {
        // Opened at the first commit: the WAL file exists from then on, until the last connection closes.
        fd ??= openSync(walFile, "r+");
      } catch (cause) {
        reject(new StorageUnavailableError(`cannot open ${walFile} to sync it: ${(cause as Error).message}`, { cause }));
        return;
      }
      fdatasync(fd, (error) => (error ? reject(new StorageUnavailableError(`fdatasync of ${walFile} failed: ${error.message}`, { cause: error })) : resolve()));
    });

  const start = (): Promise<void> => {
    const sync = syncOnce().finally(() => {
      if (running === sync) running = undefined;
    });
    running = sync;
    return sync;
  };

  return {
    durable() {
      if (!running) return start();
      queued ??= running
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return start();
        });
      return queued;
    },
    async close() {
      await Promise.allSettled([running, queued]);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
