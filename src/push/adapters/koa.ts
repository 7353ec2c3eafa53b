/**
 * The push handler as Koa middleware. Koa is not imported (nobody installs a framework they do
 * not use): the middleware needs only the few context fields described below. It reads the raw
 * body itself, unless a body parser already left the raw bytes or text in `ctx.request.rawBody`
 * or `ctx.request.body`.
 * @module
 */
import type { IncomingMessage } from "node:http";
import { createPushHandler, type PushHandlerOptions, type PushHttpResponse } from "../handler.ts";
import { BODY_PARSED_RESPONSE, rawBody } from "./read-body.ts";

/** The part of Koa's `Context` the middleware uses. */
export interface KoaLikeContext {
  method: string;
  path: string;
  querystring: string;
  req: IncomingMessage;
  request: { body?: unknown; rawBody?: unknown };
  status: number;
  body: unknown;
  set(field: Record<string, string>): void;
}

export interface KoaPushOptions extends PushHandlerOptions {
  /** Default `/wechat`; other paths go to `next`. */
  path?: string;
  onError?: (error: unknown, response: PushHttpResponse) => void;
}

/**
 * @example
 * const app = new Koa();
 * app.use(createKoaMiddleware({ receiver, onMessage }));
 */
export function createKoaMiddleware(options: KoaPushOptions): (ctx: KoaLikeContext, next: () => Promise<unknown>) => Promise<void> {
  const handle = createPushHandler(options);
  const path = options.path ?? "/wechat";
  const limit = options.receiver.maxBodyBytes;
  return async (ctx, next) => {
    if (ctx.path !== path) {
      await next();
      return;
    }
    let body: Uint8Array | string | undefined;
    if (ctx.method === "POST") body = await rawBody([ctx.request.rawBody, ctx.request.body], ctx.req, limit);
    const response = ctx.method === "POST" && body === undefined ? BODY_PARSED_RESPONSE : await handle({ method: ctx.method, query: ctx.querystring, body });
    if (response.error !== undefined) options.onError?.(response.error, response);
    ctx.status = response.status;
    ctx.set(response.headers);
    ctx.body = response.body;
  };
}
