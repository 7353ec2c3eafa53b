/**
 * Dashboard sign-in (issue #10) over loopback HTTP, on SQLite and PostgreSQL: the admin token is
 * exchanged for an HttpOnly, SameSite=Strict session cookie that `/api` accepts besides the bearer
 * token; writes made with the cookie must carry `X-Wxqr-Csrf: 1` and no foreign `Origin`; signing
 * out ends the session in the database, so on every instance. Idle and absolute expiry are
 * reached by moving the harness's manual clock, never by waiting.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSeededRandom, createManualClock } from "../../src/deps.ts";
import { ADMIN_SESSION_DEFAULTS, createAdminSessionService } from "../../src/domain/admin-sessions.ts";
import { openDatabase } from "../../src/store/index.ts";
import { describeOnBothEngines, type DatabaseFactory } from "../helpers/databases.ts";
import { ADMIN_TOKEN, SERVICE_APP_ID, startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const HOUR_MS = 3_600_000;
const EVIL_ORIGIN = "http://evil.example";

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

/** One request as a browser would send it: the cookie (when given), headers, a body. */
async function send(
  url: string,
  o: { method?: string; cookie?: string; headers?: Record<string, string>; json?: unknown; form?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.cookie !== undefined) headers.cookie = `wxqr_session=${o.cookie}`;
  let body: string | undefined;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(o.json);
  } else if (o.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = o.form;
  }
  const res = await fetch(url, { method: o.method ?? "GET", headers, body, redirect: "manual", signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (res.headers.get("content-type") ?? "").includes("json") && text !== "" ? JSON.parse(text) : text };
}

interface SetCookie {
  value: string;
  /** Attribute names in lower case → their value ("" for flags). */
  attributes: Map<string, string>;
}

function sessionSetCookie(res: Answer): SetCookie | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith("wxqr_session="));
  if (line === undefined) return undefined;
  const [pair, ...attrs] = line.split(";").map((p) => p.trim());
  const attributes = new Map(
    attrs.map((a) => {
      const eq = a.indexOf("=");
      return eq < 0 ? [a.toLowerCase(), ""] : [a.slice(0, eq).toLowerCase(), a.slice(eq + 1)];
    }),
  );
  return { value: pair!.slice("wxqr_session=".length), attributes };
}

async function signIn(h: ServiceHarness, token = ADMIN_TOKEN, headers: Record<string, string> = {}): Promise<{ res: Answer; cookie?: SetCookie }> {
  const res = await send(`${h.serviceUrl}/api/session`, { method: "POST", json: { token }, headers });
  return { res, cookie: sessionSetCookie(res) };
}

async function signedIn(h: ServiceHarness, cookie: string): Promise<number> {
  return (await send(`${h.serviceUrl}/api/session`, { cookie })).status;
}

/** The channels' names, sorted (read with the bearer token). */
async function channelNames(h: ServiceHarness): Promise<string[]> {
  const channels: Array<{ name: string }> = (await h.api("GET", "/api/channels")).body.channels;
  return channels.map((c) => c.name).sort();
}

