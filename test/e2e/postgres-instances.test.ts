/**
 * Two `wxqr serve` processes (the built binary) on one PostgreSQL cluster of this file's own,
 * as a deployment behind a load balancer runs them (issue #8, items 2 and 6):
 * - the same pushes reaching both at once never deadlock, and leave the state one instance would;
 * - terminating their backends under load, or stopping the database, costs 503s, never a
 *   process (design invariant 9), and they recover by themselves.
 * The processes use the system clock, so the pushes carry the real time; real time is waited on
 * only where it is the thing under test (process start, PostgreSQL stop and start).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, createSeededRandom, silentLogger, type Random } from "../../src/deps.ts";
import { dayInZone } from "../../src/domain/days.ts";
import { DEFAULT_TIME_ZONE } from "../../src/domain/service.ts";
import { createEmulator } from "../../src/emulator/index.ts";
import type { PushEventName } from "../../src/emulator/push-message.ts";
import { markPostgresRan } from "../helpers/databases.ts";
import { announcePrivatePostgres, startPrivatePostgres, type PrivatePostgres } from "../helpers/private-postgres.ts";
import { forEachLimited, safePush, sendPush, startServeInstance, terminateBackends, type SafePush, type ServeInstance } from "../helpers/serve-instances.ts";
import { SERVICE_APP_ID, SERVICE_APP_SECRET, SERVICE_START } from "../helpers/service.ts";

const runs = announcePrivatePostgres("two wxqr serve instances on PostgreSQL");

interface Channel {
  id: string;
  sceneId: number;
  ticket: string;
}

/** What a test sends: one event of one follower, at CreateTime `createTimeSec`. */
interface Event {
  openId: string;
  createTimeSec: number;
  event: PushEventName;
  /** The channel scanned (subscribe through its code, or SCAN); undefined for a plain follow or an unfollow. */
  channel?: Channel;
}

