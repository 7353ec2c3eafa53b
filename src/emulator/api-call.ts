/**
 * The checks every token-authenticated platform call makes before its own, in the order the
 * QR code route makes them: count the call (failed ones too), answer an armed fault, check the
 * access token, then the daily quota.
 * @module
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { queryValue, rawBody, type EmulatorContext } from "./context.ts";
import { countCall, overDailyQuota } from "./counters.ts";
import { takeFault, type FaultPath } from "./faults.ts";
import { QUOTA_ENDPOINTS, type CountedEndpoint, type QuotaEndpoint } from "./options.ts";
import { checkAccessToken } from "./tokens.ts";
import { sendWireError } from "./wire.ts";

const hasQuota = (endpoint: CountedEndpoint): endpoint is QuotaEndpoint => (QUOTA_ENDPOINTS as readonly string[]).includes(endpoint);

/**
 * Runs the common checks; answers the error itself and returns `undefined` when one fails,
 * else the emulator's `now` for the call.
 * @example
 * const now = beginApiCall(ctx, request, reply, "tags/create", "/cgi-bin/tags/create");
 * if (now === undefined) return reply;
 */
export function beginApiCall(
  ctx: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  endpoint: CountedEndpoint,
  faultPath?: FaultPath,
): number | undefined {
  const { state, random } = ctx;
  const now = ctx.now();
  const countToday = countCall(state, endpoint, now);
  const fault = faultPath === undefined ? undefined : takeFault(state, faultPath);
  if (fault !== undefined) {
    sendWireError(reply, fault, random);
    return undefined;
  }
  const token = checkAccessToken(state, queryValue(request.query, "access_token"), now);
  if (!token.ok) {
    sendWireError(reply, token.errcode, random);
    return undefined;
  }
  if (hasQuota(endpoint) && overDailyQuota(state, endpoint, countToday)) {
    sendWireError(reply, 45009, random);
    return undefined;
  }
  return now;
}

/** A JSON object body (read as text whatever its Content-Type), or `undefined` (the platform's 47001). */
export function wireJsonObject(body: unknown): Record<string, unknown> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(rawBody(body));
  } catch {
    return undefined;
  }
  return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}
