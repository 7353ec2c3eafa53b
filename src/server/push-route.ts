/**
 * The Fastify adapter for the push receiver (style.md §1 "Core plus adapter"): `GET` answers
 * URL verification with the echostr, `POST` opens the push from its raw bytes, hands the
 * message to `onMessage`, and sends the passive reply once `onMessage` has finished
 * (design.md: "success" only after the effects are committed). Errors map to statuses in
 * `http-errors.ts`; a failing `onMessage` gives 503, so WeChat delivers the push again. Once
 * `onMessage` has succeeded the answer is always 200: a reply that cannot be built is `success`.
 * @module
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { PushFormatError } from "../errors.ts";
import { DEFAULT_MAX_BODY_BYTES, SUCCESS_REPLY } from "../push/index.ts";
import type { PushMessage, PushQuery, PushReceiver, PushReply } from "../push/index.ts";
import { httpErrorFor, UNAVAILABLE_STATUS } from "./http-errors.ts";

/** What `onMessage` may ask to say to the user: a text reply, or nothing (`success`). */
export interface PushRouteReply {
  text?: string | undefined;
}

export interface PushRouteOptions {
  receiver: PushReceiver;
  /** Does what must be durable, then resolves; its `text` becomes the passive reply. */
  onMessage: (message: PushMessage) => Promise<PushRouteReply | void> | PushRouteReply | void;
  /** Default `/wechat`. */
  path?: string;
  /** The receiver's `maxBodyBytes` (default 64 KiB, the receiver's default). */
  maxBodyBytes?: number;
}

/** Fastify stops reading a little past the receiver's limit, so the receiver makes the exact check. */
const BODY_LIMIT_SLACK_BYTES = 1_024;

/** Fastify's own request errors, as the push errors they are. */
function asPushError(error: FastifyError): unknown {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new PushFormatError("push body is larger than the limit; WeChat's pushes are a few KiB", { code: "PUSH_TOO_LARGE" });
  }
  if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 && error.code?.startsWith("FST_")) {
    return new PushFormatError(`push request rejected by the HTTP layer (${error.code})`);
  }
  return error;
}

/**
 * Registers `GET` and `POST` on `path` in their own scope, where every content type is read as
 * raw bytes (the signature covers the exact body, and WeChat sends `text/xml`).
 * @example
 * const app = Fastify();
 * const receiver = createPushReceiver({ token, appId, encodingAESKey });
 * registerPushRoute(app, {
 *   receiver,
 *   onMessage: async (message) => (message.kind === "scan" ? { text: `welcome ${message.openId}` } : undefined),
 * });
 * await app.listen({ port: 3000 });
 */
export function registerPushRoute(app: FastifyInstance, options: PushRouteOptions): void {
  const { receiver, onMessage, path = "/wechat", maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = options;
  const bodyLimit = maxBodyBytes + BODY_LIMIT_SLACK_BYTES;

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_request, body, done) => done(null, body));

    scope.setErrorHandler(async (error: FastifyError, request, reply) => {
      const { status, body } = httpErrorFor(asPushError(error));
      if (status === UNAVAILABLE_STATUS) request.log.error({ err: error }, "push not processed; answering 503 so WeChat delivers it again");
      else request.log.warn({ status, error: body.error }, "push refused");
      return reply.code(status).type("application/json; charset=utf-8").send(body);
    });

    scope.get(path, async (request, reply) => {
      const echostr = receiver.verifyUrl(request.query as PushQuery);
      return reply.code(200).type("text/plain; charset=utf-8").send(echostr);
    });

    scope.post(path, { bodyLimit }, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const message = receiver.open({ query: request.query as PushQuery, body });
      const result = await onMessage(message);
      // The effects are committed: whatever happens now, WeChat must hear 200, or it redelivers a
      // push we already have (and the user sees "service unavailable"). A reply we cannot build
      // (a welcome text XML cannot carry, a missing key) becomes `success`.
      let answer: PushReply;
      try {
        answer = receiver.reply(message, { text: result?.text });
      } catch (err) {
        request.log.warn({ err, kind: message.kind }, "push committed but its passive reply could not be built; answering success");
        answer = SUCCESS_REPLY;
      }
      return reply.code(200).type(answer.contentType).send(answer.body);
    });
  });
}
