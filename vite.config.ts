/**
 * The web pages (issue 10): the dashboard (web/dashboard, served by `wxqr serve`/`dev` at `/`) and
 * the emulator's phone page (web/phone, served at the emulator's `/`). `vite build` builds each
 * page on its own, rooted at its folder, into dist/web/<page>/: the two are served by different
 * servers, so neither may share a chunk with, or point a path into, the other.
 * `npx vite` serves the dashboard for development (hot reload), its /api passed to the service of
 * `wxqr dev` on :3000; `npx vite web/phone` serves the phone page.
 */
import { resolve } from "node:path";
import preact from "@preact/preset-vite";
import { build, defineConfig, type InlineConfig } from "vite";

type Page = "dashboard" | "phone";

const shared = {
  // Relative, so the phone page works wherever the emulator serves it; the dashboard, which has
  // deep routes (/channels/:id), pins `<base href="/">` in its index.html.
  base: "./",
  publicDir: false,
  plugins: [preact()],
} satisfies InlineConfig;

function page(name: Page): InlineConfig {
  return { ...shared, root: resolve("web", name), build: { outDir: resolve("dist/web", name), emptyOutDir: true } };
}

const dashboard = page("dashboard");

export default defineConfig({
  ...dashboard,
  // ECharts, loaded lazily by the chart, is one ~520 KB chunk (~170 KB gzipped); the budget that
  // matters is the gzipped first page, which scripts/web-size.ts checks.
  build: { ...dashboard.build, chunkSizeWarningLimit: 600 },
  // The Host header is kept (no changeOrigin): the service refuses a cookie write whose Origin is
  // not its own host, and the browser's Origin is the dev server's.
  server: { proxy: { "/api": { target: "http://127.0.0.1:3000" } } },
  builder: {
    async buildApp(builder) {
      await builder.build(builder.environments.client!);
      await build({ ...page("phone"), configFile: false });
    },
  },
});
