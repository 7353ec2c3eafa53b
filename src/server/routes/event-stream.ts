/**
 * The live feed over server-sent events (`GET /api/events/stream`, issue #10): one message per
 * new scan-log row — `event:` its kind, `data:` the row as `GET /api/events` shows it, `id:` its
 * seq — so that a browser's EventSource, reconnecting with `Last-Event-ID`, resumes where it
 * stopped. Heartbeat comments keep idle connections open. Open streams count against the
 * client's bound on streams (`StreamSlots`).
 * @module
 */
import type { FastifyInstance } from "fastify";
import type { WxqrService } from "../../domain/index.ts";
import { ValidationError } from "../../errors.ts";
import type { StreamSlots } from "../stream-slots.ts";
import { eventJson } from "./events.ts";
import { errorResponses } from "./schemas.ts";

const KINDS = new Set(["scan", "subscribe", "unsubscribe", "other"]);
const SEQ_RE = /^\d{1,15}$/;

export function registerEventStreamRoute(app: FastifyInstance, deps: { service: WxqrService; slots: StreamSlots }): void {
  const streams = new Set<AbortController>();
  // An open stream would hold `close()` open: end them all first.
  app.addHook("preClose", async () => {
    for (const s of streams) s.abort();
  });

  app.get(
    "/api/events/stream",
    {
      schema: {
        summary: "New scan-log rows as server-sent events (event: the kind, data: the row as in /api/events, id: its seq); resumes after Last-Event-ID",
        headers: { type: "object", properties: { "last-event-id": { type: "string", description: "The seq to resume after" } } },
        produces: ["text/event-stream"],
        response: { ...errorResponses },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers["last-event-id"];
      const given = typeof lastEventId === "string" && lastEventId.trim() !== "" ? lastEventId.trim() : undefined;
      if (given !== undefined && !SEQ_RE.test(given)) throw new ValidationError("last-event-id", "must be the id of an event this stream sent (a seq)");
      const after = given !== undefined ? Number(given) : await deps.service.liveFeed.latest();
      const release = deps.slots.acquire(null, request.ip);

      const stop = new AbortController();
      streams.add(stop);
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
        res.write(": live feed\n\n");
        for await (const item of deps.service.liveFeed.follow(after, stop.signal)) {
          if (item.type === "heartbeat") res.write(": heartbeat\n\n");
          else {
            const { event } = item;
            // The kind names the SSE event, so it must stay one word of the closed set.
            const kind = KINDS.has(event.kind) ? event.kind : "other";
            res.write(`id: ${event.seq}\nevent: ${kind}\ndata: ${JSON.stringify(eventJson(event))}\n\n`);
          }
        }
      } catch (err) {
        request.log.error({ err }, "live feed stream failed");
      } finally {
        streams.delete(stop);
        release();
        res.end();
      }
    },
  );
}
