/** The emulator's `GET /cgi-bin/user/get`: the follower list, token-checked and paged like the platform. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fetchFollowerPage } from "../../src/wechat/user-list.ts";
import { startPlatform, type Platform } from "../helpers/platform.ts";

let p: Platform;
beforeEach(async () => {
  p = await startPlatform();
});
afterEach(() => p.close());

async function get(path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${p.url}${path}`)).json()) as Record<string, unknown>;
}

describe("GET /cgi-bin/user/get", () => {
  it("wants a valid access token", async () => {
    expect(await get("/cgi-bin/user/get")).toMatchObject({ errcode: 41001 });
    expect(await get("/cgi-bin/user/get?access_token=nope")).toMatchObject({ errcode: 40001 });
  });

  it("lists the subscribed followers in the order they came, a page at a time, then an empty page", async () => {
    await p.control("POST", "/emulator/followers", { openIds: ["o1", "o2", "o3", "o4", "o5"] });
    expect(await p.control("PUT", "/emulator/user-list", { pageSize: 2 })).toEqual({ pageSize: 2, calls: 0 });
    const token = await p.client().accessToken.get();
    expect(await get(`/cgi-bin/user/get?access_token=${token}`)).toEqual({ total: 5, count: 2, data: { openid: ["o1", "o2"] }, next_openid: "o2" });
    expect(await get(`/cgi-bin/user/get?access_token=${token}&next_openid=o4`)).toEqual({ total: 5, count: 1, data: { openid: ["o5"] }, next_openid: "o5" });
    expect(await get(`/cgi-bin/user/get?access_token=${token}&next_openid=o5`)).toEqual({ total: 5, count: 0, next_openid: "" });
    expect(await get(`/cgi-bin/user/get?access_token=${token}&next_openid=stranger`)).toMatchObject({ errcode: 40003 });
    expect(await p.control("GET", "/emulator/user-list")).toEqual({ pageSize: 2, calls: 4 });
  });

  it("is read page by page through the client", async () => {
    await p.control("POST", "/emulator/followers", { openIds: ["o1", "o2", "o3"] });
    await p.control("PUT", "/emulator/user-list", { pageSize: 2 });
    const client = p.client();
    const first = await fetchFollowerPage(client.call);
    expect(first).toEqual({ total: 3, openIds: ["o1", "o2"], nextOpenId: "o2" });
    expect(await fetchFollowerPage(client.call, first.nextOpenId)).toEqual({ total: 3, openIds: ["o3"], nextOpenId: "o3" });
    expect(await fetchFollowerPage(client.call, "o3")).toEqual({ total: 3, openIds: [], nextOpenId: undefined });
  });

  it("refuses a page size the platform would not use", async () => {
    const res = await fetch(`${p.url}/emulator/user-list`, {
      method: "PUT",
      body: JSON.stringify({ pageSize: 10_001 }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
  });
});
