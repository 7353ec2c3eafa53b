/**
 * The push handler as a Web-standard `(Request) => Promise<Response>`: Hono, Next.js route
 * handlers, Bun, Deno, Cloudflare-style runtimes. The body is read up to a little past the
 * receiver's limit, never whole.
 * @module
 */
import { createPushHandler, type PushHandlerOptions, type PushHttpResponse } from "../handler.ts";

export interface WebPushOptions extends PushHandlerOptions {
  /** Told of every refused or failed push, and of replies that could not be built. */
  onError?: (error: unknown, response: PushHttpResponse) => void;
}

/**
 * @example
 * // Hono
 * const wechat = createWebHandler({ receiver, onMessage });
 * app.all("/wechat", (c) => wechat(c.req.raw));
 * // Next.js: app/wechat/route.ts
 * export const GET = wechat, POST = wechat;
 */
export function createWebHandler(options: WebPushOptions): (request: Request) => Promise<Response> {
  const handle = createPushHandler(options);
  const limit = options.receiver.maxBodyBytes;
  return async (request) => {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await readUpTo(request, limit + 1) : undefined;
    const response = await handle({ method: request.method, query: url.searchParams, body });
    if (response.error !== undefined) options.onError?.(response.error, response);
    return new Response(response.body, { status: response.status, headers: response.headers });
  };
}

async function readUpTo(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      break;
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
