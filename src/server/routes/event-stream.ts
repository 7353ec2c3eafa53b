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
import { eventStreams } from "../event-stream-response.ts";
import type { StreamSlots } from "../stream-slots.ts";
import { eventJson } from "./events.ts";
import { errorResponses } from "./schemas.ts";

const KINDS = new Set(["scan", "subscribe", "unsubscribe", "other"]);
const SEQ_RE = /^\d{1,15}$/;

export function registerEventStreamRoute(app: FastifyInstance, deps: { service: WxqrService; slots: StreamSlots }): void {
  const send = eventStreams(app);

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
      await send(request, reply, {
        comment: "live feed",
        items: (signal) => deps.service.liveFeed.follow(after, signal),
        release,
        message: (item) => {
          if (item.type === "heartbeat") return undefined;
          const { event } = item;
          // The kind names the SSE event, so it must stay one word of the closed set.
          return { id: event.seq, event: KINDS.has(event.kind) ? event.kind : "other", data: eventJson(event) };
        },
      });
    },
  );
}
