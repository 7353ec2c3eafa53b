/**
 * The tag API (wechat-api.md §10.3, rules in `tags.ts`): `tags/create|get|update|delete`,
 * `tags/members/batchtagging|batchuntagging`, `tags/getidlist` and `user/tag/get`, plus
 * `GET /emulator/tags` (every tag with its OpenIDs) for tests.
 * @module
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { beginApiCall, wireJsonObject } from "./api-call.ts";
import type { EmulatorContext } from "./context.ts";
import type { CountedEndpoint } from "./options.ts";
import { batchTag, batchUntag, createTag, deleteTag, listTags, tagIdsOf, updateTag, usersWithTag } from "./tags.ts";
import { sendWire, sendWireError } from "./wire.ts";

export const USER_TAG_GET_PAGE_SIZE = 10_000; // the Go SDK's docs: up to 10,000 OpenIDs a page

const OK = { errcode: 0, errmsg: "ok" } as const;

export function registerTagRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, random } = ctx;

  /** A POST route taking a JSON object body; `handle` returns the wire answer or an errcode. */
  function post(
    path: string,
    endpoint: CountedEndpoint,
    handle: (body: Record<string, unknown>) => object | number,
    faultPath?: Parameters<typeof beginApiCall>[4],
  ): void {
    app.post(path, async (request, reply): Promise<FastifyReply> => {
      if (beginApiCall(ctx, request, reply, endpoint, faultPath) === undefined) return reply;
      const body = wireJsonObject(request.body);
      if (body === undefined) return sendWireError(reply, 47001, random);
      const answer = handle(body);
      return typeof answer === "number" ? sendWireError(reply, answer, random) : sendWire(reply, answer);
    });
  }

  const tagOf = (body: Record<string, unknown>): Record<string, unknown> => {
    const tag = body["tag"];
    return typeof tag === "object" && tag !== null ? (tag as Record<string, unknown>) : {};
  };

  post(
    "/cgi-bin/tags/create",
    "tags/create",
    (body) => {
      const created = createTag(state, tagOf(body)["name"]);
      return created.ok ? { tag: created.tag } : created.errcode;
    },
    "/cgi-bin/tags/create",
  );

  app.get("/cgi-bin/tags/get", async (request, reply) => {
    if (beginApiCall(ctx, request, reply, "tags/get", "/cgi-bin/tags/get") === undefined) return reply;
    return sendWire(reply, { tags: listTags(state) });
  });

  post("/cgi-bin/tags/update", "tags/update", (body) => {
    const updated = updateTag(state, tagOf(body)["id"], tagOf(body)["name"]);
    return updated.ok ? OK : updated.errcode;
  });

  post("/cgi-bin/tags/delete", "tags/delete", (body) => {
    const deleted = deleteTag(state, tagOf(body)["id"]);
    return deleted.ok ? OK : deleted.errcode;
  });

  post(
    "/cgi-bin/tags/members/batchtagging",
    "tags/members/batchtagging",
    (body) => {
      const tagged = batchTag(state, body["tagid"], body["openid_list"]);
      return tagged.ok ? OK : tagged.errcode;
    },
    "/cgi-bin/tags/members/batchtagging",
  );

  post("/cgi-bin/tags/members/batchuntagging", "tags/members/batchuntagging", (body) => {
    const untagged = batchUntag(state, body["tagid"], body["openid_list"]);
    return untagged.ok ? OK : untagged.errcode;
  });

  post(
    "/cgi-bin/tags/getidlist",
    "tags/getidlist",
    (body) => {
      const found = tagIdsOf(state, body["openid"]);
      return found.ok ? { tagid_list: found.tagIds } : found.errcode;
    },
    "/cgi-bin/tags/getidlist",
  );

  post("/cgi-bin/user/tag/get", "user/tag/get", (body) => {
    const tagId = body["tagid"];
    if (typeof tagId !== "number" || !state.tags.byId.has(tagId)) return 45159;
    const everyone = usersWithTag(state, tagId);
    const after = typeof body["next_openid"] === "string" ? body["next_openid"] : "";
    const start = after === "" ? 0 : everyone.indexOf(after) + 1;
    if (after !== "" && start === 0) return 40003;
    const page = everyone.slice(start, start + USER_TAG_GET_PAGE_SIZE);
    // The empty page's shape is undocumented (U); this one ends wechatpy's loop and the user/get reader alike.
    if (page.length === 0) return { count: 0, next_openid: "" };
    return { count: page.length, data: { openid: page }, next_openid: page[page.length - 1] };
  });

  app.get("/emulator/tags", async () => ({
    tags: listTags(state).map((t) => ({ ...t, openIds: usersWithTag(state, t.id) })),
  }));
}
