/**
 * `wxqr qr batch --out-dir` as a journal (issue #12): a batch cut short (the emulator's quota
 * running out after 200 codes, a torn manifest line, a `kill -9`) completes on a re-run that
 * creates only what is missing, and `--zip` packs the whole batch. The built binary runs against
 * `wxqr emulator` over HTTP; "creations" are the emulator's own counts.
 */
import { spawn } from "node:child_process";
import { appendFile, mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeQrImage } from "../../src/qr/decode.ts";
import { BIN, cleanEnv, ROOT, runCli, startCli, type LongRunning } from "../helpers/cli.ts";
import type { Json } from "../helpers/service.ts";
import { readZip } from "../helpers/zip.ts";

const APP_ID = "wxe2e000000000000b";
const APP_SECRET = "e2e-secret-resume-0123456789";
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

let emulator: LongRunning & { match: RegExpMatchArray };
let url: string;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wxqr-batch-resume-"));
  emulator = await startCli(["emulator", "--port", "0", "--app-id", APP_ID, "--app-secret", APP_SECRET], /listening on (http:\/\/\S+)/);
  url = emulator.match[1]!;
  env = { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: APP_SECRET, WECHAT_API_BASE: url, WECHAT_MP_BASE: url };
});

afterAll(async () => {
  expect(await emulator?.stop("SIGINT")).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

async function control(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

/** Successful and failed `qrcode/create` calls alike, since the emulator started. */
async function createCalls(): Promise<number> {
  return ((await control("GET", "/emulator/counters")) as { totals: Record<string, number> }).totals["qrcode/create"]!;
}

async function permanentCodes(): Promise<number> {
  return ((await control("GET", "/emulator/qrcodes")) as { permanentUsed: number }).permanentUsed;
}

interface Line {
  scene: number;
  ticket: string;
  url: string;
  file: string;
}

async function manifest(out: string): Promise<Line[]> {
  const text = await readFile(join(out, "codes.ndjson"), "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Line);
}

function batchArgs(out: string, count: number, ...more: string[]): string[] {
  return ["qr", "batch", "--permanent", "--count", String(count), "--scene-start", "1", "--out-dir", out, ...more];
}

/** Every scene 1..count exactly once, each with its own ticket. */
function expectEveryScene(lines: Line[], count: number): void {
  expect(lines.map((l) => l.scene).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  expect(new Set(lines.map((l) => l.ticket)).size).toBe(count);
}

describe("wxqr qr batch resumes from its manifest", () => {
  it("500 codes, the quota running out after 200: the re-run creates the other 300 and zips all 500 with codes.csv", { timeout: 120_000 }, async () => {
    const out = join(dir, "five-hundred");
    const zipPath = join(dir, "five-hundred.zip");
    // 150 px: jsQR reads every one of the 500 in seconds (a 430 px image takes it ~0.1 s).
    const callsBefore = await createCalls();
    // 45009 (today's quota used up) from the 201st call on: every later call would fail the same way, so the batch stops.
    const FAULTS = 10_000;
    await control("POST", "/emulator/faults", { path: "/cgi-bin/qrcode/create", errcode: 45009, count: FAULTS, after: 200 });

    const first = await runCli(batchArgs(out, 500, "--size", "150", "--zip", zipPath), env);
    expect(first.code).toBe(1);
    expect(first.stderr.trimEnd().split("\n").at(-1)).toMatch(/^wxqr: .*\[WECHAT_RATE_LIMITED\]$/);
    expect(await manifest(out)).toHaveLength(200);
    await expect(readFile(zipPath)).rejects.toThrow(/ENOENT/);

    const pending = (await control("GET", "/emulator/faults")) as { pending: { remaining: number }[] };
    const refused = FAULTS - pending.pending[0]!.remaining;
    expect(refused).toBeGreaterThanOrEqual(1);
    await control("DELETE", "/emulator/faults");

    const second = await runCli(batchArgs(out, 500, "--size", "150", "--zip", zipPath), env);
    expect(second.stderr.trimEnd().split("\n").at(-1)).toMatch(/^300\/300 \(100%\): 300 created, 0 failed/);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(
        `^300 created, 0 failed, in [\\d.]+ s \\([\\d.]+ codes/s\\); 200 already in codes.ndjson; ${zipPath} written \\(500 images and codes.csv\\)\\n$`,
      ),
    );

    // 500 codes created in all: the calls refused by the fault created nothing, and none was asked for twice.
    expect((await createCalls()) - callsBefore - refused).toBe(500);
    expect(await permanentCodes()).toBe(500);
    const lines = await manifest(out);
    expect(lines).toHaveLength(500);
    expectEveryScene(lines, 500);

    const entries = readZip(await readFile(zipPath));
    expect([...entries.keys()][0]).toBe("codes.csv");
    expect(entries.size).toBe(501);
    const csv = entries.get("codes.csv")!;
    expect(csv.subarray(0, 3)).toEqual(BOM);
    const rows = csv.subarray(3).toString("utf8").split("\r\n");
    expect(rows.pop()).toBe(""); // the last row ends in CRLF too
    expect(rows[0]).toBe("scene,type,ticket,url,expires_at,file");
    expect(rows).toHaveLength(501);
    const byScene = new Map(lines.map((l) => [l.scene, l]));
    for (const row of rows.slice(1)) {
      const [scene, type, ticket, codeUrl, expiresAt, file] = row.split(",");
      const line = byScene.get(Number(scene))!;
      expect({ type, ticket, url: codeUrl, expiresAt, file }).toEqual({
        type: "permanent",
        ticket: line.ticket,
        url: line.url,
        expiresAt: "",
        file: `${scene}.png`,
      });
    }
    for (const line of lines) {
      const png = entries.get(line.file);
      expect(png, line.file).toBeDefined();
      expect(decodeQrImage(png!)).toBe(line.url);
    }
  });

  it("cuts off a torn last line; codes created but not written down get the same tickets again, no new code", async () => {
    const out = join(dir, "torn");
    expect((await runCli(batchArgs(out, 10), env)).code).toBe(0);
    const complete = await manifest(out);
    const codesBefore = await permanentCodes();

    // As if killed twice: after creating three codes but before writing them down, then midway through an append.
    const kept = complete.slice(0, 7);
    const lost = complete.slice(7);
    await writeFile(join(out, "codes.ndjson"), kept.map((l) => `${JSON.stringify(l)}\n`).join(""));
    for (const line of lost) await unlink(join(out, line.file));
    await appendFile(join(out, "codes.ndjson"), JSON.stringify(lost[0]).slice(0, 25));

    const callsBefore = await createCalls();
    const rerun = await runCli(batchArgs(out, 10), env);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/^3 created, 0 failed, in [\d.]+ s \([\d.]+ codes\/s\); 7 already in codes.ndjson\n$/);
    expect((await createCalls()) - callsBefore).toBe(3);
    // Permanent codes are idempotent per scene on the platform: asking again returns the same code.
    expect(await permanentCodes()).toBe(codesBefore);
    const lines = await manifest(out);
    expectEveryScene(lines, 10);
    expect(lines.slice(0, 7)).toEqual(kept);
    expect(new Map(lines.slice(7).map((l) => [l.scene, l.ticket]))).toEqual(new Map(lost.map((l) => [l.scene, l.ticket])));
    for (const line of lost) expect(decodeQrImage(await readFile(join(out, line.file)))).toBe(line.url);
  });

  it("after kill -9 mid-batch, a re-run completes it with every scene once and every image whole", { timeout: 60_000 }, async () => {
    const out = join(dir, "killed");
    const count = 400;
    const child = spawn(process.execPath, [BIN, ...batchArgs(out, count)], { env: cleanEnv(env), cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => child.stderr.once("data", () => resolve())); // the first 10 % line
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const before = (await readFile(join(out, "codes.ndjson"), "utf8")).split("\n").length - 1;
    // The progress line comes after the 40th code's line reached the file.
    expect(before).toBeGreaterThanOrEqual(40);
    expect(before).toBeLessThan(count);

    const rerun = await runCli(batchArgs(out, count, "--json"), env);
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout) as { created: number; alreadyDone: number };
    expect(summary.alreadyDone).toBe(before);
    expect(summary.created).toBe(count - before);
    const lines = await manifest(out);
    expectEveryScene(lines, count);
    const images = (await readdir(out)).filter((f) => f.endsWith(".png"));
    expect(images).toHaveLength(count);
    for (const line of lines.filter((_, i) => i % 10 === 0)) expect(decodeQrImage(await readFile(join(out, line.file)))).toBe(line.url);
  });

  it("refuses other arguments, a manifest without batch.json and a damaged line, exit 2, calling nothing", async () => {
    const out = join(dir, "mismatch");
    expect((await runCli(batchArgs(out, 5), env)).code).toBe(0);
    const text = await readFile(join(out, "codes.ndjson"), "utf8");
    const callsBefore = await createCalls();

    const other = await runCli(["qr", "batch", "--permanent", "--count", "6", "--scene-start", "1", "--size", "300", "--out-dir", out], env);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^wxqr: [^\n]*--count 5 --size 430[^\n]*--count 6 --size 300[^\n]*\[BATCH_DIRECTORY_CONFLICT\]\n$/);

    const temporary = await runCli(["qr", "batch", "--temporary", "--count", "5", "--scene-start", "1", "--out-dir", out], env);
    expect(temporary.code).toBe(2);
    expect(temporary.stderr).toMatch(/\[BATCH_DIRECTORY_CONFLICT\]\n$/);

    const damaged = join(dir, "damaged");
    expect((await runCli(batchArgs(damaged, 2), env)).code).toBe(0);
    const callsAfterDamaged = await createCalls();
    await writeFile(join(damaged, "codes.ndjson"), `not json\n${await readFile(join(damaged, "codes.ndjson"), "utf8")}`);
    const refusedDamaged = await runCli(batchArgs(damaged, 2), env);
    expect(refusedDamaged.code).toBe(2);
    expect(refusedDamaged.stderr).toMatch(/codes\.ndjson:1 [^\n]*\[BATCH_DIRECTORY_CONFLICT\]\n$/);

    const legacy = join(dir, "legacy");
    await runCli(batchArgs(legacy, 1), env);
    await unlink(join(legacy, "batch.json"));
    const refusedLegacy = await runCli(batchArgs(legacy, 1), env);
    expect(refusedLegacy.code).toBe(2);
    expect(refusedLegacy.stderr).toMatch(/batch\.json[^\n]*\[BATCH_DIRECTORY_CONFLICT\]\n$/);

    expect(await createCalls()).toBe(callsAfterDamaged + 1); // only the legacy batch's one code
    expect(callsAfterDamaged - callsBefore).toBe(2);
    expect(await readFile(join(out, "codes.ndjson"), "utf8")).toBe(text);
  });

  it("--zip on a complete out-dir writes the ZIP without credentials or any API call", async () => {
    const out = join(dir, "complete");
    expect((await runCli(batchArgs(out, 4, "--format", "svg"), env)).code).toBe(0);
    const callsBefore = await createCalls();
    const zipPath = join(dir, "complete.zip");
    const result = await runCli(batchArgs(out, 4, "--format", "svg", "--zip", zipPath, "--json"), {});
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ created: 0, failed: 0, alreadyDone: 4, notStarted: 0, zipFile: zipPath });
    expect(await createCalls()).toBe(callsBefore);

    const entries = readZip(await readFile(zipPath));
    expect([...entries.keys()].sort()).toEqual(["1.svg", "2.svg", "3.svg", "4.svg", "codes.csv"]);
    for (const line of await manifest(out)) expect(entries.get(line.file)).toEqual(await readFile(join(out, line.file)));
    expect(entries.get("codes.csv")!.toString("utf8").split("\r\n")).toHaveLength(6);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
