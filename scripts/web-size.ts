/**
 * The JavaScript the dashboard's first page loads, gzipped: the entry script of
 * dist/web/dashboard/index.html, what the HTML preloads and, transitively, every chunk those
 * import statically. Lazy chunks (the chart) load only on the pages that use them and are not
 * counted. Prints the figure; exits 1 above the budget of issue 10.
 * Run by `npm run build` after `vite build`: `tsx scripts/web-size.ts [dist/web/dashboard]`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

export const FIRST_PAGE_BUDGET_BYTES = 300 * 1024;

/** Script and module-preload URLs of an index.html Vite wrote (relative to the HTML). */
export function scriptsOfHtml(html: string): string[] {
  const urls: string[] = [];
  for (const tag of html.match(/<(?:script|link)\b[^>]*>/g) ?? []) {
    const isModuleScript = tag.startsWith("<script") && /\btype="module"/.test(tag);
    const isPreload = tag.startsWith("<link") && /\brel="modulepreload"/.test(tag);
    const url = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
    if ((isModuleScript || isPreload) && url !== undefined && !/^[a-z]+:|^\/\//i.test(url)) urls.push(url);
  }
  return urls;
}

/** Relative modules a chunk imports statically (`import … from "./x.js"`, `import "./x.js"`); `import("./x.js")` is lazy and left out. */
export function staticImportsOfChunk(js: string): string[] {
  const found = new Set<string>();
  for (const m of js.matchAll(/\b(?:import|export)\s*(?:[^"'();]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g)) found.add(m[1]!);
  return [...found];
}

/** Files (absolute) the first page of the app in `dir` loads, each once. */
export function firstPageFiles(dir: string, read: (path: string) => string = (p) => readFileSync(p, "utf8")): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const url of staticImportsOfChunk(read(file))) visit(join(dirname(file), url));
  };
  for (const url of scriptsOfHtml(read(join(dir, "index.html")))) visit(join(dir, url.split(/[?#]/)[0]!));
  return [...seen];
}

function main(dir: string): number {
  const files = firstPageFiles(dir);
  let total = 0;
  for (const file of files) {
    const gz = gzipSync(readFileSync(file), { level: 9 }).length;
    total += gz;
    console.log(`  ${relative(process.cwd(), file)}  ${(gz / 1024).toFixed(1)} KB gzipped`);
  }
  const verdict = total <= FIRST_PAGE_BUDGET_BYTES ? "within" : "OVER";
  console.log(`dashboard first page: ${(total / 1024).toFixed(1)} KB of JavaScript gzipped (${verdict} the ${FIRST_PAGE_BUDGET_BYTES / 1024} KB budget)`);
  const all = readdirSync(join(dir, "assets"))
    .filter((f) => f.endsWith(".js"))
    .reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, "assets", f)), { level: 9 }).length, 0);
  console.log(`dashboard, every page's JavaScript (lazy chunks such as the chart included): ${(all / 1024).toFixed(1)} KB gzipped`);
  if (files.length === 0) {
    console.error(`no script found in ${join(dir, "index.html")}: was the dashboard built?`);
    return 1;
  }
  return total <= FIRST_PAGE_BUDGET_BYTES ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv[2] ?? "dist/web/dashboard");
