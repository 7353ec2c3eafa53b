/**
 * The dashboard (issue #10): the single-page app `npm run build` writes to `dist/web/dashboard/`,
 * served at `/` by @fastify/static. Any page load outside the service's own paths gets the app's
 * `index.html`, so a bookmarked `/channels/ch_…` opens the app on that view. Assets have hashed
 * names and are cached for a year; `index.html` is revalidated every time, so a new build is
 * picked up at once. Before a build (tests, a fresh checkout) a page load gets a short page
 * saying how to build it: the service itself runs without one.
 * @module
 */
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { NotFoundError } from "../errors.ts";
import { httpErrorFor } from "./http-errors.ts";

/** `<package>/dist/web/dashboard`: this file sits two levels below the package root in `src/` and in `dist/`. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../../dist/web/dashboard", import.meta.url));

const IMMUTABLE = "public, max-age=31536000, immutable";
// An admin page must not be framed by another site (clickjacking a signed-in operator).
const PAGE_HEADERS = { "cache-control": "no-cache", "x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'" } as const;

const NOT_BUILT_MESSAGE = "the dashboard is not built: run `npm run build` (it writes dist/web/dashboard/), then reload";
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>wxqr: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> in the wxqr checkout (it writes <code>dist/web/dashboard/</code>), then reload this page.</p>
<p lang="zh-CN">控制台尚未构建：请在 wxqr 目录运行 <code>npm run build</code>，然后刷新本页。</p>
<p>The service runs meanwhile: the API is under <code>/api</code>, its documentation at <a href="/docs">/docs</a>.</p>
</body></html>
`;

export interface DashboardOptions {
  /** The built app; default `DEFAULT_DASHBOARD_DIR`. */
  dir: string;
  /** Paths that are the service's, never the app's, besides `/api`, `/docs`, `/healthz` and `/metrics`: the push path. */
  servicePaths: readonly string[];
}

export interface Dashboard {
  /**
   * Answers a request no route took, when it is a page load outside the service's own paths:
   * the app's `index.html`, or the page saying it is not built. False when it is not one.
   */
  answerNotFound(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
}

/**
 * Registers the static files (call after `setNotFoundHandler`: a file that is not there falls
 * through to it, and from there to `answerNotFound`).
 * @example
 * const dashboard = await registerDashboard(app, { dir: DEFAULT_DASHBOARD_DIR, servicePaths: ["/wechat"] });
 * app.setNotFoundHandler(async (request, reply) => (await dashboard.answerNotFound(request, reply)) || reply.code(404).send(…));
 */
export async function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<Dashboard> {
  const { dir } = options;
  const ownPrefixes = ["/api", "/healthz", "/metrics", ...options.servicePaths];
  const isServicePath = (path: string): boolean => path.startsWith("/docs") || ownPrefixes.some((p) => path === p || path.startsWith(`${p}/`));

  await app.register(async (scope) => {
    // `send` refuses some paths itself (a `..` segment, a malformed escape): to a browser, those
    // are pages that do not exist, not failures of the service.
    scope.setErrorHandler(async (error, request, reply) => {
      request.log.debug({ err: error }, "static file refused");
      const { status, body } = httpErrorFor(new NotFoundError("no such file"));
      return reply.code(status).send(body);
    });
    // Registered even before a build (the folder need not exist yet): a build made while the
    // service runs is served without a restart.
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: "/",
      wildcard: true,
      cacheControl: false,
      setHeaders(res, filePath) {
        const file = relative(dir, filePath);
        if (file === "index.html") for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
        else res.setHeader("cache-control", file.startsWith(`assets${sep}`) ? IMMUTABLE : "no-cache");
      },
    });
  });

  return {
    async answerNotFound(request, reply) {
      if (request.method !== "GET" && request.method !== "HEAD") return false;
      const path = request.url.split("?")[0]!;
      if (isServicePath(path)) return false;
      const wantsPage = (request.headers.accept ?? "").includes("text/html");
      if (!wantsPage && path !== "/") return false;
      const index = await readFile(join(dir, "index.html")).catch(() => undefined);
      if (index === undefined) {
        if (wantsPage) await reply.code(404).type("text/html; charset=utf-8").headers(PAGE_HEADERS).send(NOT_BUILT_PAGE);
        else await reply.code(404).send(httpErrorFor(new NotFoundError(NOT_BUILT_MESSAGE)).body);
        return true;
      }
      if (!wantsPage) return false;
      await reply.code(200).type("text/html; charset=utf-8").headers(PAGE_HEADERS).send(index);
      return true;
    },
  };
}
