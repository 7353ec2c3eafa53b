/**
 * Pushes straight off `node:http`, in front of Fastify (issue #11): a `POST` to the push path is
 * read and handed to the push core here, every other request goes on to Fastify. Routing, hooks,
 * the content-type parser and the reply object cost about 6 % of the server's CPU per push in the
 * ingest profile, for nothing a push needs. What the Fastify route does, this does too: the body
 * limit (the receiver's, with the same slack), the same statuses and error answers, the push
 * metrics and logs (never the query's secrets), and `connection: close` while the server closes.
 * The Fastify route stays for `GET` (URL verification), other methods, `inject()`, and pushes that
 * arrive once closing has begun (Fastify answers those 503).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import { PushFormatError } from "../errors.ts";
import { createPushHandler, PUSH_UNAVAILABLE_STATUS, pushErrorResponse, type PushHandlerOptions, type PushHttpResponse } from "../push/handler.ts";
import { redactUrl } from "../redact.ts";
import type { Metrics } from "./metrics.ts";

export interface PushFrontOptions extends PushHandlerOptions {
  path: string;
  metrics: Pick<Metrics, "pushes" | "pushDuration">;
  /** Fastify's logger (a no-op one when logging is off). */
  log: FastifyBaseLogger;
  /** One line per push answered, as Fastify's request log; off unless the service logs requests. */
  logRequests: boolean;
  /** True once the server has begun closing: answers then ask the client to close the connection. */
  isClosing: () => boolean;
}

/** Takes the request and answers it (true), or leaves it untouched for Fastify (false). */
export type PushFront = (req: IncomingMessage, res: ServerResponse) => boolean;

/** As the Fastify route: a little past the receiver's limit, so the receiver makes the exact check and says 413. */
const BODY_LIMIT_SLACK_BYTES = 1_024;

/**
 * @example
 * const front = createPushFront({ path: "/wechat", receiver, onMessage, metrics, log: app.log, logRequests: false, isClosing: () => closing });
 * http.createServer((req, res) => front(req, res) || fastifyHandler(req, res));
 */
export function createPushFront(options: PushFrontOptions): PushFront {
  const handle = createPushHandler(options);
  const { path, metrics, log } = options;
  const bodyLimit = options.receiver.maxBodyBytes + BODY_LIMIT_SLACK_BYTES;
  const tooLarge = (): PushHttpResponse =>
    pushErrorResponse(new PushFormatError("push body is larger than the limit; WeChat's pushes are a few KiB", { code: "PUSH_TOO_LARGE" }));

  function finish(req: IncomingMessage, res: ServerResponse, startedMs: number, response: PushHttpResponse, closeAfter = false): void {
    if (res.destroyed || res.headersSent) return;
    logRefusal(log, response);
    const headers = options.isClosing() || closeAfter ? { ...response.headers, connection: "close" } : response.headers;
    res.writeHead(response.status, headers).end(response.body);
    const outcome = response.status === 200 ? "ok" : `http_${response.status}`;
    if (response.status !== 200) metrics.pushes.inc({ outcome });
    const elapsedMs = performance.now() - startedMs;
    metrics.pushDuration.observe({ outcome }, elapsedMs / 1000);
    if (options.logRequests) {
      log.info(
        { req: { method: req.method, url: redactUrl(req.url ?? "/") }, res: { statusCode: response.status }, responseTime: elapsedMs },
        "request completed",
      );
    }
  }

  function answer(req: IncomingMessage, res: ServerResponse, startedMs: number, body: Buffer | undefined): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    handle({ method: "POST", query: q < 0 ? "" : url.slice(q + 1), body }).then(
      (response) => finish(req, res, startedMs, response),
      (error: unknown) => finish(req, res, startedMs, pushErrorResponse(error)),
    );
  }

  return (req, res) => {
    if (req.method !== "POST" || options.isClosing()) return false;
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    if ((q < 0 ? url : url.slice(0, q)) !== path) return false;
    const startedMs = performance.now();
    const declared = req.headers["content-length"];
    const declaredBytes = declared === undefined ? undefined : Number(declared);
    if (declaredBytes !== undefined && declaredBytes > bodyLimit) {
      // Refused unread, as Fastify does; the connection closes so the unread body is not taken for the next request.
      finish(req, res, startedMs, tooLarge(), true);
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > bodyLimit) {
        refused = true;
        chunks.length = 0;
        finish(req, res, startedMs, tooLarge(), true);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      answer(req, res, startedMs, size === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    // A client gone mid-body has nobody left to answer ("end" never comes); Node closes its socket.
    req.on("error", () => undefined);
    return true;
  };
}

/** What the Fastify adapter logs: refusals by code (never the query), failures of ours with their cause. */
function logRefusal(log: FastifyBaseLogger, response: PushHttpResponse): void {
  if (response.error === undefined) return;
  if (response.status === 200) log.warn({ err: response.error }, "push committed but its passive reply could not be built; answering success");
  else if (response.status === PUSH_UNAVAILABLE_STATUS) log.error({ err: response.error }, "push not processed; answering 503 so WeChat delivers it again");
  else log.warn({ status: response.status, error: (response.error as { code?: unknown }).code }, "push refused");
}
