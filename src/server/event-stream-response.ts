/**
 * Server-sent events for a route: the response headers, the opening comment, one message per
 * item, heartbeat comments, and the ending — when the items end, the client goes away, or the
 * server closes (an open stream would otherwise hold `close()` open). Shared by the live feed and
 * the scan-session streams.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** One SSE message; `undefined` for a heartbeat comment. */
export interface EventStreamMessage {
  id?: string | number;
  event: string;
  data: unknown;
}

export type EventStreamSender = <T>(
  request: FastifyRequest,
  reply: FastifyReply,
  stream: { comment: string; items: (signal: AbortSignal) => AsyncIterable<T>; message: (item: T) => EventStreamMessage | undefined; release: () => void },
) => Promise<void>;

/** Ends every open stream of `app` when it closes, and returns how to send one. */
export function eventStreams(app: FastifyInstance): EventStreamSender {
  const open = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const s of open) s.abort();
  });
  return async (request, reply, stream) => {
    const stop = new AbortController();
    open.add(stop);
    reply.raw.on("close", () => stop.abort());
    reply.hijack();
    const res = reply.raw;
    try {
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(`: ${stream.comment}\n\n`);
      for await (const item of stream.items(stop.signal)) {
        const m = stream.message(item);
        res.write(m === undefined ? ": heartbeat\n\n" : `${m.id === undefined ? "" : `id: ${m.id}\n`}event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`);
      }
    } catch (err) {
      request.log.error({ err }, `${stream.comment} failed`);
    } finally {
      open.delete(stop);
      stream.release();
      res.end();
    }
  };
}
