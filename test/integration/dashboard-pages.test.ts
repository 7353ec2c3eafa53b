/**
 * The pages the service serves besides its API (issue #10), over loopback HTTP: the dashboard's
 * static files with the single-page app's fallback (from a temporary folder standing in for
 * `dist/web/dashboard`), the page that says how to build it when it is not built, and the API
 * documentation as Swagger UI at /docs with its JSON at /docs/openapi.json, behind the admin
 * token or the session cookie unless opened.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sqliteFactory, type DatabaseFactory } from "../helpers/databases.ts";
import { ADMIN_TOKEN, startServiceHarness, type Json, type ServiceHarness, type ServiceHarnessOptions } from "../helpers/service.ts";

const INDEX_HTML =
  '<!doctype html><html lang="zh-CN"><head><title>wxqr</title><script type="module" src="/assets/index-3f2a9c1b.js"></script></head><body><div id="app"></div></body></html>\n';
const APP_JS = "document.getElementById('app').textContent = 'wxqr';\n";
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; // what a browser sends for a page load

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

async function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  const res = await fetch(url, { method, headers, redirect: "manual", signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const json = (res.headers.get("content-type") ?? "").includes("json") && text !== "" ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}

/** A GET with the path exactly as given, which fetch (WHATWG URL) would normalise. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers: { accept: "*/*" }, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

let factory: DatabaseFactory;
let root: string;
const harnesses: ServiceHarness[] = [];

beforeAll(() => {
  factory = sqliteFactory();
  root = mkdtempSync(join(tmpdir(), "wxqr-dashboard-"));
});
afterEach(async () => {
  await Promise.allSettled(harnesses.splice(0).map((h) => h.close()));
});
afterAll(async () => {
  await factory.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function start(server: ServiceHarnessOptions["server"]): Promise<ServiceHarness> {
  const h = await startServiceHarness({ db: (await factory.create()).db, server });
  harnesses.push(h);
  return h;
}

/** A built dashboard as Vite lays it out: index.html, hashed assets, a file beside them. */
function fakeBuild(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), INDEX_HTML);
  writeFileSync(join(dir, "assets", "index-3f2a9c1b.js"), APP_JS);
  writeFileSync(join(dir, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

async function signInCookie(h: ServiceHarness): Promise<string> {
  const res = await fetch(`${h.serviceUrl}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: ADMIN_TOKEN }),
  });
  expect(res.status).toBe(204);
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

describe("the dashboard's pages", () => {
  it("serves the built app at /, its hashed assets cacheable for a year, index.html revalidated and never framed", async () => {
    const h = await start({ dashboardDir: fakeBuild("built") });
    for (const accept of [HTML, "*/*"]) {
      const page = await get(`${h.serviceUrl}/`, { accept });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.text).toBe(INDEX_HTML);
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(page.headers.get("content-security-policy")).toBe("frame-ancestors 'none'");
    }
    const js = await get(`${h.serviceUrl}/assets/index-3f2a9c1b.js`, { accept: "*/*" });
    expect(js).toMatchObject({ status: 200, text: APP_JS });
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const icon = await get(`${h.serviceUrl}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
    expect((await get(`${h.serviceUrl}/assets/index-3f2a9c1b.js`, {}, "HEAD")).status).toBe(200);
  });

  it("answers an app route's page load with index.html; the API, the service's paths, assets and non-page requests keep their JSON 404", async () => {
    const h = await start({ dashboardDir: fakeBuild("spa") });
    for (const path of ["/channels/abc", "/channels/ch_0a1b2c?from=2026-11-01&to=2026-11-25", "/referrals", "/login-demo/"]) {
      const page = await get(`${h.serviceUrl}${path}`, { accept: HTML });
      expect(page.status, path).toBe(200);
      expect(page.text).toBe(INDEX_HTML);
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(page.headers.get("x-frame-options")).toBe("DENY");
    }
    const notFound = async (path: string, headers: Record<string, string>, method = "GET"): Promise<void> => {
      const res = await get(`${h.serviceUrl}${path}`, headers, method);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json, `${method} ${path}`).toMatchObject({ error: "NOT_FOUND" });
    };
    await notFound("/api/nope", { accept: HTML });
    await notFound("/api/nope", { accept: "application/json", authorization: `Bearer ${ADMIN_TOKEN}` });
    await notFound("/api", { accept: HTML });
    await notFound("/docs/nope", { accept: HTML, authorization: `Bearer ${ADMIN_TOKEN}` });
    await notFound("/healthz/x", { accept: HTML });
    await notFound("/metrics/x", { accept: HTML });
    await notFound("/wechat/x", { accept: HTML });
    await notFound("/assets/index-00000000.js", { accept: "*/*" }); // a stale asset: not the app's HTML
    await notFound("/channels/abc", { accept: "application/json" });
    await notFound("/channels/abc", { accept: HTML }, "POST");
    // Paths the file server refuses by itself (sent as they are: fetch would normalise them) are
    // missing pages, not failures of the service.
    for (const path of ["/assets/%2e%2e/%2e%2e/etc/passwd", "/a%00b"]) {
      const raw = await rawGet(h.serviceUrl, path);
      expect(raw.status, path).toBe(404);
      expect(JSON.parse(raw.body), path).toMatchObject({ error: "NOT_FOUND" });
    }
    await notFound("/.env", { accept: "*/*" });
    // A malformed escape is Fastify's own 400, as on every other path.
    expect((await get(`${h.serviceUrl}/%E0%A4%A`, { accept: "*/*" })).status).toBe(400);
    expect((await get(`${h.serviceUrl}/healthz`, { accept: HTML })).json).toEqual({ status: "ok" });
  });

  it("before a build: a page load gets a short page saying how to build it, other requests a JSON 404 saying the same; a build made later is served without a restart", async () => {
    const dir = join(root, "later");
    const h = await start({ dashboardDir: dir });
    for (const path of ["/", "/channels/abc"]) {
      const page = await get(`${h.serviceUrl}${path}`, { accept: HTML });
      expect(page.status, path).toBe(404);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.text).toContain("npm run build");
      expect(page.text).toContain("dist/web/dashboard");
    }
    const api = await get(`${h.serviceUrl}/`, { accept: "application/json" });
    expect(api.status).toBe(404);
    expect(api.json).toMatchObject({ error: "NOT_FOUND", message: expect.stringContaining("npm run build") });
    // The rest of the service runs as ever.
    expect((await get(`${h.serviceUrl}/healthz`)).status).toBe(200);
    expect((await h.api("GET", "/api/channels")).status).toBe(200);

    fakeBuild("later");
    expect(await get(`${h.serviceUrl}/`, { accept: HTML })).toMatchObject({ status: 200, text: INDEX_HTML });
    expect(await get(`${h.serviceUrl}/channels/abc`, { accept: HTML })).toMatchObject({ status: 200, text: INDEX_HTML });
    expect(await get(`${h.serviceUrl}/assets/index-3f2a9c1b.js`)).toMatchObject({ status: 200, text: APP_JS });
  });
});

