/**
 * A channel group deleted while another transaction writes a channel into it, on PostgreSQL
 * (SQLite has one writer at a time, so the two cannot overlap there). Both orders are forced
 * with two real transactions on the test server, one waiting on the other's lock:
 * - the channel write first: the delete waits, then ungroups the new channel too;
 * - the delete first: the channel write waits, then is refused naming `groupId` (a 400), where
 *   before it failed on the foreign key (a 500).
 */
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { checkGroupId } from "../../src/domain/channel-groups.ts";
import { ValidationError } from "../../src/errors.ts";
import { deleteChannelGroup, insertChannelGroup } from "../../src/store/channel-groups.ts";
import { ensureAccount } from "../../src/store/codes.ts";
import type { Database, Sql } from "../../src/store/database.ts";
import { migrate } from "../../src/store/migrations.ts";
import { describePostgres, postgresFactory, POSTGRES_URL } from "../helpers/databases.ts";

const ACCOUNT = "gh_race";
const GROUP = "cg_race";

describePostgres("channel-group-delete-race", () => {
  const factory = postgresFactory(POSTGRES_URL!);
  afterAll(() => factory.cleanup());

  async function world(): Promise<Database> {
    const { db } = await factory.create();
    await migrate(db);
    await db.transaction(async (sql) => {
      await ensureAccount(sql, { id: ACCOUNT, timeZone: "Asia/Shanghai" }, 0);
      await insertChannelGroup(sql, { id: GROUP, accountId: ACCOUNT, name: "north", createdAt: 0 });
    });
    return db;
  }

  /** Resolves once backend `waiter` waits for a lock that backend `holder` holds (bounded: 2,000 looks). */
  async function waitsFor(waiter: Promise<number>, holder: number): Promise<void> {
    const pid = await waiter;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      for (let i = 0; i < 2_000; i++) {
        const row = (await admin.query<{ blockers: number[] }>("SELECT pg_blocking_pids($1) AS blockers", [pid])).rows[0];
        if (row?.blockers.includes(holder)) return;
      }
      throw new Error(`backend ${pid} never waited for ${holder}`);
    } finally {
      await admin.end();
    }
  }

  const backendPid = async (sql: Sql): Promise<number> => Number((await sql.get<{ pid: number }>("SELECT pg_backend_pid() AS pid"))!.pid);
  const insertChannel = (sql: Sql, id: string): Promise<number> =>
    sql.run("INSERT INTO channels (id, account_id, name, created_at, group_id) VALUES (?, ?, ?, ?, ?)", [id, ACCOUNT, id, 0, GROUP]);

  /** A promise and the function that settles it, to hand a value from one transaction to the test. */
  function later<T>(): { promise: Promise<T>; settle: (value: T) => void } {
    let settle!: (value: T) => void;
    const promise = new Promise<T>((resolve) => (settle = resolve));
    return { promise, settle };
  }

  it("a channel written first: the delete waits for it, then ungroups it with the others", async () => {
    const db = await world();
    const writerPid = later<number>();
    const deleterPid = later<number>();
    const release = later<void>();
    const writing = db.transaction(async (sql) => {
      await checkGroupId(sql, ACCOUNT, GROUP);
      await insertChannel(sql, "ch_first");
      writerPid.settle(await backendPid(sql));
      await release.promise;
    });
    const holder = await writerPid.promise;
    const deleting = db.transaction(async (sql) => {
      deleterPid.settle(await backendPid(sql));
      return deleteChannelGroup(sql, ACCOUNT, GROUP);
    });
    await waitsFor(deleterPid.promise, holder);
    release.settle();
    await writing;
    expect(await deleting).toBe(true);
    const rows = await db.read((sql) => sql.all<{ id: string; group_id: string | null }>("SELECT id, group_id FROM channels WHERE account_id = ?", [ACCOUNT]));
    expect(rows).toEqual([{ id: "ch_first", group_id: null }]);
  });

  it("the delete first: the channel write waits for it, then is refused naming groupId", async () => {
    const db = await world();
    const deleterPid = later<number>();
    const writerPid = later<number>();
    const release = later<void>();
    const deleting = db.transaction(async (sql) => {
      const deleted = await deleteChannelGroup(sql, ACCOUNT, GROUP);
      deleterPid.settle(await backendPid(sql));
      await release.promise;
      return deleted;
    });
    const holder = await deleterPid.promise;
    const writing = db.transaction(async (sql) => {
      writerPid.settle(await backendPid(sql));
      await checkGroupId(sql, ACCOUNT, GROUP);
      await insertChannel(sql, "ch_late");
    });
    const refusal = writing.then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitsFor(writerPid.promise, holder);
    release.settle();
    expect(await deleting).toBe(true);
    const error = await refusal;
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe("groupId");
    expect(await db.read((sql) => sql.all("SELECT id FROM channels WHERE account_id = ?", [ACCOUNT]))).toEqual([]);
  });
});
