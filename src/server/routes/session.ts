/**
 * Dashboard sign-in (issue #10): `POST /api/session {token}` exchanges the admin token for a
 * session cookie, `GET` says whether the caller is signed in, `DELETE` signs out. The token is
 * sent once, in a body, and never comes back: not in the cookie, a URL or a redirect.
 * @module
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { CookieSerializeOptions } from "@fastify/cookie";
import type { RequestSchemaTypes } from "./request-types.ts";
import type { Clock } from "../../deps.ts";
import type { AdminSessionService } from "../../domain/admin-sessions.ts";
import { createTokenBuckets } from "../../domain/token-bucket.ts";
import { ClientRateLimitedError, UnauthorizedError } from "../../errors.ts";
import { bearerChecker, SESSION_COOKIE, SIGN_IN_HINT, secretMatcher, type AdminGate } from "../auth.ts";
import { errorSchema } from "./schemas.ts";

// Guessing a token of 16 characters or more at 10 tries a minute per address is hopeless, and a
// person mistyping it never waits.
const SIGN_INS_PER_MINUTE = 10;

/**
 * The session cookie's attributes. `Secure` only when the request came over HTTPS: on plain
 * http://127.0.0.1 (`wxqr dev`) a browser would drop a Secure cookie.
 * @example
 * sessionCookie({ secure: false, maxAgeSec: 604_800 }); // { path: "/", httpOnly: true, sameSite: "strict", secure: false, maxAge: 604800 }
 */
export function sessionCookie(o: { secure: boolean; maxAgeSec?: number }): CookieSerializeOptions {
  return { path: "/", httpOnly: true, sameSite: "strict", secure: o.secure, ...(o.maxAgeSec !== undefined ? { maxAge: o.maxAgeSec } : {}) };
}

export function registerSessionRoutes(
  untyped: FastifyInstance,
  deps: { adminToken: string; sessions: AdminSessionService; gate: AdminGate; clock: Clock },
): void {
  const app = untyped.withTypeProvider<RequestSchemaTypes>();
  const { sessions, gate, clock } = deps;
  const isAdminToken = secretMatcher(deps.adminToken);
  const isAdminBearer = bearerChecker(deps.adminToken);
  const attempts = createTokenBuckets({ perMinute: SIGN_INS_PER_MINUTE, clock });
  const clear = (reply: FastifyReply, secure: boolean): void => void reply.clearCookie(SESSION_COOKIE, sessionCookie({ secure }));
  const cookieSecurity = { security: [], tags: ["dashboard sign-in"] } as const;

  app.post(
    "/api/session",
    {
      schema: {
        summary: "Sign in: exchange the admin token for an HttpOnly, SameSite=Strict session cookie (`wxqr_session`)",
        ...cookieSecurity,
        body: {
          type: "object",
          properties: { token: { type: "string", minLength: 1, maxLength: 1000 } },
          required: ["token"],
          additionalProperties: false,
        },
        response: { 204: { type: "null", description: "Signed in; the cookie is set" }, 400: errorSchema, 401: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const waitMs = attempts.take(request.ip);
      if (waitMs > 0) {
        reply.header("retry-after", String(Math.ceil(waitMs / 1000)));
        throw new ClientRateLimitedError("sign-in", waitMs);
      }
      if (!isAdminToken(request.body.token)) throw new UnauthorizedError("the admin token is wrong (WXQR_ADMIN_TOKEN; `wxqr dev` prints it)");
      const session = await sessions.open();
      const maxAgeSec = Math.floor((session.expiresAt - clock.now()) / 1000);
      return reply
        .setCookie(SESSION_COOKIE, session.id, sessionCookie({ secure: request.protocol === "https", maxAgeSec }))
        .code(204)
        .send();
    },
  );

  app.get(
    "/api/session",
    {
      onRequest: gate.require(SIGN_IN_HINT),
      schema: {
        summary: "Whether the caller is signed in (session cookie or bearer token)",
        response: { 200: { type: "object", properties: { signedIn: { type: "boolean", const: true } }, required: ["signedIn"] }, 401: errorSchema },
      },
    },
    async () => ({ signedIn: true }),
  );

  app.delete(
    "/api/session",
    {
      schema: {
        summary: "Sign out: ends the session on every instance and clears the cookie",
        ...cookieSecurity,
        response: { 204: { type: "null", description: "Signed out (also when no session was open)" }, 403: errorSchema },
      },
    },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined) {
        // Ending someone's session from another site is a nuisance, not a breach, but the rule
        // for cookie writes is one rule.
        if (!isAdminBearer(request.headers.authorization)) gate.checkCsrf(request);
        await sessions.end(id);
      }
      clear(reply, request.protocol === "https");
      return reply.code(204).send();
    },
  );
}
