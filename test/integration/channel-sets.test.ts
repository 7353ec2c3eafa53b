/**
 * Channels taken together (issue #13) over real loopback HTTP, on SQLite and PostgreSQL: the
 * merged analysis of a selection or a group (`GET /api/channels/stats`), checked against a recount
 * of the push log the emulator's real pushes left, and batch operations (`POST /api/channels/batch`)
 * by ids and by filter, all or nothing.
 */
import { expect, it } from "vitest";
import { dayInZone, DEFAULT_TIME_ZONE } from "../../src/domain/index.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";

const DAY_MS = 86_400_000;

interface DayFigures {
  date: string;
  scans: number;
  uniqueScanners: number;
  newFollowers: number;
  returningFollowers: number;
  unfollows: number;
}

function describeChannelSets(makeFactory: () => DatabaseFactory): void {
  const { start } = serviceHarnesses(makeFactory);

  async function ok(h: ServiceHarness, method: string, path: string, body?: unknown, status = 200): Promise<Json> {
    const res = await h.api(method, path, body);
    expect([method, path, res.status, res.body?.field]).toEqual([method, path, status, undefined]);
    return res.body;
  }

  async function refused(h: ServiceHarness, method: string, path: string, body?: unknown): Promise<string> {
    const res = await h.api(method, path, body);
    expect([path, res.status, res.body.error]).toEqual([path, 400, "VALIDATION_FAILED"]);
    return res.body.field;
  }

  async function scan(h: ServiceHarness, openId: string, channel: Json): Promise<void> {
    h.clock.advance(1_000);
    expect((await h.scan(openId, channel.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
  }

  /**
   * The figures of `codeIds` recounted from the push log alone: the scans through those codes, and
   * the unfollows of the followers who first came through one of them (the channel an unfollow counts for).
   */
  async function recount(h: ServiceHarness, codeIds: string[], from: string, to: string): Promise<{ days: DayFigures[]; uniqueScanners: number }> {
    const list = codeIds.map(() => "?").join(", ");
    const rows = await h.db.read((sql) =>
      sql.all<{ kind: string; open_id: string; is_new_follower: number | null; create_time: number }>(
        `SELECT p.kind, p.open_id, p.is_new_follower, p.create_time FROM push_log p
         WHERE (p.kind = 'scan' AND p.qrcode_id IN (${list}))
            OR (p.kind = 'unsubscribe' AND p.open_id IN (SELECT f.open_id FROM followers f WHERE f.source_qrcode_id IN (${list})))`,
        [...codeIds, ...codeIds],
      ),
    );
    const days = new Map<string, DayFigures & { scanners: Set<string> }>();
    const everyone = new Set<string>();
    for (const r of rows) {
      const date = dayInZone(Number(r.create_time) * 1_000, DEFAULT_TIME_ZONE);
      if (date < from || date > to) continue;
      const d = days.get(date) ?? { date, scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0, scanners: new Set<string>() };
      days.set(date, d);
      if (r.kind === "unsubscribe") {
        d.unfollows += 1;
        continue;
      }
      d.scans += 1;
      d.scanners.add(r.open_id);
      everyone.add(r.open_id);
      if (Number(r.is_new_follower) === 1) d.newFollowers += 1;
      else d.returningFollowers += 1;
    }
    return {
      days: [...days.values()].sort((a, b) => a.date.localeCompare(b.date)).map(({ scanners, ...d }) => ({ ...d, uniqueScanners: scanners.size })),
      uniqueScanners: everyone.size,
    };
  }

  it("merges two channels: one person scanning both is one unique scanner; every figure equals a recount of the push log", async () => {
    const h = await start();
    const group = await ok(h, "POST", "/api/channel-groups", { name: "north" }, 201);
    const a = await ok(h, "POST", "/api/channels", { name: "poster A", groupId: group.id }, 201);
    h.clock.advance(1_000); // B is the younger: the set's ids are listed oldest first
    const b = await ok(h, "POST", "/api/channels", { name: "poster B", groupId: group.id }, 201);
    const outside = await ok(h, "POST", "/api/channels", { name: "poster C" }, 201);
    const day0 = dayInZone(h.clock.now(), DEFAULT_TIME_ZONE);

    // Day 0: the same person through both channels.
    await scan(h, "u1", a);
    await scan(h, "u1", b);
    const both = await ok(h, "GET", `/api/channels/stats?ids=${a.id},${b.id}&from=${day0}&to=${day0}`);
    expect(both).toMatchObject({ scans: 2, uniqueScanners: 1, newFollowers: 1, returningFollowers: 1 });
    expect(both.days).toEqual([{ date: day0, scans: 2, uniqueScanners: 1, newFollowers: 1, returningFollowers: 1, unfollows: 0 }]);

    // Day 1: another person, and a scan of a channel outside the set.
    h.clock.advance(DAY_MS);
    await scan(h, "u2", a);
    await scan(h, "u3", outside);
    await scan(h, "u1", outside);
    // Day 3: u1 again, u2 leaves (counted for A, where u2 came from), a newcomer through B.
    h.clock.advance(2 * DAY_MS);
    await scan(h, "u1", b);
    h.clock.advance(1_000);
    expect((await h.unsubscribe("u2")).body.delivery.outcome).toBe("delivered");
    await scan(h, "u4", b);
    await scan(h, "u4", b);
    const day3 = dayInZone(h.clock.now(), DEFAULT_TIME_ZONE);

    const merged = await ok(h, "GET", `/api/channels/stats?ids=${b.id},${a.id}`);
    const expected = await recount(h, [a.qrcode.id, b.qrcode.id], day0, day3);
    expect(merged.channelIds).toEqual([a.id, b.id]);
    expect([merged.from, merged.to]).toEqual([day0, day3]);
    // Every day of the range, the one without scans included.
    expect(merged.days.map((d: Json) => d.date)).toEqual([0, 1, 2, 3].map((n) => dayInZone(h.clock.now() - (3 - n) * DAY_MS, DEFAULT_TIME_ZONE)));
    const zero = { scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 };
    const byDay = new Map(expected.days.map((d) => [d.date, d]));
    expect(merged.days).toEqual(merged.days.map((d: Json) => byDay.get(d.date) ?? { date: d.date, ...zero }));
    const sum = (k: keyof typeof zero): number => expected.days.reduce((n, d) => n + d[k], 0);
    expect(merged).toMatchObject({
      scans: sum("scans"),
      uniqueScanners: expected.uniqueScanners,
      newFollowers: sum("newFollowers"),
      returningFollowers: sum("returningFollowers"),
      unfollows: sum("unfollows"),
    });
    // Not a vacuous match: u1, u2 and u4 over the range, though u1 scanned on two days through two channels.
    expect(merged).toMatchObject({ scans: 6, uniqueScanners: 3, newFollowers: 3, returningFollowers: 3, unfollows: 1 });

    // The group is the same set; a group of one channel less is not.
    const byGroup = await ok(h, "GET", `/api/channels/stats?groupId=${group.id}`);
    expect(byGroup).toEqual(merged);
    await ok(h, "PATCH", `/api/channels/${a.id}`, { archived: true });
    expect(await ok(h, "GET", `/api/channels/stats?groupId=${group.id}`)).toEqual(merged); // archived channels still count
    await ok(h, "PATCH", `/api/channels/${a.id}`, { groupId: null });
    const onlyB = await ok(h, "GET", `/api/channels/stats?groupId=${group.id}`);
    expect(onlyB.channelIds).toEqual([b.id]);
    expect(onlyB).toEqual({ ...(await ok(h, "GET", `/api/channels/stats?ids=${b.id}&from=${day0}`)), channelIds: [b.id] });
    const single = await ok(h, "GET", `/api/channels/${b.id}/stats?from=${day0}`);
    expect(onlyB).toMatchObject({ scans: single.scans, uniqueScanners: single.uniqueScanners, newFollowers: single.newFollowers });
  });

  it("refuses a query without exactly one of ids and groupId, unknown channels or groups, and bad ranges, naming the field", async () => {
    const h = await start();
    const a = await ok(h, "POST", "/api/channels", { name: "poster A" }, 201);
    const group = await ok(h, "POST", "/api/channel-groups", { name: "north" }, 201);
    // Not taken for a channel called "stats": the route of one channel does not capture it.
    expect(await refused(h, "GET", "/api/channels/stats")).toBe("ids");
    expect(await refused(h, "GET", `/api/channels/stats?ids=${a.id}&groupId=${group.id}`)).toBe("ids");
    expect(await refused(h, "GET", `/api/channels/stats?ids=${a.id},ch_unknown`)).toBe("ids");
    expect(await refused(h, "GET", "/api/channels/stats?ids=,")).toBe("ids");
    const tooMany = Array.from({ length: 1_001 }, (_, i) => `c${i}`).join(",");
    expect(await refused(h, "GET", `/api/channels/stats?ids=${tooMany}`)).toBe("ids");
    expect(await refused(h, "GET", "/api/channels/stats?groupId=cg_unknown")).toBe("groupId");
    expect(await refused(h, "GET", `/api/channels/stats?ids=${a.id}&from=2026-02-30`)).toBe("from");
    expect(await refused(h, "GET", `/api/channels/stats?ids=${a.id}&from=2026-12-02&to=2026-12-01`)).toBe("from");
    expect(await refused(h, "GET", `/api/channels/stats?ids=${a.id}&from=1990-01-01`)).toBe("from");
    // An empty group is an empty set, not an error: today only, zeros.
    const empty = await ok(h, "GET", `/api/channels/stats?groupId=${group.id}`);
    expect(empty).toMatchObject({ channelIds: [], scans: 0, uniqueScanners: 0, days: [{ date: empty.to, scans: 0 }] });
  });

  async function channelStates(h: ServiceHarness): Promise<Record<string, [string | null, boolean]>> {
    const { channels } = await ok(h, "GET", "/api/channels?archived=all&sort=name");
    return Object.fromEntries(channels.map((c: Json) => [c.name, [c.groupId, c.archived]]));
  }

  it("moves, archives and restores by ids and by filter, counting the channels selected and those changed", async () => {
    const h = await start();
    const north = await ok(h, "POST", "/api/channel-groups", { name: "north" }, 201);
    const south = await ok(h, "POST", "/api/channel-groups", { name: "south" }, 201);
    const made: Json[] = [];
    for (const name of ["shop 1", "shop 2", "shop 3", "poster 1"]) made.push(await ok(h, "POST", "/api/channels", { name }, 201));
    const [shop1, shop2, shop3, poster1] = made;

    expect(await ok(h, "POST", "/api/channels/batch", { ids: [shop1.id, shop2.id], action: "move", groupId: north.id })).toEqual({ matched: 2, updated: 2 });
    // Again: selected, but nothing left to change.
    expect(await ok(h, "POST", "/api/channels/batch", { ids: [shop2.id, shop1.id, shop1.id], action: "move", groupId: north.id })).toEqual({
      matched: 2,
      updated: 0,
    });
    expect(await ok(h, "POST", "/api/channels/batch", { filter: { search: "SHOP" }, action: "move", groupId: south.id })).toEqual({ matched: 3, updated: 3 });
    expect(await ok(h, "POST", "/api/channels/batch", { filter: { groupId: south.id }, action: "archive" })).toEqual({ matched: 3, updated: 3 });
    // The list's default leaves archived channels out, and so does a filter.
    expect(await ok(h, "POST", "/api/channels/batch", { filter: {}, action: "archive" })).toEqual({ matched: 1, updated: 1 });
    expect(await ok(h, "POST", "/api/channels/batch", { ids: [shop3.id, poster1.id], action: "restore" })).toEqual({ matched: 2, updated: 2 });
    expect(await ok(h, "POST", "/api/channels/batch", { filter: { groupId: null, archived: "all" }, action: "move", groupId: north.id })).toEqual({
      matched: 1,
      updated: 1,
    });
    expect(await ok(h, "POST", "/api/channels/batch", { filter: { archived: true, groupId: south.id }, action: "move", groupId: null })).toEqual({
      matched: 2,
      updated: 2,
    });
    expect(await channelStates(h)).toEqual({
      "poster 1": [north.id, false],
      "shop 1": [null, true],
      "shop 2": [null, true],
      "shop 3": [south.id, false],
    });
    expect(await ok(h, "POST", "/api/channels/batch", { filter: { search: "nothing" }, action: "restore" })).toEqual({ matched: 0, updated: 0 });
  });

  it("refuses a bad batch naming the field and changes nothing; a statement that fails midway changes nothing either", async () => {
    const h = await start();
    const north = await ok(h, "POST", "/api/channel-groups", { name: "north" }, 201);
    const made: Json[] = [];
    for (const name of ["shop 1", "shop 2", "shop 3"]) made.push(await ok(h, "POST", "/api/channels", { name }, 201));
    const ids = made.map((c) => c.id);
    const before = await channelStates(h);

    for (const [body, field] of [
      [{ ids, action: "pause" }, "action"],
      [{ ids, action: "resume" }, "action"],
      [{ ids, action: "delete" }, "action"],
      [{ action: "archive" }, "ids"],
      [{ ids, filter: {}, action: "archive" }, "ids"],
      [{ ids: [...ids, "ch_unknown"], action: "archive" }, "ids"],
      [{ ids: [], action: "archive" }, "ids"],
      [{ ids: Array.from({ length: 1_001 }, (_, i) => `c${i}`), action: "archive" }, "ids"],
      [{ ids, action: "move" }, "groupId"],
      [{ ids, action: "move", groupId: "cg_unknown" }, "groupId"],
      [{ ids, action: "archive", groupId: north.id }, "groupId"],
      [{ filter: { groupId: "cg_unknown" }, action: "archive" }, "filter.groupId"],
      [{ filter: { archived: "maybe" }, action: "archive" }, "filter.archived"],
    ] as const) {
      expect([body, await refused(h, "POST", "/api/channels/batch", body)]).toEqual([body, field]);
    }
    expect(await channelStates(h)).toEqual(before);

    // The database refuses one row of the set (a trigger stands for a failure midway through the
    // UPDATE): the others, earlier and later in the set, keep their state.
    const refuse = made[1].id;
    await h.db.transaction(async (sql) => {
      if (sql.dialect === "sqlite") {
        await sql.run(`CREATE TRIGGER refuse_one BEFORE UPDATE ON channels WHEN NEW.id = '${refuse}' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
      } else {
        await sql.run(
          `CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN IF NEW.id = ''${refuse}'' THEN RAISE EXCEPTION ''refused''; END IF; RETURN NEW; END'`,
        );
        await sql.run("CREATE TRIGGER refuse_one BEFORE UPDATE ON channels FOR EACH ROW EXECUTE FUNCTION refuse_one()");
      }
    });
    const failed = await h.api("POST", "/api/channels/batch", { ids, action: "move", groupId: north.id });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(await channelStates(h)).toEqual(before);
  });
}

describeOnBothEngines("channel-sets", describeChannelSets);
