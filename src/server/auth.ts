/**
 * Who may use the admin API: `Authorization: Bearer <admin token>`, compared in constant time, or
 * the dashboard's session cookie (issue #10). A browser attaches the cookie to any request to
 * this service, a cross-site form post included, so a write made with the cookie must also show
 * that the dashboard itself sent it (`csrfRefusal`); a bearer request cannot be forged that way.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { AdminSessionService } from "../domain/admin-sessions.ts";
import { CsrfRefusedError, UnauthorizedError } from "../errors.ts";

/** The dashboard's session cookie: HttpOnly, SameSite=Strict, Path=/ (`routes/session.ts`). */
export const SESSION_COOKIE = "wxqr_session";
/** What a caller without a credential is told. */
export const SIGN_IN_HINT = "send Authorization: Bearer <WXQR_ADMIN_TOKEN>, or sign in with POST /api/session {token}";
/** The header the dashboard sends with every write; a cross-site form cannot set one. */
export const CSRF_HEADER = "x-wxqr-csrf";

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** A matcher for one secret: hashing both sides first makes the comparison length-independent. */
export function secretMatcher(secret: string): (given: string) => boolean {
  const expected = digest(secret);
  return (given) => timingSafeEqual(digest(given), expected);
}

/** A checker of `Authorization: Bearer <secret>` for one secret. */
export function bearerChecker(secret: string): (authorization: string | undefined) => boolean {
  const matches = secretMatcher(secret);
  return (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    return m !== null && matches(m[1]!);
  };
}

export interface CsrfInput {
  method: string;
  /** The request's `X-Wxqr-Csrf` and `Origin` headers. */
  csrfHeader: string | string[] | undefined;
  origin: string | string[] | undefined;
  /** The service's own origin as this request reached it, e.g. `https://wxqr.example.com`. */
  ownOrigin: string;
}

/**
 * Why a request authenticated by the session cookie may have been sent by another site, or
 * undefined when it may proceed. Reads are let through (they change nothing, and SameSite=Strict
 * keeps the cookie off cross-site loads anyway); a write needs `X-Wxqr-Csrf: 1`, which a form or
 * a simple cross-site request cannot carry, and, when the browser names an `Origin`, the
 * service's own.
 * @example
 * csrfRefusal({ method: "POST", csrfHeader: undefined, origin: "http://evil.example", ownOrigin: "http://127.0.0.1:3000" }); // "… must carry X-Wxqr-Csrf: 1 …"
 */
export function csrfRefusal(input: CsrfInput): string | undefined {
  if (input.method === "GET" || input.method === "HEAD") return undefined;
  if (input.csrfHeader !== "1") return "a write made with the session cookie must carry X-Wxqr-Csrf: 1 (the dashboard sends it)";
  if (input.origin !== undefined && (typeof input.origin !== "string" || input.origin.toLowerCase() !== input.ownOrigin.toLowerCase())) {
    return "a write made with the session cookie must come from the service's own origin";
  }
  return undefined;
}

/** How a request proved it is the admin's. */
export type AdminCredential = "bearer" | "session";

export interface AdminGate {
  /** The credential the request carries, checked; undefined when it carries none that holds. */
  credential(request: FastifyRequest): Promise<AdminCredential | undefined>;
  /** An `onRequest` hook: 401 without a credential, 403 for a cookie write that fails `csrfRefusal`. */
  require(hint: string): (request: FastifyRequest) => Promise<void>;
  /** Throws `CsrfRefusedError` when the request fails `csrfRefusal`. */
  checkCsrf(request: FastifyRequest): void;
}

export function createAdminGate(options: { adminToken: string; sessions: AdminSessionService }): AdminGate {
  const bearer = bearerChecker(options.adminToken);
  const gate: AdminGate = {
    async credential(request) {
      if (bearer(request.headers.authorization)) return "bearer";
      const id = request.cookies[SESSION_COOKIE];
      return id !== undefined && (await options.sessions.check(id)) ? "session" : undefined;
    },
    require(hint) {
      return async (request) => {
        const credential = await gate.credential(request);
        if (credential === undefined) throw new UnauthorizedError(hint);
        if (credential === "session") gate.checkCsrf(request);
      };
    },
    checkCsrf(request) {
      const refusal = csrfRefusal({
        method: request.method,
        csrfHeader: request.headers[CSRF_HEADER],
        origin: request.headers.origin,
        ownOrigin: `${request.protocol}://${request.host}`,
      });
      if (refusal !== undefined) throw new CsrfRefusedError(refusal);
    },
  };
  return gate;
}
