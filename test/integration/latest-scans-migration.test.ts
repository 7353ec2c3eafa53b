/**
 * Schema v10 (issue #11) fills each follower's latest scan day, per channel and of any channel,
 * and the per-day counts of them, from the scanner rows a store already holds: afterwards the
 * distinct scanners of a range ending today, now a sum of those counts, are what the scanner rows
 * say. On both engines.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import * as channels from "../../src/store/channels.ts";
import type { Database } from "../../src/store/database.ts";
import { migrate, MIGRATIONS } from "../../src/store/migrations.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";

const ACCOUNT = "wx_migrated";
const [D1, D2, D3] = ["2026-11-01", "2026-11-02", "2026-11-03"] as const;
// Channel A: f1 on days 1 and 3, f2 on day 2, f3 on day 3. Channel B: f1 on day 2, f4 on day 1.
const SCANS: ReadonlyArray<readonly [channel: string, day: string, openId: string]> = [
  ["ch_a", D1, "f1"],
  ["ch_a", D3, "f1"],
  ["ch_a", D2, "f2"],
  ["ch_a", D3, "f3"],
  ["ch_b", D2, "f1"],
  ["ch_b", D1, "f4"],
];

describeOnBothEngines("latest-scans-migration", (makeFactory) => {
  let factory: DatabaseFactory;
  let db: Database;
  beforeAll(async () => {
    factory = makeFactory();
    ({ db } = await factory.create());
    await migrate(
      db,
      MIGRATIONS.filter((m) => m.version < 10),
    );
    // The rows as the schema before v10 has them.
    await db.transaction(async (sql) => {
      await sql.run("INSERT INTO accounts (id, time_zone, created_at) VALUES (?, 'Asia/Shanghai', 0)", [ACCOUNT]);
      for (const id of ["ch_a", "ch_b"]) await sql.run("INSERT INTO channels (id, account_id, name, created_at) VALUES (?, ?, ?, 0)", [id, ACCOUNT, id]);
      for (const [channel, day, openId] of SCANS) {
        await sql.run("INSERT INTO channel_scanners (account_id, channel_id, day, open_id) VALUES (?, ?, ?, ?)", [ACCOUNT, channel, day, openId]);
        await sql.run(
          `INSERT INTO channel_days (account_id, channel_id, day, scans, unique_scanners) VALUES (?, ?, ?, 1, 1)
           ON CONFLICT (channel_id, day) DO UPDATE SET scans = channel_days.scans + 1, unique_scanners = channel_days.unique_scanners + 1`,
          [ACCOUNT, channel, day],
        );
      }
    });
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version >= 10).map((m) => m.version));
  });
  afterAll(async () => {
    await factory.cleanup();
  });

  it("fills each follower's latest scan day of each channel and of any channel", async () => {
    const ofChannels = await db.read((sql) => sql.all("SELECT account_id, channel_id, open_id, day FROM channel_last_scans ORDER BY channel_id, open_id"));
    expect(ofChannels).toEqual([
      { account_id: ACCOUNT, channel_id: "ch_a", open_id: "f1", day: D3 },
      { account_id: ACCOUNT, channel_id: "ch_a", open_id: "f2", day: D2 },
      { account_id: ACCOUNT, channel_id: "ch_a", open_id: "f3", day: D3 },
      { account_id: ACCOUNT, channel_id: "ch_b", open_id: "f1", day: D2 },
      { account_id: ACCOUNT, channel_id: "ch_b", open_id: "f4", day: D1 },
    ]);
    const ofAccount = await db.read((sql) => sql.all("SELECT account_id, open_id, day FROM account_last_scans ORDER BY open_id"));
    expect(ofAccount).toEqual([
      { account_id: ACCOUNT, open_id: "f1", day: D3 },
      { account_id: ACCOUNT, open_id: "f2", day: D2 },
      { account_id: ACCOUNT, open_id: "f3", day: D3 },
      { account_id: ACCOUNT, open_id: "f4", day: D1 },
    ]);
  });

  it("counts, per channel and day and per account and day, the followers whose latest scan it is", async () => {
    const ofChannels = await db.read((sql) =>
      sql.all<{ channel_id: string; day: string; n: number }>("SELECT channel_id, day, last_scanners AS n FROM channel_days"),
    );
    expect(Object.fromEntries(ofChannels.map((r) => [`${r.channel_id} ${r.day}`, Number(r.n)]))).toEqual({
      [`ch_a ${D1}`]: 0,
      [`ch_a ${D2}`]: 1,
      [`ch_a ${D3}`]: 2,
      [`ch_b ${D1}`]: 1,
      [`ch_b ${D2}`]: 1,
    });
    const ofAccount = await db.read((sql) =>
      sql.all<{ day: string; n: number }>("SELECT day, last_scanners AS n FROM account_days WHERE account_id = ?", [ACCOUNT]),
    );
    expect(Object.fromEntries(ofAccount.map((r) => [r.day, Number(r.n)]))).toEqual({ [D1]: 1, [D2]: 1, [D3]: 2 });
  });

  it("the distinct scanners of ranges ending on the last day equal a count of the scanner rows", async () => {
    const distinct = (where: string, params: string[]): Promise<number> =>
      db.read(async (sql) => Number((await sql.get<{ n: number }>(`SELECT COUNT(DISTINCT open_id) AS n FROM channel_scanners WHERE ${where}`, params))!.n));
    for (const channel of ["ch_a", "ch_b"]) {
      for (const from of [D1, D2, D3]) {
        const n = await db.read((sql) => channels.channelUniqueScanners(sql, channel, from, D3));
        expect({ channel, from, n }).toEqual({ channel, from, n: await distinct("channel_id = ? AND day >= ?", [channel, from]) });
      }
    }
    const totals = await db.read((sql) => channels.accountTotals(sql, ACCOUNT, D3, [D3, D2, D1]));
    expect(totals.map((t) => t.uniqueScanners)).toEqual([2, 3, 4]);
  });
});
