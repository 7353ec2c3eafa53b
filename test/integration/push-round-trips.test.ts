/**
 * A batch of pushes costs a fixed number of statements, whatever its size (issue #11): on
 * PostgreSQL each statement is a round trip (node-postgres does not pipeline), and ~9 of them per
 * push held `wxqr serve` to a few hundred pushes a second. The statements of the batch's work are
 * counted on the real engines, for batches of every kind of push (new followers through a
 * channel's and a follower's code, returning scanners, unfollows, redeliveries and duplicates
 * inside the batch, events to forward), of 50 and of 200 pushes.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createManualTimer, createSeededRandom, silentLogger } from "../../src/deps.ts";
import { createWxqrService, type WxqrService } from "../../src/domain/service.ts";
import type { PushMessage } from "../../src/push/events.ts";
import type { BatchWork, Database, Dialect, Sql } from "../../src/store/database.ts";
import { migrate } from "../../src/store/migrations.ts";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { APP_ID, startPlatform, type Platform } from "../helpers/platform.ts";
import { followPush, scanPush } from "../helpers/pushes.ts";

// SQLite, where a statement is no round trip: followers, dedupe keys, codes, channels, scanners,
// referrals, latest scans per channel and per account; log, followers, scanners, latest scans per
// channel and per account, referrals, outbox, channel day counters, account day counters.
// PostgreSQL: the lock, two reads (readTogether), one write (runTogether).
const MAX_STATEMENTS_PER_BATCH = { sqlite: 17, postgres: 4 } as const;

interface BatchCount {
  pushes: number;
  statements: number;
}

/** The database, counting the statements each batch's work issues (BEGIN and COMMIT aside). */
function counting(db: Database, batches: BatchCount[]): Database {
  return {
    dialect: db.dialect,
    transaction: (fn) => db.transaction(fn),
    read: (fn) => db.read(fn),
    close: () => db.close(),
    batch<I, R>(items: readonly I[], work: BatchWork<I, R>) {
      const count: BatchCount = { pushes: items.length, statements: 0 };
      batches.push(count);
      const counted = (sql: Sql): Sql => ({
        dialect: sql.dialect,
        run: (t, p) => (count.statements++, sql.run(t, p)),
        get: (t, p) => (count.statements++, sql.get(t, p)),
        all: (t, p) => (count.statements++, sql.all(t, p)),
      });
      return db.batch(items, {
        ...(work.begin ? { begin: (sql: Sql, all: readonly I[]) => work.begin!(counted(sql), all) } : {}),
        ...(work.all ? { all: (sql: Sql, all: readonly I[]) => work.all!(counted(sql), all) } : {}),
        item: (sql, item) => work.item(counted(sql), item),
        ...(work.end ? { end: (sql: Sql, values: readonly R[]) => work.end!(counted(sql), values) } : {}),
      });
    },
  };
}

