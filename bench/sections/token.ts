/**
 * Token single-flight (issue #11): 500 API calls sent at once just as the access token expires,
 * from one process and from two processes sharing a token store, against the project's emulator
 * over HTTP; the emulator counts the token requests it receives. The goal is exactly one per
 * expiry, whatever the number of processes.
 *
 * - wxqr: `createWeChatClient` with the database token store on one SQLite file, and on
 *   PostgreSQL when WXQR_BENCH_POSTGRES_URL (or WXQR_TEST_POSTGRES_URL) is set; each process is a
 *   child with a client of its own on the same database (bench/load/token-client.ts).
 * - co-wechat-api (the Node peer, installed into bench/.peers/ with the others): its in-memory
 *   token in one process; in two, the getToken/saveToken hooks its README recommends, on one
 *   JSON file. Pointed at the emulator by setting its `prefix` (it hard-codes api.weixin.qq.com).
 *
 * The calls are `qrcode/create` (a temporary code each). An expiry is made as it happens in
 * production: the emulator's clock moves past the token's lifetime (so the platform answers
 * 42001 to it too), and the stored token is rewritten with an expiry a millisecond ago, as the
 * client's own clock would see it at that moment. 3 expiries per row, each after a warm-up call
 * that stored a token. The emulator runs in this process, the clients in children.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as EmulatorModule from "../../src/emulator/index.ts";
import type * as StoreModule from "../../src/store/index.ts";
import { startChild, stopAll, type Child } from "../load/child.ts";
import type { TokenClientConfig, TokenClientDone } from "../load/token-client.ts";
import type { BenchContext, BenchRow } from "../lib.ts";
import { chooseImpl, postgresEngine, sqliteEngine, type Engine } from "./ingest.ts";
import { ensurePeers, PEER_PACKAGES } from "./peers.ts";

export const name = "token";
export const description =
  "token single-flight: 500 concurrent API calls at token expiry, 1 and 2 processes sharing a store (token requests the emulator received)";

const CALLS = 500;
const EXPIRIES = 3;
const TTL_SECONDS = 7_200;
const APP_ID = "wx5e7c1ce0000000c5";
const APP_SECRET = "benchtokensecret0123456789abcdef";
/** Far above what any row sends, so the count is of requests, never cut short by 45009 (the platform allows 2,000 classic tokens a day). */
const TOKEN_QUOTA = 1_000_000;

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`token bench: ${what}`);
}

interface Counts {
  token: number;
  stable_token: number;
  "qrcode/create": number;
}

