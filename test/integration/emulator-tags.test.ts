/**
 * The tag API on the emulator through the typed client over loopback (wechat-api.md §10.3):
 * 100 tags an account, 30-byte names, unique names, 50 OpenIDs a batch, 20 tags a user, unknown
 * tags and OpenIDs, and batching 120 followers in 3 calls.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError, WeChatApiError } from "../../src/errors.ts";
import { BATCH_TAGGING_OPENIDS_MAX, type WeChatClient } from "../../src/wechat/index.ts";
import { startPlatform, type Platform } from "../helpers/platform.ts";

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

const openIds = (n: number, prefix = "oFollower"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);

async function start(followers: readonly string[] = openIds(10)): Promise<{ p: Platform; client: WeChatClient }> {
  platform = await startPlatform();
  await platform.control("POST", "/emulator/followers", { openIds: followers });
  return { p: platform, client: platform.client() };
}

async function errcodeOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(WeChatApiError);
    return (err as WeChatApiError).errcode;
  }
}

async function raw(p: Platform, client: WeChatClient, path: string, body: unknown): Promise<Record<string, unknown>> {
  const token = await client.accessToken.get();
  return p.raw(`${path}?access_token=${encodeURIComponent(token)}`, JSON.stringify(body));
}

describe("emulator: tags/create and tags/get", () => {
  it("gives custom tags ids from 100 and lists them after the system's 星标组, with follower counts", async () => {
    const { client } = await start();
    const a = await client.createTag("广东");
    const b = await client.createTag("channel-b");
    expect([a, b]).toEqual([
      { id: 100, name: "广东" },
      { id: 101, name: "channel-b" },
    ]);
    await client.batchTag(a.id, openIds(3));
    expect(await client.getTags()).toEqual([
      { id: 2, name: "星标组", count: 0 },
      { id: 100, name: "广东", count: 3 },
      { id: 101, name: "channel-b", count: 0 },
    ]);
  });

  it("takes 100 tags and refuses the 101st with 45056", async () => {
    const { p, client } = await start();
    for (let i = 1; i <= 100; i++) await client.createTag(`tag ${i}`);
    expect(await errcodeOf(client.createTag("tag 101"))).toBe(45056);
    expect((await client.getTags()).length).toBe(101); // 星标组 is not one of the 100
    expect((await p.counters())["tags/create"]).toBe(101);
  });

  it("measures names in UTF-8 bytes: 10 CJK characters (30 bytes) pass, one more byte is 45158", async () => {
    const { client } = await start();
    await expect(client.createTag("一二三四五六七八九十")).resolves.toMatchObject({ name: "一二三四五六七八九十" });
    expect(await errcodeOf(client.createTag("一二三四五六七八九十x"))).toBe(45158);
    await expect(client.createTag("x".repeat(30))).resolves.toMatchObject({ id: 101 });
    expect(await errcodeOf(client.createTag("x".repeat(31)))).toBe(45158);
  });

  it("refuses a name already used (the system's too) or empty with 45157", async () => {
    const { client } = await start();
    await client.createTag("vip");
    expect(await errcodeOf(client.createTag("vip"))).toBe(45157);
    expect(await errcodeOf(client.createTag("星标组"))).toBe(45157);
    expect(await errcodeOf(client.createTag(""))).toBe(45157);
  });
});

describe("emulator: tags/members/batchtagging and tags/getidlist", () => {
  it("tags 120 followers in 3 batch calls of at most 50", async () => {
    const followers = openIds(120);
    const { p, client } = await start(followers);
    const tag = await client.createTag("channel-a");
    for (let i = 0; i < followers.length; i += BATCH_TAGGING_OPENIDS_MAX) await client.batchTag(tag.id, followers.slice(i, i + BATCH_TAGGING_OPENIDS_MAX));
    expect((await p.counters())["tags/members/batchtagging"]).toBe(3);
    expect((await client.getTags()).find((t) => t.id === tag.id)?.count).toBe(120);
    const { tags } = (await p.control("GET", "/emulator/tags")) as { tags: { id: number; openIds: string[] }[] };
    expect(tags.find((t) => t.id === tag.id)?.openIds).toEqual(followers);
  });

  it("refuses 51 OpenIDs: the client before sending (ValidationError), the platform with 40032 (also an empty list)", async () => {
    const followers = openIds(51);
    const { p, client } = await start(followers);
    const tag = await client.createTag("t");
    await client.batchTag(tag.id, followers.slice(0, 50));
    await expect(client.batchTag(tag.id, followers)).rejects.toBeInstanceOf(ValidationError);
    await expect(client.batchTag(tag.id, [])).rejects.toBeInstanceOf(ValidationError);
    expect((await p.counters())["tags/members/batchtagging"]).toBe(1);
    expect((await raw(p, client, "/cgi-bin/tags/members/batchtagging", { openid_list: followers, tagid: tag.id }))["errcode"]).toBe(40032);
    expect((await raw(p, client, "/cgi-bin/tags/members/batchtagging", { openid_list: [], tagid: tag.id }))["errcode"]).toBe(40032);
  });

  it("takes 20 tags on one user and refuses the 21st with 45059, tagging no one of that batch", async () => {
    const [user = "", other = ""] = openIds(2);
    const { client } = await start([user, other]);
    const tags = [];
    for (let i = 1; i <= 21; i++) tags.push(await client.createTag(`t${i}`));
    for (const tag of tags.slice(0, 20)) await client.batchTag(tag.id, [user]);
    expect(await client.getTagIdsOf(user)).toEqual(tags.slice(0, 20).map((t) => t.id));
    const last = tags[20]?.id ?? 0;
    expect(await errcodeOf(client.batchTag(last, [other, user]))).toBe(45059);
    expect(await client.getTagIdsOf(other)).toEqual([]);
    await client.batchTag(tags[0]?.id ?? 0, [user]); // a tag the user has already is no 21st
    expect((await client.getTagIdsOf(user)).length).toBe(20);
  });

  it("answers 45159 for an unknown tag and 40003 for an OpenID the account never had", async () => {
    const { client } = await start(["oKnown"]);
    const tag = await client.createTag("t");
    expect(await errcodeOf(client.batchTag(999, ["oKnown"]))).toBe(45159);
    expect(await errcodeOf(client.batchTag(tag.id, ["oKnown", "oStranger"]))).toBe(40003);
    expect(await errcodeOf(client.getTagIdsOf("oStranger"))).toBe(40003);
    expect(await client.getTagIdsOf("oKnown")).toEqual([]);
  });

  it("answers an armed fault on batchtagging, which the client retries (-1)", async () => {
    const { p, client } = await start(["oKnown"]);
    const tag = await client.createTag("t");
    await p.fault("/cgi-bin/tags/members/batchtagging", -1, 1);
    await client.batchTag(tag.id, ["oKnown"]);
    expect(await client.getTagIdsOf("oKnown")).toEqual([tag.id]);
    expect((await p.counters())["tags/members/batchtagging"]).toBe(2);
  });
});

describe("emulator: tags/update, tags/delete, batchuntagging and user/tag/get (raw)", () => {
  it("pages a tag's followers, renames, untags and deletes, and keeps the system tags", async () => {
    const { p, client } = await start(openIds(3));
    const tag = await client.createTag("old");
    await client.batchTag(tag.id, openIds(3));
    expect(await raw(p, client, "/cgi-bin/user/tag/get", { tagid: tag.id, next_openid: "" })).toEqual({
      count: 3,
      data: { openid: openIds(3) },
      next_openid: "oFollower0002",
    });
    expect(await raw(p, client, "/cgi-bin/user/tag/get", { tagid: tag.id, next_openid: "oFollower0002" })).toEqual({ count: 0, next_openid: "" });
    expect((await raw(p, client, "/cgi-bin/user/tag/get", { tagid: 999 }))["errcode"]).toBe(45159);
    expect(await raw(p, client, "/cgi-bin/tags/update", { tag: { id: tag.id, name: "new" } })).toEqual({ errcode: 0, errmsg: "ok" });
    expect((await raw(p, client, "/cgi-bin/tags/update", { tag: { id: 2, name: "x" } }))["errcode"]).toBe(45058);
    expect((await raw(p, client, "/cgi-bin/tags/delete", { tag: { id: 1 } }))["errcode"]).toBe(45058);
    expect(await raw(p, client, "/cgi-bin/tags/members/batchuntagging", { openid_list: ["oFollower0000"], tagid: tag.id })).toEqual({
      errcode: 0,
      errmsg: "ok",
    });
    expect(await client.getTagIdsOf("oFollower0000")).toEqual([]);
    expect(await raw(p, client, "/cgi-bin/tags/delete", { tag: { id: tag.id } })).toEqual({ errcode: 0, errmsg: "ok" });
    expect(await client.getTagIdsOf("oFollower0001")).toEqual([]);
    expect((await client.getTags()).map((t) => t.id)).toEqual([2]);
  });
});
