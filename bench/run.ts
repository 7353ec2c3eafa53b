/**
 * `npm run bench [-- section…]`: runs the sections in bench/sections/ (all, or those named),
 * prints a table per section and writes bench/results/latest.json plus a timestamped copy.
 *
 *   npx tsx bench/run.ts            # every section
 *   npx tsx bench/run.ts qr         # only bench/sections/qr.ts
 *   npx tsx bench/run.ts --list     # names only
 * @module
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatTable, systemInfo, type BenchContext, type BenchRow, type BenchSection } from "./lib.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const SECTIONS_DIR = join(BENCH_DIR, "sections");
const RESULTS_DIR = join(BENCH_DIR, "results");

interface SectionResult {
  name: string;
  description?: string;
  ok: boolean;
  durationMs: number;
  rows: BenchRow[];
  error?: string;
}

/** Section names are their file names, so a filter can pick files without importing the others. */
async function listSections(): Promise<string[]> {
  const files = await readdir(SECTIONS_DIR);
  return files
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -".ts".length))
    .sort();
}

async function loadSection(fileName: string): Promise<BenchSection> {
  const mod = (await import(pathToFileURL(join(SECTIONS_DIR, `${fileName}.ts`)).href)) as Partial<BenchSection>;
  if (typeof mod.name !== "string" || typeof mod.run !== "function") {
    throw new Error(`bench/sections/${fileName}.ts must export \`name\` (a string) and \`run(ctx)\``);
  }
  if (mod.name !== fileName) throw new Error(`bench/sections/${fileName}.ts exports name "${mod.name}"; it must match the file name`);
  return { name: mod.name, description: mod.description, onlyWhenNamed: mod.onlyWhenNamed === true, run: mod.run.bind(mod) } as BenchSection;
}

function usage(available: readonly string[]): string {
  return `usage: tsx bench/run.ts [--list] [section…]\nsections: ${available.join(", ") || "(none)"}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const available = await listSections();
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage(available));
    return 0;
  }
  if (argv.includes("--list")) {
    console.log(available.join("\n"));
    return 0;
  }
  const wanted = argv.filter((a) => !a.startsWith("-"));
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(", ")}\n${usage(available)}`);
    return 2;
  }
  const selected = wanted.length > 0 ? available.filter((a) => wanted.includes(a)) : available;

  const startedAt = new Date();
  const system = systemInfo();
  console.log(`wxqr bench — ${startedAt.toISOString()}`);
  console.log(`node ${system.node} · ${system.platform}/${system.arch} · ${system.cpuModel} × ${system.cpus} · load ${system.loadAvg.join(" ")}\n`);

  const ctx: BenchContext = { root: ROOT, log: (message) => process.stderr.write(`  … ${message}\n`) };
  const results: SectionResult[] = [];
  for (const fileName of selected) {
    const t0 = performance.now();
    try {
      const section = await loadSection(fileName);
      if (section.onlyWhenNamed && wanted.length === 0) {
        console.log(`## ${section.name}: not in the full run (\`npm run bench -- ${section.name}\` runs it)\n`);
        continue;
      }
      console.log(`## ${section.name}${section.description ? ` — ${section.description}` : ""}`);
      const rows = await section.run(ctx);
      const durationMs = performance.now() - t0;
      console.log(`${formatTable(rows)}\n(${(durationMs / 1000).toFixed(1)} s)\n`);
      results.push({ name: section.name, description: section.description, ok: true, durationMs, rows });
    } catch (error) {
      const durationMs = performance.now() - t0;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`## ${fileName} FAILED\n${message}\n`);
      results.push({ name: fileName, ok: false, durationMs, rows: [], error: message });
    }
  }

  const report = { startedAt: startedAt.toISOString(), filter: wanted, system, sections: results };
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  await writeFile(join(RESULTS_DIR, "latest.json"), json);
  await writeFile(join(RESULTS_DIR, `${stamp}.json`), json);
  console.log(`results: bench/results/latest.json, bench/results/${stamp}.json`);
  return results.every((r) => r.ok) ? 0 : 1;
}

// Ctrl-C or a kill: exit through process.exit, whose "exit" hook (bench/load/child.ts) SIGKILLs
// every child still running by its PID, instead of dying with them possibly still up.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
    process.exit(code);
  });
}

// Exit naturally rather than with process.exit: a section that leaves a handle open (an
// unclosed pool, a server) then shows up as a hang instead of going unnoticed.
process.exitCode = await main(process.argv.slice(2));