function toPush(e: Event, random: Random): SafePush {
  const eventKey = e.channel === undefined ? "" : e.event === "subscribe" ? `qrscene_${e.channel.sceneId}` : String(e.channel.sceneId);
  return safePush({ openId: e.openId, createTimeSec: e.createTimeSec, event: e.event, eventKey, ticket: e.channel?.ticket }, random);
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

describe.runIf(runs)("two wxqr serve instances on one PostgreSQL", () => {
  let cluster: PrivatePostgres;
  let emulator: ReturnType<typeof createEmulator>;
  let wechatBase: string;
  let instances: ServeInstance[] = [];
  let schemas = 0;
  let finished = 0;

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    emulator = createEmulator(
      { appId: SERVICE_APP_ID, appSecret: SERVICE_APP_SECRET },
      { clock: createManualClock(SERVICE_START), random: createSeededRandom(81), logger: silentLogger },
    );
    wechatBase = await emulator.listen({ port: 0, host: "127.0.0.1" });
  }, 60_000);

  afterEach(async () => {
    await Promise.all(instances.map((i) => i.process.stop("SIGKILL")));
    instances = [];
    finished++;
  });

  afterAll(async () => {
    await emulator?.close();
    await cluster?.destroy();
    markPostgresRan("postgres-instances", finished);
  });

  async function query<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Two instances on a fresh schema, each under its own application_name. */
  async function startPair(tag: string): Promise<{ a: ServeInstance; b: ServeInstance; schema: string }> {
    const schema = `wxqr_${tag}_${++schemas}`;
    await query(`CREATE SCHEMA ${schema}`);
    // One after the other: each migrates at start (serialised anyway by the migration lock).
    const a = await startServeInstance({ name: `wxqr-${tag}-a`, databaseUrl: cluster.url, schema, wechatBase });
    instances.push(a);
    const b = await startServeInstance({ name: `wxqr-${tag}-b`, databaseUrl: cluster.url, schema, wechatBase });
    instances.push(b);
    return { a, b, schema };
  }

  async function createChannels(instance: ServeInstance, n: number): Promise<Channel[]> {
    const channels: Channel[] = [];
    for (let i = 0; i < n; i++) {
      const res = await instance.api("POST", "/api/channels", { name: `poster ${i}` });
      expect(res.status).toBe(201);
      const body = res.body as { id: string; qrcode: { sceneId: number; ticket: string } };
      channels.push({ id: body.id, sceneId: body.qrcode.sceneId, ticket: body.qrcode.ticket });
    }
    return channels;
  }

  const serverLog = (): string => readFileSync(join(cluster.dir, "server.log"), "utf8");

  it("every backend of both terminated three times under load: both processes live on, each push answered 200 is stored once, and pushes are answered 200 again without a restart", async () => {
    const { a, b, schema } = await startPair("kill");
    const [channel] = await createChannels(a, 1);
    const random = createSeededRandom(83);
    // 300 distinct pushes: 150 followers subscribe through the channel's code, then scan it again.
    const base = nowSec();
    const events = (tag: string, n: number): Event[] =>
      Array.from({ length: n }, (_, i) => ({
        openId: `o${tag}${String(i >> 1).padStart(4, "0")}`,
        createTimeSec: base + (i & 1),
        event: i & 1 ? "SCAN" : "subscribe",
        channel,
      }));
    const pushes = events("Load", 300).map((e) => toPush(e, random));
    const answers = new Map<SafePush, number>();
    const terminations: Array<Promise<number>> = [];
    const instanceFor = (i: number): ServeInstance => (i % 2 === 0 ? a : b);

    await forEachLimited(pushes, 16, async (push, i) => {
      answers.set(push, await sendPush(instanceFor(i), push));
      // A quarter, half and three quarters through, with pushes in flight on both.
      if ([75, 150, 225].includes(answers.size)) terminations.push(terminateBackends(cluster.url, [a.name, b.name]));
    });
    const terminated = await Promise.all(terminations);

    expect(terminated).toHaveLength(3);
    for (const n of terminated) expect(n).toBeGreaterThan(0);
    expect([a.process.child.exitCode, b.process.child.exitCode]).toEqual([null, null]);
    const statuses = [...answers.values()];
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);

    const count = async (keys: string[]): Promise<Map<string, number>> => {
      const rows = await query<{ dedupe_key: string; n: number }>(
        `SELECT dedupe_key, COUNT(*)::int AS n FROM ${schema}.push_log WHERE dedupe_key = ANY($1::text[]) GROUP BY dedupe_key`,
        [keys],
      );
      return new Map(rows.map((r) => [r.dedupe_key, r.n]));
    };
    const acknowledged = pushes.filter((p) => answers.get(p) === 200).map((p) => p.dedupeKey);
    const stored = await count(acknowledged);
    expect(acknowledged.filter((k) => stored.get(k) !== 1)).toEqual([]);

    // After the outage, without a restart: fresh pushes and WeChat's redeliveries of the refused ones all get 200.
    const refused = pushes.filter((p) => answers.get(p) !== 200);
    const fresh = events("After", 40).map((e) => toPush(e, random));
    const later: number[] = [];
    await forEachLimited([...refused, ...fresh], 8, async (push, i) => void later.push(await sendPush(instanceFor(i), push)));
    expect(later.filter((s) => s !== 200)).toEqual([]);
    const all = [...pushes, ...fresh].map((p) => p.dedupeKey);
    const storedAll = await count(all);
    expect(all.filter((k) => storedAll.get(k) !== 1)).toEqual([]);
    expect([a.process.child.exitCode, b.process.child.exitCode]).toEqual([null, null]);
  });

  it("the database stopped with pushes in flight: pushes get 503 and /healthz reports it down, promptly; started again: 200 from the same processes", async () => {
    const { a, b } = await startPair("stop");
    const random = createSeededRandom(84);
    const push = (openId: string): SafePush => toPush({ openId, createTimeSec: nowSec(), event: "subscribe" }, random);
    const load = Array.from({ length: 60 }, (_, i) => push(`oStop${String(i).padStart(3, "0")}`));
    const answers = new Map<SafePush, number>();
    let stopping: Promise<void> | undefined;
    await forEachLimited(load, 8, async (p, i) => {
      answers.set(p, await sendPush(i % 2 === 0 ? a : b, p));
      if (answers.size === 20) stopping = cluster.stop();
    });
    try {
      await stopping;
      expect([...answers.values()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect([await sendPush(a, push("oDuring1")), await sendPush(b, push("oDuring2"))]).toEqual([503, 503]);
      const started = performance.now();
      const health = await Promise.all([a.health(), b.health()]);
      expect(performance.now() - started).toBeLessThan(2_000);
      for (const h of health) expect(h).toEqual({ status: 503, body: { status: "unavailable", database: "unreachable" } });
    } finally {
      await cluster.start();
    }

    expect((await Promise.all([a.health(), b.health()])).map((h) => h.status)).toEqual([200, 200]);
    const refused = load.filter((p) => answers.get(p) !== 200);
    const later = await Promise.all([push("oAfter1"), push("oAfter2"), ...refused].map((p, i) => sendPush(i % 2 === 0 ? a : b, p)));
    expect(later.filter((s) => s !== 200)).toEqual([]);
    expect([a.process.child.exitCode, b.process.child.exitCode]).toEqual([null, null]);
  });

  it("the same 200 pushes sent to both at once: every answer 200, no deadlock in PostgreSQL's log, the counters one instance would leave", async () => {
    const { a, b, schema } = await startPair("same");
    const channels = await createChannels(a, 4);
    // 40 followers × 5 events, each follower's in order one second apart: a subscribe through
    // a code (new), three SCANs of other channels, then an unfollow or one more SCAN. Every
    // channel's day row is shared by many followers' pushes.
    const base = nowSec();
    const followers = Array.from({ length: 40 }, (_, f) => {
      const events: Event[] = [];
      const openId = `oSame${String(f).padStart(3, "0")}`;
      events.push({ openId, createTimeSec: base, event: "subscribe", channel: channels[f % 4] });
      for (let k = 1; k <= 3; k++) events.push({ openId, createTimeSec: base + k, event: "SCAN", channel: channels[(f + k) % 4] });
      events.push(
        f % 4 === 0 ? { openId, createTimeSec: base + 4, event: "unsubscribe" } : { openId, createTimeSec: base + 4, event: "SCAN", channel: channels[f % 4] },
      );
      return events;
    });
    const random = createSeededRandom(82);
    const pushes = followers.map((events) => events.map((e) => toPush(e, random)));
    const logBefore = serverLog().length;

    const statuses: number[] = [];
    await forEachLimited(pushes, pushes.length, async (ofFollower) => {
      for (const push of ofFollower) statuses.push(...(await Promise.all([sendPush(a, push), sendPush(b, push)])));
    });

    const deadlocks =
      serverLog()
        .slice(logBefore)
        .match(/deadlock detected/g)?.length ?? 0;
    expect({ deadlocks, non200: statuses.filter((s) => s !== 200).length, answers: statuses.length }).toEqual({ deadlocks: 0, non200: 0, answers: 400 });

    const logged = await query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${schema}.push_log`);
    expect(logged[0]!.n).toBe(200);
    // One instance, each push once: every follower new through their first code, every later scan returning.
    const expected = new Map<string, { scans: number; unique_scanners: number; new_followers: number; returning_followers: number; unfollows: number }>();
    const scanners = new Set<string>();
    const row = (channel: Channel, at: number) => {
      const key = `${channel.id}|${dayInZone(at * 1000, DEFAULT_TIME_ZONE)}`;
      let r = expected.get(key);
      if (!r) expected.set(key, (r = { scans: 0, unique_scanners: 0, new_followers: 0, returning_followers: 0, unfollows: 0 }));
      return { key, r };
    };
    followers.forEach((events, f) => {
      for (const e of events) {
        if (e.event === "unsubscribe") {
          row(channels[f % 4]!, e.createTimeSec).r.unfollows++;
          continue;
        }
        const { key, r } = row(e.channel!, e.createTimeSec);
        r.scans++;
        if (e.event === "subscribe") r.new_followers++;
        else r.returning_followers++;
        if (!scanners.has(`${key}|${e.openId}`)) r.unique_scanners++;
        scanners.add(`${key}|${e.openId}`);
      }
    });
    const stored = await query<{
      channel_id: string;
      day: string;
      scans: number;
      unique_scanners: number;
      new_followers: number;
      returning_followers: number;
      unfollows: number;
    }>(`SELECT channel_id, day, scans::int, unique_scanners::int, new_followers::int, returning_followers::int, unfollows::int FROM ${schema}.channel_days`);
    expect(new Map(stored.map(({ channel_id, day, ...counts }) => [`${channel_id}|${day}`, counts]))).toEqual(expected);
  });
});