function describeRoundTrips(makeFactory: () => DatabaseFactory): void {
  let factory: DatabaseFactory;
  let platform: Platform | undefined;
  beforeAll(() => {
    factory = makeFactory();
  });
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });
  afterAll(async () => {
    await factory.cleanup();
  });

  async function setup(): Promise<{ service: WxqrService; batches: BatchCount[]; at: () => number; dialect: Dialect }> {
    platform = await startPlatform();
    const { db } = await factory.create();
    await migrate(db);
    const batches: BatchCount[] = [];
    const service = await createWxqrService(
      {
        db: counting(db, batches),
        qrcodes: platform.client().qrcodes,
        accountId: APP_ID,
        // Events are forwarded, so each batch also writes outbox rows; the dispatcher never runs.
        webhook: { url: "http://127.0.0.1:9/never-called", secret: "round-trips" },
      },
      { clock: platform.clock, random: createSeededRandom(11), logger: silentLogger, timer: createManualTimer(), fetch },
    );
    const clock = platform.clock;
    return { service, batches, at: () => (clock.advance(1_000), clock.now()), dialect: db.dialect };
  }

  /** Pushes of every kind for `n` followers tagged `tag`, of whom the first half were seen in `known`. */
  async function mixedBatch(
    service: WxqrService,
    tag: string,
    n: number,
    at: () => number,
  ): Promise<{ channelId: string; known: PushMessage[]; batch: PushMessage[] }> {
    const { id: channelId, qrcode: channel } = await service.channels.create({ name: `channel ${tag}`, welcome: "hi" });
    const personal = await service.referrals.codeFor(`o_${tag}_inviter`);
    const open = (i: number): string => `o_${tag}_${i}`;
    const t = at();
    // Followers brought by the channel, seen before the measured batch.
    const known = Array.from({ length: n / 2 }, (_, i) =>
      scanPush({ openId: open(i), ticket: channel.ticket!, scene: channel.sceneId!, subscribe: true, at: t }),
    );
    const later = at();
    const batch = Array.from({ length: n }, (_, i): PushMessage => {
      if (i < n / 2) {
        // Known followers: a returning scan, an unfollow, a redelivery of their first push, a second scan.
        if (i % 4 === 0) return scanPush({ openId: open(i), ticket: channel.ticket!, scene: channel.sceneId!, subscribe: false, at: later });
        if (i % 4 === 1) return followPush({ openId: open(i), at: later, event: "unsubscribe" });
        return known[i]!;
      }
      // New followers: through the channel, or through someone's personal code (a referral).
      if (i % 2 === 0) return scanPush({ openId: open(i), ticket: channel.ticket!, scene: channel.sceneId!, subscribe: true, at: later });
      return scanPush({ openId: open(i), ticket: personal.ticket!, scene: personal.sceneId!, subscribe: true, at: later });
    });
    // And a duplicate inside the batch.
    batch[batch.length - 1] = batch[batch.length - 2]!;
    return { channelId, known, batch };
  }

  it("a batch of 50 pushes and one of 200 cost the same few statements (4 round trips on PostgreSQL)", async () => {
    const { service, batches, at, dialect } = await setup();
    const measured: BatchCount[] = [];
    for (const [tag, n] of [
      ["small", 50],
      ["large", 200],
    ] as const) {
      const { channelId, known, batch } = await mixedBatch(service, tag, n, at);
      await Promise.all(known.map((m) => service.ingest(m)));
      batches.length = 0;
      const outcomes = await Promise.all(batch.map((m) => service.ingest(m)));
      // One batch held them all, and it did every kind of work.
      expect(batches.map((b) => b.pushes)).toEqual([n]);
      measured.push(batches[0]!);
      const first = (i: number): boolean => i < n / 2;
      const indices = Array.from({ length: n }, (_, i) => i);
      const returning = indices.filter((i) => first(i) && i % 4 === 0).length;
      const unfollows = indices.filter((i) => first(i) && i % 4 === 1).length;
      const byChannel = indices.filter((i) => !first(i) && i % 2 === 0).length;
      // The last push (odd) was replaced by a duplicate of the one before.
      const referred = indices.filter((i) => !first(i) && i % 2 === 1 && i !== n - 1).length;
      expect(outcomes.filter((o) => o.duplicate)).toHaveLength(n / 2 - returning - unfollows + 1);
      expect(outcomes.filter((o) => o.isNewFollower)).toHaveLength(byChannel + referred);
      expect(await service.channels.stats(channelId)).toMatchObject({ scans: n / 2 + returning + byChannel, unfollows });
      expect((await service.referrals.leaderboard()).leaders).toContainEqual({ openId: `o_${tag}_inviter`, invitees: referred });
    }
    expect(measured[0]!.statements).toBeLessThanOrEqual(MAX_STATEMENTS_PER_BATCH[dialect]);
    expect(measured[1]!.statements).toBe(measured[0]!.statements);
  });
}

describeOnBothEngines("push round trips", describeRoundTrips);