async function control<T>(base: string, path: string, method: "GET" | "POST", body?: unknown): Promise<T> {
  const init: RequestInit = body === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(`${base}${path}`, init);
  expect(res.ok, `${method} ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

interface Expiry {
  tokenRequests: number;
  wallMs: number;
  ok: number;
  failed: number;
  firstError?: string;
}

type Client = { kind: "wxqr"; engine: Engine } | { kind: "co-wechat-api"; shared: "memory" | "file" };

/** One row: a fresh emulator and fresh clients, a warm-up call per process, then EXPIRIES expiries. */
async function measureRow(ctx: BenchContext, emulatorApi: typeof EmulatorModule, client: Client, processes: number, label: string): Promise<Expiry[]> {
  const impl = chooseImpl(ctx.root);
  const emulator = emulatorApi.createEmulator({
    appId: APP_ID,
    appSecret: APP_SECRET,
    tokenTtlSeconds: TTL_SECONDS,
    dailyQuota: { token: TOKEN_QUOTA, stable_token: TOKEN_QUOTA },
  });
  const scratch = mkdtempSync(join(tmpdir(), "wxqr-bench-token-"));
  const children: Child[] = [];
  try {
    const apiBase = await emulator.listen({ port: 0 });
    const common = { apiBase, appId: APP_ID, appSecret: APP_SECRET };
    const config: TokenClientConfig =
      client.kind === "wxqr"
        ? { ...common, kind: "wxqr", impl, root: ctx.root, database: client.engine.url }
        : {
            ...common,
            kind: "co-wechat-api",
            peersDir: join(ctx.root, "bench", ".peers"),
            ...(client.shared === "file" ? { tokenFile: join(scratch, "access_token.json") } : {}),
          };
    for (let p = 0; p < processes; p++) children.push(startChild("token-client.ts", config, `${label} #${p + 1}`, ctx.root));
    for (const c of children) await c.waitFor("ready", 30_000);
    for (const c of children) {
      const warm = await c.ask<TokenClientDone>({ type: "go", calls: 1, tag: "warm" }, "done", 30_000);
      expect(warm.ok === 1, `${label}: the warm-up call failed: ${warm.firstError ?? "?"}`);
    }
    const expiries: Expiry[] = [];
    for (let e = 0; e < EXPIRIES; e++) {
      await control(apiBase, "/emulator/clock", "POST", { advanceSeconds: TTL_SECONDS });
      const { had } = await children[0]!.ask<{ type: "expired"; had: boolean }>({ type: "expire" }, "expired", 10_000);
      expect(had, `${label}: no token was stored after the warm-up`);
      await control(apiBase, "/emulator/reset-counters", "POST");
      const share = CALLS / processes;
      const t0 = performance.now();
      const done = await Promise.all(children.map((c, p) => c.ask<TokenClientDone>({ type: "go", calls: share, tag: `e${e}p${p}` }, "done", 120_000)));
      const wallMs = performance.now() - t0;
      const counts = (await control<{ totals: Counts }>(apiBase, "/emulator/counters", "GET")).totals;
      const ok = done.reduce((n, d) => n + d.ok, 0);
      expect(counts["qrcode/create"] >= ok, `${label}: ${ok} calls succeeded but the emulator saw ${counts["qrcode/create"]} qrcode/create`);
      const firstError = done.find((d) => d.firstError !== undefined)?.firstError;
      expiries.push({
        tokenRequests: counts.token + counts.stable_token,
        wallMs,
        ok,
        failed: done.reduce((n, d) => n + d.failed, 0),
        ...(firstError === undefined ? {} : { firstError }),
      });
      ctx.log(`token: ${label}, expiry ${e + 1}: ${counts.token + counts.stable_token} token requests, ${Math.round(wallMs)} ms`);
    }
    return expiries;
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
    await emulator.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function row(client: string, processes: number, store: string, expiries: readonly Expiry[]): BenchRow {
  const firstError = expiries.find((x) => x.firstError !== undefined)?.firstError;
  return {
    client,
    processes,
    "token store": store,
    "token requests / expiry": expiries.map((x) => x.tokenRequests).join(" / "),
    "max / expiry": Math.max(...expiries.map((x) => x.tokenRequests)),
    "calls ok": expiries.reduce((n, x) => n + x.ok, 0),
    failed: expiries.reduce((n, x) => n + x.failed, 0),
    "wall ms (median)": Math.round(median(expiries.map((x) => x.wallMs))),
    note: firstError === undefined ? "" : `first failure: ${firstError.slice(0, 120)}`,
  };
}

async function migrated(store: typeof StoreModule, engine: Engine): Promise<Engine> {
  const db = store.openDatabase(engine.url);
  try {
    await store.migrate(db);
  } finally {
    await db.close();
  }
  return engine;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const peersDir = join(ctx.root, "bench", ".peers");
  ensurePeers(ctx, peersDir);
  const impl = chooseImpl(ctx.root);
  const load = async <T>(dist: string, src: string): Promise<T> => (await import(pathToFileURL(join(ctx.root, impl === "dist" ? dist : src)).href)) as T;
  const emulatorApi = await load<typeof EmulatorModule>("dist/emulator/index.js", "src/emulator/index.ts");
  const store = await load<typeof StoreModule>("dist/store/index.js", "src/store/index.ts");
  const postgresUrl = process.env.WXQR_BENCH_POSTGRES_URL ?? process.env.WXQR_TEST_POSTGRES_URL;
  ctx.log(`token: measuring wxqr's ${impl}; ${CALLS} calls per expiry, ${EXPIRIES} expiries per row`);

  const rows: BenchRow[] = [];
  try {
    const wxqrRows = async (kind: "SQLite" | "PostgreSQL", makeEngine: () => Promise<Engine>): Promise<void> => {
      for (const processes of [1, 2]) {
        const engine = await migrated(store, await makeEngine());
        try {
          const label = `wxqr ${kind} ${processes}-proc`;
          rows.push(
            row(
              "wxqr",
              processes,
              `database (${kind}${processes === 2 ? ", shared" : ""})`,
              await measureRow(ctx, emulatorApi, { kind: "wxqr", engine }, processes, label),
            ),
          );
        } finally {
          await engine.cleanup().catch((error: unknown) => ctx.log(`token: cleanup of the ${engine.kind} database failed: ${String(error)}`));
        }
      }
    };
    await wxqrRows("SQLite", async () => sqliteEngine());
    if (postgresUrl) await wxqrRows("PostgreSQL", () => postgresEngine(postgresUrl));
    else {
      ctx.log("token: wxqr on PostgreSQL skipped: set WXQR_BENCH_POSTGRES_URL or WXQR_TEST_POSTGRES_URL");
      rows.push({
        client: "wxqr",
        processes: null,
        "token store": "database (PostgreSQL)",
        note: "skipped: set WXQR_BENCH_POSTGRES_URL (or WXQR_TEST_POSTGRES_URL)",
      });
    }
    const co = `co-wechat-api ${PEER_PACKAGES["co-wechat-api"]}`;
    rows.push(row(co, 1, "memory (its default)", await measureRow(ctx, emulatorApi, { kind: "co-wechat-api", shared: "memory" }, 1, `${co} 1-proc`)));
    rows.push(
      row(co, 2, "JSON file (README's getToken/saveToken)", await measureRow(ctx, emulatorApi, { kind: "co-wechat-api", shared: "file" }, 2, `${co} 2-proc`)),
    );
  } finally {
    await stopAll();
  }
  return rows;
}
