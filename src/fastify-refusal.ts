/**
 * Fastify's own refusals of a request, made before any handler runs (a body over the limit, one
 * that is not JSON, an unknown content type …): the caller's fault, not ours, so never a 5xx
 * (design.md invariant 8: WeChat retries a 5xx push forever). The one place that reads them, for
 * the service's API and the push adapter, which each turn them into their own typed error. Top
 * level, beside `deps.ts`, because `push/` may not import `server/`.
 * @module
 */
import type { FastifyError } from "fastify";

/** `body-too-large`: over the route's `bodyLimit`; `bad-request`: any other of Fastify's 4xx. */
export type FastifyRefusal = "body-too-large" | "bad-request";

/**
 * How Fastify refused the request, or `undefined` for any other error (a handler's own, a 5xx).
 * @example
 * fastifyRefusal(error) === "body-too-large" ? new BodyTooLargeError(limit) : error;
 */
export function fastifyRefusal(error: FastifyError): FastifyRefusal | undefined {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return "body-too-large";
  const clientError = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500;
  return clientError && error.code?.startsWith("FST_") ? "bad-request" : undefined;
}
