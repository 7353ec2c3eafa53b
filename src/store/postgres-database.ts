/**
 * PostgreSQL through `pg`: a pool, one client per transaction. `?` placeholders are rewritten
 * to `$n` once per statement text; BIGINT (epoch ms) is read back as a number.
 * @module
 */
import pg from "pg";
import { StorageUnavailableError } from "../errors.ts";
import { batchOptimistically, type BatchWork, type Database, type ItemResult, type Sql, type SqlParam } from "./database.ts";

const INT8_OID = 20;
const NUMERIC_OID = 1700;
// Epoch milliseconds and counters fit in a double; strings would leak into the domain.
const types = {
  getTypeParser: (oid: number, format?: string) =>
    oid === INT8_OID || oid === NUMERIC_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text"),
};

// Errors that mean "the database is not there", as opposed to a bad query.
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);

const MAX_CACHED_TEXTS = 2_000;

export interface PostgresOptions {
  connectionString: string;
  maxConnections?: number;
}

export class PostgresDatabase implements Database {
  readonly dialect = "postgres" as const;
  private readonly pool: pg.Pool;
  private readonly texts = new Map<string, string>();
  /** Clients whose connection failed: never handed back to the pool. */
  private readonly lost = new WeakSet<pg.PoolClient>();

  constructor(options: PostgresOptions) {
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10, types, connectionTimeoutMillis: 5_000 });
    // A backend can go away at any moment (pg_terminate_backend, a restart, a network reset). The
    // pool listens on its idle clients; a client in use has no listener of pg's own, and an
    // unheard 'error' event ends the process (design invariant 9). So every client gets one for
    // its whole life: the failure then reaches the transaction through its next query, which
    // answers StorageUnavailableError, and the client is released as broken.
    this.pool.on("error", () => undefined);
    this.pool.on("connect", (client) => {
      client.on("error", () => this.lost.add(client));
    });
  }

  private text(sql: string): string {
    let out = this.texts.get(sql);
    if (out === undefined) {
      let n = 0;
      out = sql.replace(/\?/g, () => `$${++n}`);
      // Multi-row statements have a text per row count (and per mix, together): keep the cache bounded.
      if (this.texts.size >= MAX_CACHED_TEXTS) this.texts.clear();
      this.texts.set(sql, out);
    }
    return out;
  }

  private wrap(client: pg.PoolClient): Sql {
    return {
      dialect: "postgres",
      run: async (sql, params = []) => (await client.query(this.text(sql), params as SqlParam[])).rowCount ?? 0,
      get: async <T>(sql: string, params: readonly SqlParam[] = []) => (await client.query(this.text(sql), params as SqlParam[])).rows[0] as T | undefined,
      all: async <T>(sql: string, params: readonly SqlParam[] = []) => (await client.query(this.text(sql), params as SqlParam[])).rows as T[],
    };
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (cause) {
      throw new StorageUnavailableError((cause as Error).message, { cause });
    }
  }

  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      const value = await fn(this.wrap(client));
      await client.query("COMMIT");
      return value;
    } catch (err) {
      broken = this.isLost(client, err);
      if (!broken) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
      }
      throw broken ? new StorageUnavailableError((err as Error).message, { cause: err }) : err;
    } finally {
      client.release(broken);
    }
  }

  batch<I, R>(items: readonly I[], work: BatchWork<I, R>): Promise<ItemResult<R>[]> {
    return batchOptimistically((fn) => this.transaction(fn), items, work);
  }

  async read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken = false;
    try {
      return await fn(this.wrap(client));
    } catch (err) {
      broken = this.isLost(client, err);
      throw broken ? new StorageUnavailableError((err as Error).message, { cause: err }) : err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private isLost(client: pg.PoolClient, err: unknown): boolean {
    return this.lost.has(client) || isUnavailable(err);
  }
}

function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|connect ECONNREFUSED|terminating connection/i.test(message);
}
