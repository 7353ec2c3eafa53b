/**
 * The push handler as a `node:http` request listener, also usable as Express / Connect
 * middleware. It reads the raw body itself, unless a body parser already produced the raw bytes
 * or the text (`express.raw()`, `express.text()`); a parser that turned the body into an object
 * has destroyed the bytes the signature covers, which is answered 500 with a message saying so
 * (WeChat retries: the push is not lost once the app is fixed).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createPushHandler, type PushHandler, type PushHandlerOptions, type PushHttpResponse } from "../handler.ts";
import { BODY_PARSED_RESPONSE, rawBody } from "./read-body.ts";

export interface NodePushOptions extends PushHandlerOptions {
  /** Only requests to this path are handled; others go to `next` (middleware) or get 404. Default `/wechat`. */
  path?: string;
  /** Told of every refused or failed push, and of replies that could not be built. */
  onError?: (error: unknown, response: PushHttpResponse) => void;
}

type Next = (error?: unknown) => void;

/**
 * @example
 * // node:http
 * http.createServer(createNodeMiddleware({ receiver, onMessage })).listen(3000);
 * // Express (before any body parser, or after express.raw({ type: "*\/*" }))
 * app.use(createNodeMiddleware({ receiver, onMessage, path: "/wechat" }));
 */
export function createNodeMiddleware(options: NodePushOptions): (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next?: Next) => void {
  const handle: PushHandler = createPushHandler(options);
  const path = options.path ?? "/wechat";
  const limit = options.receiver.maxBodyBytes;

  async function respond(req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const method = req.method ?? "GET";
    let body: Uint8Array | string | undefined;
    if (method === "POST") {
      body = await rawBody([req.body], req, limit);
      if (body === undefined) return send(res, BODY_PARSED_RESPONSE);
    }
    const response = await handle({ method, query: q < 0 ? "" : url.slice(q + 1), body });
    if (response.error !== undefined) options.onError?.(response.error, response);
    send(res, response);
  }

  return (req, res, next) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    if ((q < 0 ? url : url.slice(0, q)) !== path) {
      if (next) return next();
      send(res, { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "Not Found" });
      return;
    }
    respond(req, res).catch((error: unknown) => {
      if (next) return next(error);
      if (!res.headersSent) send(res, { status: 503, headers: { "content-type": "text/plain; charset=utf-8" }, body: "unavailable" });
      else res.destroy();
    });
  };
}

function send(res: ServerResponse, response: PushHttpResponse): void {
  res.writeHead(response.status, response.headers).end(response.body);
}
