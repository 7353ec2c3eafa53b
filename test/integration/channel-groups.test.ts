/**
 * Channel groups (issue #13) over real loopback HTTP, on SQLite and PostgreSQL: groups created,
 * renamed and deleted (which ungroups their channels), channels put in and out of groups, the list
 * and the ZIP export filtered by group, and the overview's group totals checked against a recount
 * of the scans the test itself sent through the emulator.
 */
import { expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";
import { readZip } from "../helpers/zip.ts";

const DAY_MS = 86_400_000;

function describeGroups(makeFactory: () => DatabaseFactory): void {
  const { start } = serviceHarnesses(makeFactory);

  async function ok(h: ServiceHarness, method: string, path: string, body?: unknown, status = 200): Promise<Json> {
    const res = await h.api(method, path, body);
    expect([method, path, res.status]).toEqual([method, path, status]);
    return res.body;
  }

  const names = async (h: ServiceHarness, query: string): Promise<string[]> =>
    ((await ok(h, "GET", `/api/channels?sort=name&${query}`)).channels as Json[]).map((c) => c.name);

  it("creates, lists with counts, renames and deletes groups; deleting one leaves its channels ungrouped", async () => {
    const h = await start();
    const north = await ok(h, "POST", "/api/channel-groups", { name: "north" }, 201);
    expect(north).toEqual({ id: expect.stringMatching(/^cg_/), name: "north", createdAt: expect.any(String) });
    const south = await ok(h, "POST", "/api/channel-groups", { name: " south " }, 201);
    expect(south.name).toBe("south");
    const taken = await h.api("POST", "/api/channel-groups", { name: "north" });
    expect([taken.status, taken.body.error, taken.body.field]).toEqual([409, "NAME_CONFLICT", "name"]);
    expect((await h.api("POST", "/api/channel-groups", { name: "  " })).body.error).toBe("VALIDATION_FAILED");

    const a = await ok(h, "POST", "/api/channels", { name: "poster A", groupId: north.id }, 201);
    expect(a.groupId).toBe(north.id);
    const b = await ok(h, "POST", "/api/channels", { name: "poster B" }, 201);
    expect(b.groupId).toBeNull();
    expect((await ok(h, "PATCH", `/api/channels/${b.id}`, { groupId: south.id })).groupId).toBe(south.id);
    const c = await ok(h, "POST", "/api/channels", { name: "poster C", groupId: north.id }, 201);
    await ok(h, "PATCH", `/api/channels/${c.id}`, { archived: true });
    await ok(h, "POST", "/api/channels", { name: "poster D" }, 201);

    for (const [method, path, body] of [
      ["POST", "/api/channels", { name: "poster E", groupId: "cg_unknown" }],
      ["PATCH", `/api/channels/${b.id}`, { groupId: "cg_unknown" }],
    ] as const) {
      const res = await h.api(method, path, body);
      expect([path, res.status, res.body.error, res.body.field]).toEqual([path, 400, "VALIDATION_FAILED", "groupId"]);
    }
    // The refused creation left nothing behind.
    expect(await names(h, "archived=all")).toEqual(["poster A", "poster B", "poster C", "poster D"]);

    expect((await ok(h, "GET", "/api/channel-groups")).groups).toEqual([
      { ...north, channels: 1, archivedChannels: 1 },
      { ...south, channels: 1, archivedChannels: 0 },
    ]);
    expect(await names(h, `groupId=${north.id}`)).toEqual(["poster A"]);
    expect(await names(h, `groupId=${north.id}&archived=all`)).toEqual(["poster A", "poster C"]);
    expect(await names(h, "groupId=none")).toEqual(["poster D"]);
    const unknown = await h.api("GET", "/api/channels?groupId=cg_unknown");
    expect([unknown.status, unknown.body.field]).toEqual([400, "groupId"]);

    const renamed = await ok(h, "PATCH", `/api/channel-groups/${north.id}`, { name: "east" });
    expect(renamed).toEqual({ ...north, name: "east" });
    const clash = await h.api("PATCH", `/api/channel-groups/${north.id}`, { name: "south" });
    expect([clash.status, clash.body.error]).toEqual([409, "NAME_CONFLICT"]);
    expect((await ok(h, "PATCH", `/api/channel-groups/${north.id}`, { name: "east" })).name).toBe("east");
    expect((await h.api("PATCH", "/api/channel-groups/cg_unknown", { name: "x" })).status).toBe(404);

    await ok(h, "DELETE", `/api/channel-groups/${north.id}`, undefined, 204);
    expect((await h.api("DELETE", `/api/channel-groups/${north.id}`)).status).toBe(404);
    expect((await ok(h, "GET", `/api/channels/${a.id}`)).groupId).toBeNull();
    expect((await ok(h, "GET", `/api/channels/${c.id}`)).groupId).toBeNull();
    expect(await names(h, "groupId=none&archived=all")).toEqual(["poster A", "poster C", "poster D"]);
    expect((await ok(h, "GET", "/api/channel-groups")).groups).toEqual([{ ...south, channels: 1, archivedChannels: 0 }]);

    expect((await ok(h, "PATCH", `/api/channels/${b.id}`, { groupId: null })).groupId).toBeNull();
    expect((await ok(h, "GET", "/api/channel-groups")).groups).toEqual([{ ...south, channels: 0, archivedChannels: 0 }]);
    expect((await h.api("GET", "/api/channel-groups", undefined, { token: null })).status).toBe(401);
  });

  it("exports only the group's channels, and the overview's group totals equal a recount of the scans sent", async () => {
    const h = await start();
    const north = await ok(h, "POST", "/api/channel-groups", { name: "north" }, 201);
    const south = await ok(h, "POST", "/api/channel-groups", { name: "south" }, 201);
    await ok(h, "POST", "/api/channel-groups", { name: "empty" }, 201);
    const a = await ok(h, "POST", "/api/channels", { name: "poster A", groupId: north.id }, 201);
    const b = await ok(h, "POST", "/api/channels", { name: "poster B", groupId: north.id }, 201);
    const c = await ok(h, "POST", "/api/channels", { name: "poster C", groupId: south.id }, 201);
    const d = await ok(h, "POST", "/api/channels", { name: "poster D" }, 201);
    await ok(h, "PATCH", `/api/channels/${b.id}`, { archived: true });

    // What the test sent, per day offset from the start: the recount the overview must equal.
    const sent: Array<{ day: number; channel: Json; kind: "new" | "returning" | "unfollow" }> = [];
    let day = 0;
    const seen = new Set<string>();
    const lastChannel = new Map<string, Json>();
    async function scan(openId: string, channel: Json): Promise<void> {
      h.clock.advance(1_000);
      expect((await h.scan(openId, channel.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
      // Every scan by someone the account has seen before counts as returning, following or not.
      const kind = seen.has(openId) ? "returning" : "new";
      seen.add(openId);
      lastChannel.set(openId, channel);
      sent.push({ day, channel, kind });
    }
    async function unsubscribe(openId: string): Promise<void> {
      h.clock.advance(1_000);
      expect((await h.unsubscribe(openId)).body.delivery.outcome).toBe("delivered");
      sent.push({ day, channel: lastChannel.get(openId)!, kind: "unfollow" });
    }
    const nextDays = (n: number): void => {
      h.clock.advance(n * DAY_MS);
      day += n;
    };

    await scan("u1", a);
    await scan("u2", c);
    nextDays(10);
    await scan("u3", b); // the archived channel still counts for its group
    await scan("u1", d);
    nextDays(15);
    await scan("u4", a);
    await unsubscribe("u3");
    nextDays(4);
    await scan("u3", b);
    await scan("u5", c);
    nextDays(1);
    await scan("u6", a);
    await scan("u6", a);
    await scan("u2", c);

    const recount = (groupId: string, fromDay: number): Json => {
      const rows = sent.filter((s) => s.channel.groupId === groupId && s.day >= fromDay);
      const n = (kind: string): number => rows.filter((s) => s.kind === kind).length;
      const scans = rows.filter((s) => s.kind !== "unfollow").length;
      return {
        scans,
        newFollowers: n("new"),
        returningFollowers: n("returning"),
        unfollows: n("unfollow"),
        netGrowth: n("new") + n("returning") - n("unfollow"),
      };
    };
    const overview = await ok(h, "GET", "/api/overview");
    expect(overview.groups).toEqual(
      [
        { id: expect.any(String), name: "empty" },
        { id: north.id, name: "north" },
        { id: south.id, name: "south" },
      ].map((g) => ({ ...g, today: recount(g.id, day), last7: recount(g.id, day - 6), last30: recount(g.id, day - 29) })),
    );
    // Not a vacuous match: north's scans of the last 30 days (its first scan, 30 days ago, is in no range).
    expect(overview.groups[1].last30).toEqual({ scans: 5, newFollowers: 3, returningFollowers: 2, unfollows: 1, netGrowth: 4 });
    expect(overview.groups[2].today.scans).toBe(1);
    expect(overview.groups[0].last30.scans).toBe(0);

    const res = await fetch(`${h.serviceUrl}/api/channels/export.zip?groupId=${north.id}&archived=all`, {
      headers: { authorization: `Bearer ${h.adminToken}` },
    });
    expect(res.status).toBe(200);
    const entries = readZip(Buffer.from(await res.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(["channels.csv", "poster A.png", "poster B.png"]);
    expect(decodeQrImage(entries.get("poster B.png")!)).toBe(b.qrcode.url);
    const ungrouped = await fetch(`${h.serviceUrl}/api/channels/export.zip?groupId=none`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect([...readZip(Buffer.from(await ungrouped.arrayBuffer())).keys()].sort()).toEqual(["channels.csv", "poster D.png"]);
    expect((await h.api("GET", "/api/channels/export.zip?groupId=cg_unknown")).status).toBe(400);
  });
}

describeOnBothEngines("channel-groups", describeGroups);
