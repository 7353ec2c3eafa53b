/**
 * Fresh databases for contract tests: a temporary SQLite file (WAL, as in production), or a
 * fresh schema on the PostgreSQL server named by WXQR_TEST_POSTGRES_URL (.ci/run starts one).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe } from "vitest";
import { PostgresDatabase } from "../../src/store/postgres-database.ts";
import { SqliteDatabase } from "../../src/store/sqlite-database.ts";
import type { BatchWork, Database, Sql } from "../../src/store/database.ts";
import { StorageUnavailableError } from "../../src/errors.ts";

export const POSTGRES_URL = process.env.WXQR_TEST_POSTGRES_URL;

export interface DatabaseFactory {
  name: "sqlite" | "postgres";
  /** A new, empty database; closed and removed by `cleanup`. */
  create(): Promise<{ db: Database; url: string }>;
  cleanup(): Promise<void>;
}

export function sqliteFactory(): DatabaseFactory {
  const dirs: string[] = [];
  const dbs: Database[] = [];
  return {
    name: "sqlite",
    async create() {
      const dir = mkdtempSync(join(tmpdir(), "wxqr-sqlite-"));
      dirs.push(dir);
      const file = join(dir, "wxqr.db");
      const db = new SqliteDatabase({ file });
      dbs.push(db);
      return { db, url: `sqlite:${file}` };
    },
    async cleanup() {
      await Promise.allSettled(dbs.map((d) => d.close()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresFactory(url: string): DatabaseFactory {
  const schemas: string[] = [];
  const dbs: Database[] = [];
  let n = 0;
  return {
    name: "postgres",
    async create() {
      const schema = `wxqr_test_${process.pid}_${Date.now().toString(36)}_${n++}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      schemas.push(schema);
      const scopedUrl = withSearchPath(url, schema);
      const db = new PostgresDatabase({ connectionString: scopedUrl });
      dbs.push(db);
      return { db, url: scopedUrl };
    },
    async cleanup() {
      await Promise.allSettled(dbs.map((d) => d.close()));
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await admin.end();
    },
  };
}

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return u.toString();
}

/** The factories to run a contract suite against; PostgreSQL only when a server was given. */
export function databaseFactories(): Array<() => DatabaseFactory> {
  return POSTGRES_URL ? [sqliteFactory, () => postgresFactory(POSTGRES_URL)] : [sqliteFactory];
}

/** Call from a PostgreSQL suite: fails in CI when no server was given, and says so loudly locally. */
export function announcePostgres(suite: string): boolean {
  if (POSTGRES_URL) return true;
  if (process.env.CI) throw new Error(`${suite}: WXQR_TEST_POSTGRES_URL is not set in CI; the PostgreSQL suite must run (see .ci/run)`);
  process.stderr.write(`\n!!! ${suite}: PostgreSQL SKIPPED — set WXQR_TEST_POSTGRES_URL (scripts/test-postgres.sh start DIR) to run it !!!\n\n`);
  return false;
}

/** Records that a PostgreSQL suite really ran (.ci/run fails without it). */
export function markPostgresRan(suite: string, tests: number): void {
  const dir = join(process.cwd(), ".tmp", "postgres-suites");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${suite.replace(/\W+/g, "-")}.json`), JSON.stringify({ suite, tests }));
}

/** A Database that can be switched "down": every call fails as storage-unavailable until restored. */
export function faultyDatabase(inner: Database): Database & { down: boolean } {
  const guard = (): void => {
    if (wrapper.down) throw new StorageUnavailableError("injected fault: database down");
  };
  const guardedSql = (sql: Sql): Sql => ({
    dialect: sql.dialect,
    run: async (t, p) => (guard(), sql.run(t, p)),
    get: async (t, p) => (guard(), sql.get(t, p)),
    all: async (t, p) => (guard(), sql.all(t, p)),
  });
  const wrapper = {
    down: false,
    dialect: inner.dialect,
    transaction: <T>(fn: (sql: Sql) => Promise<T>) => (guard(), inner.transaction((sql) => fn(guardedSql(sql)))),
    batch: <I, R>(items: readonly I[], work: BatchWork<I, R>) => (
      guard(),
      inner.batch(items, {
        ...(work.begin ? { begin: (sql: Sql, all: readonly I[]) => work.begin!(guardedSql(sql), all) } : {}),
        ...(work.all ? { all: (sql: Sql, all: readonly I[]) => work.all!(guardedSql(sql), all) } : {}),
        item: (sql, item) => work.item(guardedSql(sql), item),
        ...(work.end ? { end: (sql: Sql, values: readonly R[]) => work.end!(guardedSql(sql), values) } : {}),
      })
    ),
    read: <T>(fn: (sql: Sql) => Promise<T>) => (guard(), inner.read((sql) => fn(guardedSql(sql)))),
    close: () => inner.close(),
  };
  return wrapper;
}

/**
 * A PostgreSQL suite: skipped loudly without a server (fatal in CI), and, once it ran, recorded
 * for .ci/run, which fails a run where no PostgreSQL suite did.
 */
export function describePostgres(suite: string, body: () => void): void {
  describe.runIf(announcePostgres(`${suite} (PostgreSQL)`))("PostgreSQL", () => {
    let finished = 0;
    afterEach(() => {
      finished++;
    });
    body();
    afterAll(() => markPostgresRan(`${suite}-postgres`, finished));
  });
}

/** The same suite on SQLite and on PostgreSQL (see `describePostgres`). */
export function describeOnBothEngines(suite: string, body: (makeFactory: () => DatabaseFactory) => void): void {
  describe("SQLite", () => body(sqliteFactory));
  describePostgres(suite, () => body(() => postgresFactory(POSTGRES_URL!)));
}
