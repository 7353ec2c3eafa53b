/**
 * `GET /cgi-bin/user/get?access_token=&next_openid=`: the account's follower list, from the
 * emulator's followers (everyone subscribed, in the order they first followed), a page at a time
 * like the platform: up to 10,000 OpenIDs, `next_openid` the last one of the page, and a page
 * with `count` 0 and an empty `next_openid` after the last.
 *
 * Controls: `GET /emulator/user-list` → `{ pageSize, calls }`; `PUT /emulator/user-list
 * {pageSize}` makes pages smaller, so tests can page through a handful of followers. The calls
 * are counted here rather than in `/emulator/counters`, whose shape tests pin.
 * @module
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { queryValue } from "./context.ts";
import { parseBody } from "./control-body.ts";
import { checkAccessToken } from "./tokens.ts";
import { sendWire, sendWireError } from "./wire.ts";
import { requestId } from "./wire-errors.ts";

export const USER_GET_PAGE_SIZE = 10_000; // OA user list: "最多拉取10000个" a call

const configBody = z.strictObject({ pageSize: z.number().int().min(1).max(USER_GET_PAGE_SIZE) });

export function registerUserListRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, random } = ctx;
  let pageSize = USER_GET_PAGE_SIZE;
  let calls = 0;

  app.get("/cgi-bin/user/get", async (request, reply) => {
    calls += 1;
    const token = checkAccessToken(state, queryValue(request.query, "access_token"), ctx.now());
    if (!token.ok) return sendWireError(reply, token.errcode, random);
    const everyone = [...state.followers.keys()];
    const subscribed = (openId: string): boolean => state.followers.get(openId)?.subscribed === true;
    const after = queryValue(request.query, "next_openid") ?? "";
    let start = 0;
    if (after !== "") {
      const at = everyone.indexOf(after);
      if (at < 0) return sendWire(reply, { errcode: 40003, errmsg: `invalid openid rid: ${requestId(random)}` });
      start = at + 1;
    }
    const page: string[] = [];
    for (let i = start; i < everyone.length && page.length < pageSize; i++) if (subscribed(everyone[i]!)) page.push(everyone[i]!);
    const total = everyone.filter(subscribed).length;
    if (page.length === 0) return sendWire(reply, { total, count: 0, next_openid: "" });
    return sendWire(reply, { total, count: page.length, data: { openid: page }, next_openid: page[page.length - 1]! });
  });

  app.get("/emulator/user-list", async () => ({ pageSize, calls }));

  app.put("/emulator/user-list", async (request, reply) => {
    const parsed = parseBody(reply, "PUT /emulator/user-list {pageSize}", request.body, configBody);
    if (!parsed.ok) return reply;
    pageSize = parsed.value.pageSize;
    ctx.logger.info({ pageSize }, "emulator user list page size changed");
    return { pageSize, calls };
  });
}