describe("/docs", () => {
  it("is Swagger UI over the OpenAPI document at /docs/openapi.json, behind the admin token or the session cookie", async () => {
    const h = await start({ dashboardDir: join(root, "none") });
    for (const path of ["/docs", "/docs/", "/docs/openapi.json", "/docs/json"]) {
      const refused = await get(`${h.serviceUrl}${path}`, { accept: HTML });
      expect(refused.status, path).toBe(401);
      expect(refused.json).toMatchObject({ error: "UNAUTHORIZED" });
      expect((await get(`${h.serviceUrl}${path}`, { authorization: "Bearer wrong-token-0123456789" })).status, path).toBe(401);
    }

    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const page = await get(`${h.serviceUrl}/docs`, { ...bearer, accept: HTML });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain('id="swagger-ui"');
    // The page's scripts and styles load, with the credential the page came with.
    for (const src of page.text.match(/(?<=(?:src|href)=")[^"]+\.(?:js|css)(?=")/g) ?? []) {
      expect((await get(new URL(src, `${h.serviceUrl}/docs`).toString(), bearer)).status, src).toBe(200);
    }

    const doc = await get(`${h.serviceUrl}/docs/openapi.json`, bearer);
    expect(doc.status).toBe(200);
    expect(doc.headers.get("content-type")).toMatch(/^application\/json/);
    expect(doc.json.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(["/api/session", "/api/scan-sessions/{id}/image.png", "/api/channels"]));
    expect(doc.json.components.securitySchemes.session).toMatchObject({ type: "apiKey", in: "cookie", name: "wxqr_session" });
    // The image is the secret's holder's, and signing in needs no credential yet.
    expect(doc.json.paths["/api/scan-sessions/{id}/image.png"].get.security).toEqual([]);
    expect(doc.json.paths["/api/session"].post.security).toEqual([]);

    // A browser cannot send a bearer header with a page load: signed in to the dashboard, the cookie opens both.
    const cookie = await signInCookie(h);
    expect((await get(`${h.serviceUrl}/docs`, { cookie, accept: HTML })).status).toBe(200);
    const byCookie = await get(`${h.serviceUrl}/docs/openapi.json`, { cookie });
    expect(byCookie.status).toBe(200);
    expect(byCookie.json).toEqual(doc.json);
  });

  it("is open without a token when WXQR_PUBLIC_DOCS opens it; /api stays closed", async () => {
    const h = await start({ publicDocs: true, dashboardDir: join(root, "none") });
    expect((await get(`${h.serviceUrl}/docs`, { accept: HTML })).status).toBe(200);
    expect((await get(`${h.serviceUrl}/docs/openapi.json`)).json.openapi).toMatch(/^3\./);
    expect((await get(`${h.serviceUrl}/api/channels`)).status).toBe(401);
  });
});