describeOnBothEngines("dashboard-sign-in", (makeFactory: () => DatabaseFactory) => {
  const factory = makeFactory();
  const harnesses: ServiceHarness[] = [];
  afterEach(async () => {
    await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
  });
  afterAll(() => factory.cleanup());

  async function start(server: ServiceHarnessOptions["server"] = {}): Promise<ServiceHarness> {
    const { db } = await factory.create();
    const h = await startServiceHarness({ db, server });
    harnesses.push(h);
    return h;
  }

  describe(`sign-in (${factory.name})`, () => {
    it("exchanges the admin token for an HttpOnly, SameSite=Strict, Path=/ cookie (not Secure over http) that /api accepts; the token is in no answer", async () => {
      const h = await start();
      const { res, cookie } = await signIn(h);
      expect(res.status).toBe(204);
      expect(res.body).toBe("");
      expect(cookie).toBeDefined();
      expect(cookie!.attributes.has("httponly")).toBe(true);
      expect(cookie!.attributes.get("samesite")?.toLowerCase()).toBe("strict");
      expect(cookie!.attributes.get("path")).toBe("/");
      expect(cookie!.attributes.has("secure")).toBe(false);
      expect(Number(cookie!.attributes.get("max-age"))).toBe(ADMIN_SESSION_DEFAULTS.maxAgeMs / 1000);
      // The cookie is a session id of its own, not the token; no redirect, no URL carries the token.
      expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(cookie!.value).not.toContain(ADMIN_TOKEN);
      expect(res.headers.get("location")).toBeNull();
      for (const [name, value] of res.headers) expect(value, name).not.toContain(ADMIN_TOKEN);

      expect(await send(`${h.serviceUrl}/api/session`, { cookie: cookie!.value })).toMatchObject({ status: 200, body: { signedIn: true } });
      expect(await send(`${h.serviceUrl}/api/channels`, { cookie: cookie!.value })).toMatchObject({ status: 200 });
      // The bearer token keeps working, and says it is signed in too.
      expect(await h.api("GET", "/api/session")).toMatchObject({ status: 200, body: { signedIn: true } });
      expect(await send(`${h.serviceUrl}/api/session`)).toMatchObject({ status: 401, body: { error: "UNAUTHORIZED" } });
      expect(await send(`${h.serviceUrl}/api/channels`, { cookie: "x".repeat(43) })).toMatchObject({ status: 401, body: { error: "UNAUTHORIZED" } });
    });

    it("refuses a wrong token with 401 and sets no cookie", async () => {
      const h = await start();
      for (const token of ["wrong-token-0123456789", `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
        const { res, cookie } = await signIn(h, token);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: "UNAUTHORIZED" });
        expect(cookie).toBeUndefined();
      }
      expect((await send(`${h.serviceUrl}/api/session`, { method: "POST", json: {} })).body).toMatchObject({ error: "VALIDATION_FAILED" });
    });

    it("refuses a cross-site write made with the cookie (403 CSRF_REFUSED, nothing created); a same-origin write with X-Wxqr-Csrf: 1 succeeds", async () => {
      const h = await start();
      const { cookie } = await signIn(h);
      const url = `${h.serviceUrl}/api/channels`;
      const ownOrigin = h.serviceUrl;
      const refused: Array<{ form?: string; json?: unknown; headers: Record<string, string> }> = [
        // A form on another site posting to the service: the browser adds the cookie, but cannot add the header.
        { form: "name=evil", headers: { origin: EVIL_ORIGIN } },
        { json: { name: "evil json" }, headers: { origin: EVIL_ORIGIN } },
        { json: { name: "no header" }, headers: {} },
        { json: { name: "no header, own origin" }, headers: { origin: ownOrigin } },
        { json: { name: "header, foreign origin" }, headers: { origin: EVIL_ORIGIN, "x-wxqr-csrf": "1" } },
        { json: { name: "header, null origin" }, headers: { origin: "null", "x-wxqr-csrf": "1" } },
        { json: { name: "header, other port" }, headers: { origin: "http://127.0.0.1:1", "x-wxqr-csrf": "1" } },
        { json: { name: "header not 1" }, headers: { origin: ownOrigin, "x-wxqr-csrf": "true" } },
      ];
      for (const r of refused) {
        const res = await send(url, { method: "POST", cookie: cookie!.value, ...r });
        expect(res.status, JSON.stringify(r)).toBe(403);
        expect(res.body).toMatchObject({ error: "CSRF_REFUSED" });
      }
      expect(await channelNames(h)).toEqual([]);

      const sameOrigin = await send(url, {
        method: "POST",
        cookie: cookie!.value,
        json: { name: "from the dashboard" },
        headers: { origin: ownOrigin, "x-wxqr-csrf": "1" },
      });
      expect(sameOrigin.status).toBe(201);
      // Same-origin fetches of some browsers send no Origin: the header alone is proof enough.
      const noOrigin = await send(url, { method: "POST", cookie: cookie!.value, json: { name: "no origin" }, headers: { "x-wxqr-csrf": "1" } });
      expect(noOrigin.status).toBe(201);
      // Bearer requests are not the browser's ambient credential: no CSRF rule.
      const bearer = await send(url, { method: "POST", json: { name: "by bearer" }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: EVIL_ORIGIN } });
      expect(bearer.status).toBe(201);
      expect(await channelNames(h)).toEqual(["by bearer", "from the dashboard", "no origin"]);
    });

    it("signing out ends the session on the server (the old cookie is 401 after) and clears the cookie; without the CSRF header it is refused", async () => {
      const h = await start();
      const { cookie } = await signIn(h);
      const id = cookie!.value;
      const url = `${h.serviceUrl}/api/session`;
      expect(await send(url, { method: "DELETE", cookie: id, headers: { origin: EVIL_ORIGIN } })).toMatchObject({
        status: 403,
        body: { error: "CSRF_REFUSED" },
      });
      expect(await signedIn(h, id)).toBe(200);

      const out = await send(url, { method: "DELETE", cookie: id, headers: { "x-wxqr-csrf": "1", origin: h.serviceUrl } });
      expect(out.status).toBe(204);
      const cleared = sessionSetCookie(out);
      expect(cleared?.value).toBe("");
      expect(cleared?.attributes.get("path")).toBe("/");
      expect(new Date(cleared!.attributes.get("expires")!).getTime()).toBeLessThan(Date.UTC(2000, 0, 1));

      // The browser kept a copy: the server no longer knows it.
      expect(await signedIn(h, id)).toBe(401);
      expect(await send(`${h.serviceUrl}/api/channels`, { cookie: id })).toMatchObject({ status: 401, body: { error: "UNAUTHORIZED" } });
      // Signing out twice, or with no session, is not an error.
      expect((await send(url, { method: "DELETE", cookie: id, headers: { "x-wxqr-csrf": "1" } })).status).toBe(204);
      expect((await send(url, { method: "DELETE" })).status).toBe(204);
    });

    it("a session ends after 12 h unused, and 7 days after sign-in however often it is used", async () => {
      const h = await start();
      const idle = (await signIn(h)).cookie!.value;
      h.clock.advance(ADMIN_SESSION_DEFAULTS.idleMs - 60_000);
      expect(await signedIn(h, idle)).toBe(200); // used: its idle clock starts again
      h.clock.advance(ADMIN_SESSION_DEFAULTS.idleMs - 60_000);
      expect(await signedIn(h, idle)).toBe(200);
      h.clock.advance(ADMIN_SESSION_DEFAULTS.idleMs);
      expect(await signedIn(h, idle)).toBe(401);

      const busy = (await signIn(h)).cookie!.value;
      let used = 0;
      while (used + 11 * HOUR_MS < ADMIN_SESSION_DEFAULTS.maxAgeMs) {
        h.clock.advance(11 * HOUR_MS);
        used += 11 * HOUR_MS;
        expect(await signedIn(h, busy)).toBe(200);
      }
      h.clock.advance(ADMIN_SESSION_DEFAULTS.maxAgeMs - used);
      expect(await signedIn(h, busy)).toBe(401);
    });

    it("rate-limits sign-in attempts per client address: 429 RATE_LIMITED with Retry-After, the right token included, until the bucket refills", async () => {
      const h = await start();
      for (let i = 0; i < 10; i++) expect((await signIn(h, `wrong-token-${i}-0123456789`)).res.status).toBe(401);
      const limited = await signIn(h);
      expect(limited.res).toMatchObject({ status: 429, body: { error: "RATE_LIMITED" } });
      expect(Number(limited.res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(limited.cookie).toBeUndefined();
      h.clock.advance(60_000);
      expect((await signIn(h)).res.status).toBe(204);
    });

    it("sets Secure when the request came over HTTPS through a trusted proxy, and then wants the https origin on cookie writes", async () => {
      const h = await start({ trustProxy: true });
      const { cookie } = await signIn(h, ADMIN_TOKEN, { "x-forwarded-proto": "https" });
      expect(cookie!.attributes.has("secure")).toBe(true);
      const publicOrigin = h.serviceUrl.replace(/^http:/, "https:");
      const write = (origin: string): Promise<Answer> =>
        send(`${h.serviceUrl}/api/channels`, {
          method: "POST",
          cookie: cookie!.value,
          json: { name: `via ${origin}` },
          headers: { "x-forwarded-proto": "https", "x-wxqr-csrf": "1", origin },
        });
      expect((await write(h.serviceUrl)).status).toBe(403);
      expect((await write(publicOrigin)).status).toBe(201);

      // Not trusted (the default): the header is anybody's, and is ignored.
      const direct = await start();
      expect((await signIn(direct, ADMIN_TOKEN, { "x-forwarded-proto": "https" })).cookie!.attributes.has("secure")).toBe(false);
    });
  });

  describe(`sessions in the database (${factory.name})`, () => {
    it("are shared by instances on one database: signed in on one, used on the other, ended there, refused on both", async () => {
      const { db, url } = await factory.create();
      const one = await startServiceHarness({ db });
      harnesses.push(one);
      // A second instance: its own connection to the same database.
      const two = await startServiceHarness({ db: openDatabase(url), seed: 12 });
      harnesses.push(two);
      const { cookie } = await signIn(one);
      expect(await signedIn(two, cookie!.value)).toBe(200);
      expect((await send(`${two.serviceUrl}/api/session`, { method: "DELETE", cookie: cookie!.value, headers: { "x-wxqr-csrf": "1" } })).status).toBe(204);
      expect(await signedIn(one, cookie!.value)).toBe(401);
      expect(await signedIn(two, cookie!.value)).toBe(401);
    });

    it("store only a keyed hash of the id, and a changed admin token ends every session", async () => {
      const { db } = await factory.create();
      const h = await startServiceHarness({ db });
      harnesses.push(h);
      const clock = createManualClock(h.clock.now());
      const deps = { db, accountId: SERVICE_APP_ID, clock, random: createSeededRandom(3) };
      const before = createAdminSessionService({ key: ADMIN_TOKEN }, deps);
      const { id } = await before.open();
      const rows = await db.read((sql) => sql.all<{ id_hash: string }>("SELECT id_hash FROM admin_sessions"));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.id_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]!.id_hash).not.toContain(id);
      expect(await before.check(id)).toBe(true);
      const rotated = createAdminSessionService({ key: "a-new-admin-token-0123456789" }, deps);
      expect(await rotated.check(id)).toBe(false);
    });
  });
});
