/**
 * The dashboard's channel API (issue #10) over real loopback HTTP, on SQLite and PostgreSQL: the
 * list (search, sort, pages, archived filter) with each channel's counters today and since it
 * began, and PATCH (rename, welcome, archive). The emulator pushes real, encrypted scans; days
 * change by moving the clock the emulator and the service share.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { startServiceHarness, type Json, type ServiceHarness } from "../helpers/service.ts";

const DAY_MS = 86_400_000;
const ZERO = { scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0 };

function describeChannelsApi(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  let harnesses: ServiceHarness[] = [];

  beforeAll(() => {
    factory = makeFactory();
  });
  afterEach(async () => {
    await Promise.allSettled(harnesses.map((h) => h.close()));
    harnesses = [];
  });
  afterAll(() => factory.cleanup());

  async function start(): Promise<ServiceHarness> {
    const { db } = await factory.create();
    const h = await startServiceHarness({ db });
    harnesses.push(h);
    return h;
  }

  async function create(h: ServiceHarness, name: string, welcome?: string): Promise<Json> {
    h.clock.advance(1_000); // distinct creation times: the default order is by creation
    const res = await h.api("POST", "/api/channels", welcome === undefined ? { name } : { name, welcome });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function scan(h: ServiceHarness, openId: string, channel: Json): Promise<Json> {
    h.clock.advance(1_000);
    const res = await h.scan(openId, channel.qrcode.ticket);
    expect(res.body.delivery.outcome).toBe("delivered");
    return res.body.delivery;
  }

  async function list(h: ServiceHarness, query = ""): Promise<{ names: string[]; total: number; body: Json }> {
    const res = await h.api("GET", `/api/channels${query}`);
    expect(res.status).toBe(200);
    return { names: res.body.channels.map((c: Json) => c.name), total: res.body.total, body: res.body };
  }

  it("lists channels searched by part of the name (A–Z in either case, % and _ as themselves), sorted, in pages", async () => {
    const h = await start();
    for (const name of ["Poster A", "poster b", "海报 C", "50% off", "a_b", "ab"]) await create(h, name);

    expect(await list(h)).toMatchObject({ names: ["Poster A", "poster b", "海报 C", "50% off", "a_b", "ab"], total: 6 });
    expect((await list(h, "?search=POST")).names).toEqual(["Poster A", "poster b"]);
    expect((await list(h, `?search=${encodeURIComponent("海报")}`)).names).toEqual(["海报 C"]);
    expect((await list(h, `?search=${encodeURIComponent("%")}`)).names).toEqual(["50% off"]);
    expect((await list(h, "?search=a_")).names).toEqual(["a_b"]);
    expect((await list(h, "?search=nothing")).body).toEqual({ channels: [], total: 0 });

    // By name: code point order, the same on both engines (upper case before lower, CJK last).
    expect((await list(h, "?sort=name")).names).toEqual(["50% off", "Poster A", "a_b", "ab", "poster b", "海报 C"]);
    expect((await list(h, "?sort=name&order=desc")).names).toEqual(["海报 C", "poster b", "ab", "a_b", "Poster A", "50% off"]);
    expect((await list(h, "?sort=createdAt&order=desc")).names).toEqual(["ab", "a_b", "50% off", "海报 C", "poster b", "Poster A"]);

    // Pages: `total` counts every match, whatever the page.
    expect(await list(h, "?limit=4")).toMatchObject({ names: ["Poster A", "poster b", "海报 C", "50% off"], total: 6 });
    expect(await list(h, "?limit=4&offset=4")).toMatchObject({ names: ["a_b", "ab"], total: 6 });
    expect(await list(h, "?limit=4&offset=8")).toMatchObject({ names: [], total: 6 });
    expect(await list(h, "?sort=name&limit=2&offset=1&search=o")).toMatchObject({ names: ["Poster A", "poster b"], total: 3 });

    for (const bad of ["?limit=0", "?limit=1001", "?offset=-1", "?sort=scans", "?order=up", "?archived=maybe", "?colour=red"]) {
      const res = await h.api("GET", `/api/channels${bad}`);
      expect([bad, res.status, res.body.error]).toEqual([bad, 400, "VALIDATION_FAILED"]);
    }
  });

  it("gives each channel today's counters and those since it began, across two days, and sorts by them", async () => {
    const h = await start();
    const a = await create(h, "poster A");
    const b = await create(h, "poster B");
    expect((await list(h)).body.channels[0]).toMatchObject({ archived: false, today: ZERO, total: ZERO });

    // Day 1: u1 and u2 follow through A, u1 scans A again; u3 follows through B.
    await scan(h, "u1", a);
    await scan(h, "u2", a);
    await scan(h, "u1", a);
    await scan(h, "u3", b);
    const day1 = { scans: 3, uniqueScanners: 2, newFollowers: 2, returningFollowers: 1, unfollows: 0 };
    expect((await list(h)).body.channels.map((c: Json) => [c.name, c.today, c.total])).toEqual([
      ["poster A", day1, day1],
      ["poster B", { ...ZERO, scans: 1, uniqueScanners: 1, newFollowers: 1 }, { ...ZERO, scans: 1, uniqueScanners: 1, newFollowers: 1 }],
    ]);

    // Day 2: u1 scans A again, u4 follows through A, u2 unfollows (counted against A, who brought them); u3 and u5 scan B twice.
    h.clock.advance(DAY_MS);
    await scan(h, "u1", a);
    await scan(h, "u4", a);
    h.clock.advance(1_000);
    expect((await h.unsubscribe("u2")).body.delivery.outcome).toBe("delivered");
    for (const openId of ["u3", "u5", "u3", "u5"]) await scan(h, openId, b);

    const { channels } = (await list(h)).body;
    expect(channels.map((c: Json) => [c.name, c.today, c.total])).toEqual([
      [
        "poster A",
        { scans: 2, uniqueScanners: 2, newFollowers: 1, returningFollowers: 1, unfollows: 1 },
        // u1 scanned on both days: once among the distinct scanners since the beginning.
        { scans: 5, uniqueScanners: 3, newFollowers: 3, returningFollowers: 2, unfollows: 1 },
      ],
      [
        "poster B",
        { scans: 4, uniqueScanners: 2, newFollowers: 1, returningFollowers: 3, unfollows: 0 },
        { scans: 5, uniqueScanners: 2, newFollowers: 2, returningFollowers: 3, unfollows: 0 },
      ],
    ]);
    // The figures agree with the per-day statistics of the same channel.
    const stats = (await h.api("GET", `/api/channels/${a.id}/stats`)).body;
    expect(stats).toMatchObject(channels[0].total);
    expect((await h.api("GET", `/api/channels/${a.id}`)).body).toEqual(channels[0]);

    expect((await list(h, "?sort=todayScans&order=desc")).names).toEqual(["poster B", "poster A"]);
    expect((await list(h, "?sort=todayScans")).names).toEqual(["poster A", "poster B"]);
    // A tie on total scans (5 each) falls back to the creation order, reversed with the order.
    expect((await list(h, "?sort=totalScans")).names).toEqual(["poster A", "poster B"]);
    expect((await list(h, "?sort=totalScans&order=desc")).names).toEqual(["poster B", "poster A"]);
    await scan(h, "u6", a);
    expect((await list(h, "?sort=totalScans&order=desc")).names).toEqual(["poster A", "poster B"]);

    // The next day starts at zero for today; the totals stay.
    h.clock.advance(DAY_MS);
    expect((await list(h)).body.channels.map((c: Json) => [c.today, c.total.scans])).toEqual([
      [ZERO, 6],
      [ZERO, 5],
    ]);
  });

  it("renames a channel (its code's label follows), refuses a name another channel has, and keeps its own", async () => {
    const h = await start();
    const a = await create(h, "poster A");
    await create(h, "poster B");

    const renamed = await h.api("PATCH", `/api/channels/${a.id}`, { name: "  shop window  " });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      id: a.id,
      name: "shop window",
      welcome: null,
      archived: false,
      qrcode: { id: a.qrcode.id, label: "channel: shop window" },
    });
    expect((await h.api("GET", `/api/qrcodes/${a.qrcode.id}`)).body.label).toBe("channel: shop window");
    // The old name is free again.
    expect((await h.api("POST", "/api/channels", { name: "poster A" })).status).toBe(201);

    const taken = await h.api("PATCH", `/api/channels/${a.id}`, { name: "poster B" });
    expect([taken.status, taken.body.error, taken.body.field]).toEqual([409, "NAME_CONFLICT", "name"]);
    expect((await h.api("GET", `/api/channels/${a.id}`)).body.name).toBe("shop window");
    expect((await h.api("PATCH", `/api/channels/${a.id}`, { name: "shop window" })).status).toBe(200);

    const refusals: Array<[Json, string]> = [
      [{ name: "" }, "name"],
      [{ name: "   " }, "name"],
      [{ name: "x".repeat(101) }, "name"],
      [{ name: "line\nbreak" }, "name"],
      [{ welcome: "tab\there" }, "welcome"],
      [{ welcome: "x".repeat(601) }, "welcome"],
      [{ archived: "maybe" }, "archived"],
      [{ colour: "red" }, "colour"],
    ];
    for (const [body, field] of refusals) {
      const res = await h.api("PATCH", `/api/channels/${a.id}`, body);
      expect([JSON.stringify(body), res.status, res.body.error, res.body.field]).toEqual([JSON.stringify(body), 400, "VALIDATION_FAILED", field]);
    }
    const missing = await h.api("PATCH", "/api/channels/ch_nope", { name: "anything" });
    expect([missing.status, missing.body.error]).toEqual([404, "NOT_FOUND"]);
    expect((await h.api("PATCH", `/api/channels/${a.id}`, { name: "x" }, { token: null })).status).toBe(401);
  });

  it("changes and clears the welcome reply: the next scan's user sees the new text, then none", async () => {
    const h = await start();
    const a = await create(h, "poster A", "Welcome!");
    expect((await scan(h, "u1", a)).userSaw).toBe("Welcome!");

    const changed = await h.api("PATCH", `/api/channels/${a.id}`, { welcome: "欢迎光临\n第二行" });
    expect([changed.status, changed.body.welcome]).toEqual([200, "欢迎光临\n第二行"]);
    expect((await scan(h, "u1", a)).userSaw).toBe("欢迎光临\n第二行");

    const cleared = await h.api("PATCH", `/api/channels/${a.id}`, { welcome: null });
    expect([cleared.status, cleared.body.welcome]).toEqual([200, null]);
    expect((await scan(h, "u1", a)).userSaw).toBeNull();

    await h.api("PATCH", `/api/channels/${a.id}`, { welcome: "again" });
    expect((await h.api("PATCH", `/api/channels/${a.id}`, { welcome: "" })).body.welcome).toBeNull();
    // Leaving a field out leaves it as it is.
    expect((await h.api("PATCH", `/api/channels/${a.id}`, {})).body).toMatchObject({ name: "poster A", welcome: null, archived: false });
  });

  it("archives a channel: it leaves the default list, its code still works and counts; restoring brings it back", async () => {
    const h = await start();
    const a = await create(h, "poster A", "Welcome!");
    const b = await create(h, "poster B");

    const archived = await h.api("PATCH", `/api/channels/${a.id}`, { archived: true });
    expect([archived.status, archived.body.archived]).toEqual([200, true]);
    expect(await list(h)).toMatchObject({ names: ["poster B"], total: 1 });
    expect(await list(h, "?archived=true")).toMatchObject({ names: ["poster A"], total: 1 });
    expect(await list(h, "?archived=all")).toMatchObject({ names: ["poster A", "poster B"], total: 2 });
    expect((await h.api("GET", `/api/channels/${a.id}`)).body.archived).toBe(true);

    // The printed code is still out there: a scan is answered as before and counted.
    expect((await scan(h, "u1", a)).userSaw).toBe("Welcome!");
    await scan(h, "u2", b);
    const [shown] = (await list(h, "?archived=true")).body.channels;
    expect(shown.today).toEqual({ ...ZERO, scans: 1, uniqueScanners: 1, newFollowers: 1 });
    expect((await h.api("GET", `/api/channels/${a.id}/stats`)).body.scans).toBe(1);
    // Archiving does not free the name.
    expect((await h.api("POST", "/api/channels", { name: "poster A" })).status).toBe(409);

    expect((await h.api("PATCH", `/api/channels/${a.id}`, { archived: false })).body.archived).toBe(false);
    expect(await list(h)).toMatchObject({ names: ["poster A", "poster B"], total: 2 });
  });

  /** The CSV as bytes: `Response.text()` would drop the BOM this test is about. */
  async function csv(h: ServiceHarness, path: string): Promise<{ status: number; headers: Headers; bytes: Buffer; lines: string[]; json: Json }> {
    const res = await fetch(`${h.serviceUrl}${path}`, { headers: { authorization: `Bearer ${h.adminToken}` }, signal: AbortSignal.timeout(20_000) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString("utf8");
    return {
      status: res.status,
      headers: res.headers,
      bytes,
      lines: text.replace(/^\uFEFF/, "").split("\r\n"),
      json: (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : undefined,
    };
  }

  it("exports a channel's days as CSV for Excel: BOM, header, every day of the range with zeros, the name in the file name", async () => {
    const h = await start();
    const a = await create(h, "海报 A");
    await scan(h, "u1", a);
    await scan(h, "u2", a);
    await scan(h, "u1", a);
    h.clock.advance(2 * DAY_MS); // nothing on 2026-11-26
    await scan(h, "u3", a);
    h.clock.advance(1_000);
    expect((await h.unsubscribe("u1")).body.delivery.outcome).toBe("delivered");

    const res = await csv(h, `/api/channels/${a.id}/stats.csv?from=2026-11-24&to=2026-11-28`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect([...res.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(res.lines).toEqual([
      "date,scans,unique_scanners,new_followers,returning_followers,unfollows",
      "2026-11-24,0,0,0,0,0",
      "2026-11-25,3,2,2,1,0",
      "2026-11-26,0,0,0,0,0",
      "2026-11-27,1,1,1,0,1",
      "2026-11-28,0,0,0,0,0",
      "",
    ]);
    const disposition = res.headers.get("content-disposition")!;
    expect(disposition).toMatch(/^attachment; filename="[ -~]+"; filename\*=UTF-8''[A-Za-z0-9%!#$&+.^_`|~-]+$/);
    expect(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)![1]!)).toBe("海报 A-2026-11-24-2026-11-28.csv");

    // By default: from the channel's creation to today. An ASCII name needs no `filename*`.
    await h.api("PATCH", `/api/channels/${a.id}`, { name: "poster A" });
    const whole = await csv(h, `/api/channels/${a.id}/stats.csv`);
    expect(whole.lines.slice(1, -1).map((l) => l.slice(0, 12))).toEqual(["2026-11-25,3", "2026-11-26,0", "2026-11-27,1"]);
    expect(whole.headers.get("content-disposition")).toBe('attachment; filename="poster A-2026-11-25-2026-11-27.csv"');

    const refusals: Array<[string, number, string]> = [
      [`/api/channels/${a.id}/stats.csv?from=2026-11-27&to=2026-11-25`, 400, "VALIDATION_FAILED"],
      [`/api/channels/${a.id}/stats.csv?from=2000-01-01&to=2026-11-25`, 400, "VALIDATION_FAILED"],
      [`/api/channels/${a.id}/stats.csv?from=2026-02-30`, 400, "VALIDATION_FAILED"],
      ["/api/channels/ch_nope/stats.csv", 404, "NOT_FOUND"],
    ];
    for (const [path, status, error] of refusals) {
      const refused = await csv(h, path);
      expect([path, refused.status, refused.json?.error]).toEqual([path, status, error]);
    }
  });
}

describeOnBothEngines("channels API", describeChannelsApi);
