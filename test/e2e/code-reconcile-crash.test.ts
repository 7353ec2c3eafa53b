/**
 * Issue 8 item 4, as it happens in production: `wxqr serve` is killed (SIGKILL) while 200
 * permanent codes are being created — 100 of its calls to WeChat answered, 100 still in flight,
 * half of those having reached the platform — and then started again. After the restart the
 * quota it counts equals the codes that have tickets, and the platform made each code once.
 * The built binary, a real emulator over HTTP, SQLite and PostgreSQL; system clocks on both sides.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator/index.ts";
import type { Database } from "../../src/store/database.ts";
import { startApiGate, type ApiGate } from "../helpers/api-gate.ts";
import { startCli, type LongRunning } from "../helpers/cli.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";

const APP_ID = "wxe2e0000000000008";
const APP_SECRET = "crashsecret0123456789abcdef01234";
const ADMIN = "admin-token-for-crash-test-0123456789";
const CREATIONS = 200;
const ANSWERED = 100;
const CRASH_TEST_TIMEOUT_MS = 120_000;

interface Counts {
  used: number;
  ticketed: number;
  unticketed: number;
  distinctTickets: number;
}

async function counts(db: Database): Promise<Counts> {
  return db.read(async (sql) => {
    const account = await sql.get<{ n: number }>("SELECT permanent_used AS n FROM accounts WHERE id = ?", [APP_ID]);
    const codes = await sql.get<{ ticketed: number; unticketed: number; distinct_tickets: number }>(
      `SELECT COUNT(ticket) AS ticketed, COUNT(*) - COUNT(ticket) AS unticketed, COUNT(DISTINCT ticket) AS distinct_tickets
       FROM qrcodes WHERE account_id = ? AND type = 'permanent'`,
      [APP_ID],
    );
    return {
      used: Number(account?.n ?? 0),
      ticketed: Number(codes?.ticketed ?? 0),
      unticketed: Number(codes?.unticketed ?? 0),
      distinctTickets: Number(codes?.distinct_tickets ?? 0),
    };
  });
}

/** Polls `probe` until it holds (a process we do not control is settling), at most `timeoutMs`. */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function describeCrash(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  let emulator: Emulator;
  let emulatorUrl: string;
  let gate: ApiGate;
  const running: LongRunning[] = [];

  beforeAll(async () => {
    factory = makeFactory();
    emulator = createEmulator({ appId: APP_ID, appSecret: APP_SECRET });
    emulatorUrl = await emulator.listen({ port: 0, host: "127.0.0.1" });
    gate = await startApiGate(emulatorUrl, "/cgi-bin/qrcode/create");
  });
  afterEach(async () => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) await r.stop("SIGKILL");
  });
  afterAll(async () => {
    await gate.close();
    await emulator.close();
    await factory.cleanup();
  });

  async function serve(databaseUrl: string, apiBase: string): Promise<{ url: string }> {
    const started = await startCli(["serve", "--port", "0"], /wxqr serving on (http:\/\/\S+?) /, {
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_TOKEN: "crashToken2026",
      WECHAT_API_BASE: apiBase,
      WECHAT_MP_BASE: emulatorUrl,
      WXQR_DATABASE: databaseUrl,
      WXQR_ADMIN_TOKEN: ADMIN,
    });
    running.push(started);
    return { url: started.match[1]! };
  }

  it(
    `a SIGKILL during ${CREATIONS} concurrent permanent code creations leaks no quota once the service is back`,
    async () => {
      const { db, url: databaseUrl } = await factory.create();
      const first = await serve(databaseUrl, gate.url);
      gate.holding = CREATIONS - ANSWERED;
      let answered = 0;
      const creations = Array.from({ length: CREATIONS }, () =>
        fetch(`${first.url}/api/qrcodes`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: JSON.stringify({ type: "permanent" }),
        }).then(
          (res) => {
            if (res.status === 201) answered++;
            return res.status;
          },
          () => "cut off",
        ),
      );
      await gate.waitForHeld(CREATIONS - ANSWERED, 30_000);
      await eventually(async () => answered === ANSWERED, 30_000);

      running[0]!.child.kill("SIGKILL");
      const outcomes = await Promise.all(creations);
      expect(outcomes.filter((o) => o === 201)).toHaveLength(ANSWERED);
      expect(outcomes.filter((o) => o === "cut off")).toHaveLength(CREATIONS - ANSWERED);
      // Half the calls in flight reach the platform after all (their answers find nobody); half never do.
      const inFlight = gate.held;
      gate.holding = 0;
      const { released, dropped } = await settleHalf(gate, inFlight);
      expect(released + dropped).toBe(CREATIONS - ANSWERED);

      // The leak the crash left: quota counted for codes without a ticket.
      expect(await counts(db)).toEqual({ used: CREATIONS, ticketed: ANSWERED, unticketed: CREATIONS - ANSWERED, distinctTickets: ANSWERED });
      expect(emulator.state.qrcodes.permanentByScene.size).toBe(ANSWERED + released);

      await serve(databaseUrl, emulatorUrl);
      await eventually(async () => (await counts(db)).unticketed === 0, 30_000);
      const after = await counts(db);
      expect(after.used).toBe(after.ticketed);
      expect(after).toEqual({ used: CREATIONS, ticketed: CREATIONS, unticketed: 0, distinctTickets: CREATIONS });
      // Completing a code the platform had already made cost it no second one.
      expect(emulator.state.qrcodes.permanentByScene.size).toBe(CREATIONS);
      expect(await running[1]!.stop("SIGINT")).toBe(0);
    },
    CRASH_TEST_TIMEOUT_MS,
  );
}

/** Lets the first half of the held calls reach the emulator and drops the rest. */
async function settleHalf(gate: ApiGate, held: number): Promise<{ released: number; dropped: number }> {
  const released = Math.floor(held / 2);
  await gate.releaseSome(released);
  const dropped = gate.held;
  gate.dropAll();
  return { released, dropped };
}

describeOnBothEngines("code reconciliation after a crash", describeCrash);
