/**
 * `wxqr serve` on SQLite (the built binary) killed with SIGKILL in the middle of a push load
 * (issue #11): its commits run `synchronous=NORMAL` and wait for an fdatasync of the WAL off the
 * event loop before the push is answered. After the kill the file is opened again: every push
 * answered 200 is in `push_log` exactly once, and nothing is there that was not sent. (A killed
 * process never loses what it wrote: this proves "answered only after commit"; the fdatasync is
 * there for power loss, which no test on one machine can cut — see sqlite-database.ts.)
 * The process uses the system clock, so the pushes carry the real time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createEmulator } from "../../src/emulator/index.ts";
import { openDatabase } from "../../src/store/index.ts";
import { startCli, type LongRunning } from "../helpers/cli.ts";
import { forEachLimited, safePush, type SafePush } from "../helpers/serve-instances.ts";
import { ADMIN_TOKEN, AES_KEY, PUSH_TOKEN, SERVICE_APP_ID, SERVICE_APP_SECRET, SERVICE_START } from "../helpers/service.ts";

/** Pushes prepared; the kill comes after `KILL_AFTER_ACKS` of them are answered, long before the last is sent. */
const PUSHES = 3_000;
const KILL_AFTER_ACKS = 600;
const CONNECTIONS = 25;
/** Each push gives up after WeChat's own deadline. */
const PUSH_TIMEOUT_MS = 5_000;

describe("wxqr serve on SQLite, SIGKILLed under push load", () => {
  let dir: string;
  let emulator: ReturnType<typeof createEmulator>;
  let wechatBase: string;
  let running: LongRunning | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wxqr-crash-"));
    emulator = createEmulator(
      { appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET },
      { clock: createManualClock(SERVICE_START), random: createSeededRandom(91), logger: silentLogger },
    );
    wechatBase = await emulator.listen({ port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await running?.stop("SIGKILL");
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens its file with synchronous=NORMAL (the WAL synced by the service itself) and checkpoints every 10,000 WAL pages", async () => {
    const db = openDatabase(`sqlite:${join(dir, "probe.db")}`);
    try {
      const sync = await db.transaction((sql) => sql.get<{ synchronous: number }>("PRAGMA synchronous"));
      expect(sync?.synchronous).toBe(1);
      const checkpoint = await db.transaction((sql) => sql.get<{ wal_autocheckpoint: number }>("PRAGMA wal_autocheckpoint"));
      expect(checkpoint?.wal_autocheckpoint).toBe(10_000);
    } finally {
      await db.close();
    }
  });

  it("keeps every push it answered 200, once, and nothing it was not sent", async () => {
    const file = join(dir, "wxqr.db");
    const started = await startCli(["serve"], /wxqr serving on (http:\/\/\S+) /, {
      WECHAT_APP_ID: SERVICE_APP_ID,
      WECHAT_APP_SECRET: SERVICE_APP_SECRET,
      WECHAT_TOKEN: PUSH_TOKEN,
      WECHAT_ENCODING_AES_KEY: AES_KEY,
      WECHAT_API_BASE: wechatBase,
      WECHAT_MP_BASE: wechatBase,
      WXQR_DATABASE: `sqlite:${file}`,
      WXQR_ADMIN_TOKEN: ADMIN_TOKEN,
      WXQR_HOST: "127.0.0.1",
      WXQR_PORT: "0",
    });
    running = started;
    const url = started.match[1]!;

    const random = createSeededRandom(92);
    const base = Math.floor(Date.now() / 1000);
    // Distinct pushes: new followers subscribing, each its own dedupe key.
    const pushes: SafePush[] = Array.from({ length: PUSHES }, (_, i) =>
      safePush({ openId: `oCrash${String(i).padStart(5, "0")}`, createTimeSec: base, event: "subscribe", eventKey: "" }, random),
    );
    const acked: string[] = [];
    let killed: Promise<number | null> | undefined;
    await forEachLimited(pushes, CONNECTIONS, async (push) => {
      if (killed) return;
      try {
        const res = await fetch(`${url}/wechat?${push.query}`, {
          method: "POST",
          headers: { "content-type": "text/xml" },
          body: push.body,
          signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
        });
        const text = await res.text();
        if (res.status === 200) {
          expect(text).toBe("success");
          acked.push(push.dedupeKey);
        }
      } catch {
        // No answer: in flight when the process died.
      }
      if (acked.length >= KILL_AFTER_ACKS) killed ??= started.stop("SIGKILL");
    });
    await killed;
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    // Killed mid-load: pushes were in flight (unanswered) and most were never sent.
    expect(acked.length).toBeLessThan(PUSHES);

    const db = new BetterSqlite3(file, { readonly: true });
    try {
      const rows = db.prepare("SELECT dedupe_key AS key, COUNT(*) AS n FROM push_log GROUP BY dedupe_key").all() as Array<{ key: string; n: number }>;
      const stored = new Map(rows.map((r) => [r.key, r.n]));
      const lost = acked.filter((key) => stored.get(key) !== 1);
      expect(lost).toEqual([]);
      const sent = new Set(pushes.map((p) => p.dedupeKey));
      expect(rows.filter((r) => !sent.has(r.key))).toEqual([]);
      // Stored but never answered: only pushes in flight at the kill.
      expect(rows.length - acked.length).toBeLessThanOrEqual(CONNECTIONS);
    } finally {
      db.close();
    }
  }, 120_000);
});
