/**
 * The phone page at the emulator's `/`: a person acting as WeChat users (scan a code, follow,
 * write to the account, read the replies) through the `/emulator/*` controls. The page is built
 * from `web/phone/` into `dist/web/phone/` by `npm run build`; without it `/` says how to build it
 * and everything else keeps working.
 * @module
 */
import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** `dist/web/phone/` of this package, seen from `src/emulator/` and from `dist/emulator/` alike. */
export const DEFAULT_PHONE_PAGE_DIR = fileURLToPath(new URL("../../dist/web/phone/", import.meta.url));

// The page loads only its own files and talks only to this origin; nothing may frame it.
const PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const ASSET_CACHE = "public, max-age=31536000, immutable"; // Vite names assets by their content hash

const NOT_BUILT = (dir: string): string =>
  [
    "The emulator's phone page is not built: run `npm run build` (it builds web/phone into dist/web/phone), then reload.",
    `(looked in ${dir})`,
    "The WeChat API and the /emulator/* controls work without it; `wxqr scan --openid <id> --ticket <ticket>` acts as a user from the command line.",
    "",
  ].join("\n");

export function registerPhonePage(app: FastifyInstance, dir: string = DEFAULT_PHONE_PAGE_DIR): void {
  if (!existsSync(join(dir, "index.html"))) {
    app.get("/", async (_request, reply) => reply.code(404).type("text/plain; charset=utf-8").send(NOT_BUILT(dir)));
    return;
  }
  void app.register(fastifyStatic, {
    root: dir,
    prefix: "/",
    index: "index.html",
    // Its own max-age=0 would overwrite the cache-control set below.
    cacheControl: false,
    setHeaders(res, path) {
      res.setHeader("cache-control", path.includes(`${sep}assets${sep}`) ? ASSET_CACHE : "no-cache");
      if (path.endsWith(".html")) res.setHeader("content-security-policy", PAGE_CSP);
      res.setHeader("x-content-type-options", "nosniff");
    },
  });
}
