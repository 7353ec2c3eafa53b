/**
 * A PostgreSQL backend terminated under a transaction (pg_terminate_backend, as a restart or a
 * network reset would end it), in process on the shared test server: only this test's own
 * backend is terminated, by its pid. An unheard 'error' event would fail the run as an
 * unhandled error (design invariant 9: availability is lost, never the process).
 */
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import type { Database } from "../../src/store/database.ts";
import { describePostgres, postgresFactory, POSTGRES_URL } from "../helpers/databases.ts";

describePostgres("connection-loss", () => {
  const factory = postgresFactory(POSTGRES_URL!);
  afterAll(() => factory.cleanup());

  async function admin<T extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<T[]> {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Terminates the backend and waits until the server has let it go (bounded). */
  async function terminate(pid: number): Promise<void> {
    expect((await admin<{ ok: boolean }>("SELECT pg_terminate_backend($1) AS ok", [pid]))[0]?.ok).toBe(true);
    for (let i = 0; i < 200; i++) {
      if ((await admin("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).length === 0) return;
    }
    throw new Error(`backend ${pid} still there`);
  }

  /** Terminates the backend of a transaction of `db` while it waits between two statements; how the transaction ended. */
  async function terminatedBetweenStatements(db: Database): Promise<unknown> {
    let entered!: (pid: number) => void;
    let resume!: () => void;
    const inside = new Promise<number>((resolve) => (entered = resolve));
    const gate = new Promise<void>((resolve) => (resume = resolve));
    const tx = db.transaction(async (sql) => {
      entered((await sql.get<{ pid: number }>("SELECT pg_backend_pid() AS pid"))!.pid);
      await gate;
      return sql.get("SELECT 1 AS ok");
    });
    await terminate(await inside);
    resume();
    return tx.then(
      () => "committed",
      (err: unknown) => (err as { code?: string }).code,
    );
  }

  it("between two statements: the transaction fails as STORAGE_UNAVAILABLE, and the next one runs on a new connection", async () => {
    const { db } = await factory.create();
    expect(await terminatedBetweenStatements(db)).toBe("STORAGE_UNAVAILABLE");
    expect(await db.transaction((sql) => sql.get<{ ok: number }>("SELECT 1 AS ok"))).toEqual({ ok: 1 });
    expect(await db.read((sql) => sql.get<{ ok: number }>("SELECT 1 AS ok"))).toEqual({ ok: 1 });
  });

  it("while idle in the pool: the next read and transaction run on a new connection", async () => {
    const { db } = await factory.create();
    const pid = (await db.read((sql) => sql.get<{ pid: number }>("SELECT pg_backend_pid() AS pid")))!.pid;
    await terminate(pid);
    const again = await db.read((sql) => sql.get<{ pid: number }>("SELECT pg_backend_pid() AS pid"));
    expect(again?.pid).not.toBe(pid);
    expect(await db.transaction((sql) => sql.get<{ ok: number }>("SELECT 1 AS ok"))).toEqual({ ok: 1 });
  });
});
