/**
 * The push handler as Fastify routes (`wxqr serve` uses it). In their own scope every content
 * type is read as raw bytes (the signature covers the exact body, and WeChat sends `text/xml`),
 * and Fastify's own refusals of a request become the push errors they are.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { PushFormatError } from "../../errors.ts";
import { fastifyRefusal } from "../../fastify-refusal.ts";
import { createPushHandler, PUSH_UNAVAILABLE_STATUS, pushErrorResponse, type PushHandlerOptions, type PushHttpResponse } from "../handler.ts";

export interface FastifyPushOptions extends PushHandlerOptions {
  /** Default `/wechat`. */
  path?: string;
}

/** Fastify stops reading a little past the receiver's limit, so the receiver makes the exact check. */
const BODY_LIMIT_SLACK_BYTES = 1_024;

/** Fastify's own request errors, as the push errors they are. */
function asPushError(error: FastifyError): unknown {
  switch (fastifyRefusal(error)) {
    case "body-too-large":
      return new PushFormatError("push body is larger than the limit; WeChat's pushes are a few KiB", { code: "PUSH_TOO_LARGE" });
    case "bad-request":
      return new PushFormatError(`push request rejected by the HTTP layer (${error.code})`);
    default:
      return error;
  }
}

/**
 * Registers `GET` and `POST` on `path`.
 * @example
 * const app = Fastify();
 * registerPushRoute(app, { receiver, onMessage: async (message) => (message.kind === "scan" ? "welcome" : undefined) });
 * await app.listen({ port: 3000 });
 */
export function registerPushRoute(app: FastifyInstance, options: FastifyPushOptions): void {
  const handle = createPushHandler(options);
  const path = options.path ?? "/wechat";
  const bodyLimit = options.receiver.maxBodyBytes + BODY_LIMIT_SLACK_BYTES;

  const send = (reply: FastifyReply, response: PushHttpResponse): FastifyReply => {
    if (response.error !== undefined) {
      if (response.status === 200) reply.log.warn({ err: response.error }, "push committed but its passive reply could not be built; answering success");
      else if (response.status === PUSH_UNAVAILABLE_STATUS)
        reply.log.error({ err: response.error }, "push not processed; answering 503 so WeChat delivers it again");
      else reply.log.warn({ status: response.status, error: (response.error as { code?: unknown }).code }, "push refused");
    }
    return reply.code(response.status).headers(response.headers).send(response.body);
  };

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_request, body, done) => done(null, body));
    scope.setErrorHandler(async (error: FastifyError, _request, reply) => send(reply, pushErrorResponse(asPushError(error))));
    const route = async (request: { method: string; url: string; body: unknown }, reply: FastifyReply): Promise<FastifyReply> => {
      const q = request.url.indexOf("?");
      const body = Buffer.isBuffer(request.body) ? request.body : undefined;
      return send(reply, await handle({ method: request.method, query: q < 0 ? "" : request.url.slice(q + 1), body }));
    };
    scope.get(path, route);
    scope.post(path, { bodyLimit }, route);
    // Answered 405 by the core, naming the methods WeChat uses.
    scope.route({ method: ["PUT", "DELETE", "PATCH", "OPTIONS"], url: path, handler: route });
  });
}
