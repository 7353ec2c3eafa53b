/**
 * A real headless Chromium for page tests: Debian's `/usr/bin/chromium` driven by playwright-core
 * (never a downloaded browser), axe-core injected for accessibility checks, and screenshots
 * written to `docs/screenshots/` for the README. Without Chromium the suites are skipped loudly
 * locally and fail in CI (`.ci/run` installs it with `scripts/install-browser.sh`).
 */
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ROOT } from "./cli.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, "docs", "screenshots");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

// The flags Chromium needs here: no sandbox as root, no GPU, and none of the background traffic a
// closed network refuses.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** True when Chromium is installed; loud locally, fatal in CI when it is not. */
export function announceBrowser(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${suite}: ${CHROMIUM} is missing in CI (scripts/install-browser.sh installs it)`);
  process.stderr.write(`\n!!! ${suite}: browser tests SKIPPED — no ${CHROMIUM} (run scripts/install-browser.sh as root) !!!\n\n`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Writes `docs/screenshots/<name>.png` (the README shows that folder). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
