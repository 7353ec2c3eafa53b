/**
 * `GET /cgi-bin/token` and `POST /cgi-bin/stable_token` (wechat-api.md §7).
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { queryValue, rawBody, type EmulatorContext } from "./context.ts";
import { countCall, overDailyQuota } from "./counters.ts";
import { takeFault } from "./faults.ts";
import { getStableToken, issueClassicToken } from "./tokens.ts";
import { sendWire, sendWireError } from "./wire.ts";

const GRANT_TYPE = "client_credential";

interface Credentials {
  grantType: unknown;
  appId: unknown;
  secret: unknown;
}

/**
 * Compares in constant time: the emulator may listen beyond loopback, and a plain `!==` would
 * leak how much of a guessed secret is right. Hashing first makes the lengths equal too, so
 * `timingSafeEqual` never throws and the length of the secret does not show either.
 * @example
 * secretMatches(givenInRequest, state.config.appSecret); // true only for the exact secret
 */
export function secretMatches(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token endpoints' checks, in the platform's order; `undefined` when all pass. */
function credentialError(ctx: EmulatorContext, c: Credentials): number | undefined {
  const { appId, appSecret } = ctx.state.config;
  if (c.grantType !== GRANT_TYPE) return 40002;
  if (typeof c.appId !== "string" || c.appId === "") return 41002;
  if (typeof c.secret !== "string" || c.secret === "") return 41004;
  if (c.appId !== appId) return 40013;
  if (!secretMatches(c.secret, appSecret)) return 40125;
  return undefined;
}

export function registerTokenRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state, random } = ctx;

  app.get("/cgi-bin/token", async (request, reply) => {
    const now = ctx.now();
    const countToday = countCall(state, "token", now);
    const fault = takeFault(state, "/cgi-bin/token");
    if (fault !== undefined) return sendWireError(reply, fault, random);
    const error = credentialError(ctx, {
      grantType: queryValue(request.query, "grant_type"),
      appId: queryValue(request.query, "appid"),
      secret: queryValue(request.query, "secret"),
    });
    if (error !== undefined) return sendWireError(reply, error, random);
    if (overDailyQuota(state, "token", countToday)) return sendWireError(reply, 45009, random);
    const issued = issueClassicToken(state, now, random);
    ctx.logger.debug({ kind: "classic", expiresInSec: issued.expiresInSec }, "emulator issued an access token");
    return sendWire(reply, { access_token: issued.token, expires_in: issued.expiresInSec });
  });

  app.get("/cgi-bin/stable_token", async (_request, reply) => {
    countCall(state, "stable_token", ctx.now());
    return sendWireError(reply, 43002, random);
  });

  app.post("/cgi-bin/stable_token", async (request, reply) => {
    const now = ctx.now();
    const countToday = countCall(state, "stable_token", now);
    const fault = takeFault(state, "/cgi-bin/stable_token");
    if (fault !== undefined) return sendWireError(reply, fault, random);
    let body: unknown;
    try {
      body = JSON.parse(rawBody(request.body));
    } catch {
      return sendWireError(reply, 47001, random);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return sendWireError(reply, 47001, random);
    const wire = body as Record<string, unknown>;
    const error = credentialError(ctx, { grantType: wire["grant_type"], appId: wire["appid"], secret: wire["secret"] });
    if (error !== undefined) return sendWireError(reply, error, random);
    if (overDailyQuota(state, "stable_token", countToday)) return sendWireError(reply, 45009, random);
    // Only a JSON `true` forces; the platform's default is false.
    const issued = getStableToken(state, wire["force_refresh"] === true, now, random);
    ctx.logger.debug({ kind: "stable", expiresInSec: issued.expiresInSec }, "emulator answered stable_token");
    return sendWire(reply, { access_token: issued.token, expires_in: issued.expiresInSec });
  });
}
