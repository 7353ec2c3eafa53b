/**
 * `GET /api/overview` (issue #10) over real loopback HTTP, on SQLite and PostgreSQL: today, the
 * last 7 and the last 30 days summed over every channel (archived ones included), net growth,
 * the quota and the webhook's backlog. Scans are the emulator's real pushes spread over a month
 * by moving the clock the emulator and the service share.
 */
import { expect, it } from "vitest";
import { type DatabaseFactory, describeOnBothEngines } from "../helpers/databases.ts";
import { type Json, type ServiceHarness, serviceHarnesses } from "../helpers/service.ts";
import { startWebhookReceiver } from "../helpers/webhook-receiver.ts";

const DAY_MS = 86_400_000;

function describeOverview(makeFactory: () => DatabaseFactory): void {
  const { start, closeAfter } = serviceHarnesses(makeFactory);

  async function create(h: ServiceHarness, name: string): Promise<Json> {
    const res = await h.api("POST", "/api/channels", { name });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function scan(h: ServiceHarness, openId: string, channel: Json): Promise<void> {
    h.clock.advance(1_000);
    expect((await h.scan(openId, channel.qrcode.ticket)).body.delivery.outcome).toBe("delivered");
  }

  async function overview(h: ServiceHarness): Promise<Json> {
    const res = await h.api("GET", "/api/overview");
    expect(res.status).toBe(200);
    return res.body;
  }

  it("sums today, the last 7 and the last 30 days over every channel, archived ones included, with net growth", async () => {
    const h = await start();
    const a = await create(h, "poster A");
    const b = await create(h, "poster B");
    expect((await h.api("PATCH", `/api/channels/${b.id}`, { archived: true })).status).toBe(200);
    const zero = { scans: 0, uniqueScanners: 0, newFollowers: 0, returningFollowers: 0, unfollows: 0, netGrowth: 0 };
    expect(await overview(h)).toEqual({
      today: zero,
      last7: zero,
      last30: zero,
      quota: { permanent: { used: 2, limit: 100_000, remaining: 99_998 } },
      groups: [],
    });

    // Day 0 (2026-11-25), 30 days before "today": in no range.
    await scan(h, "u1", a);
    await scan(h, "u2", a);
    await scan(h, "u3", b);
    // Day 10: only in the last 30 days.
    h.clock.advance(10 * DAY_MS);
    await scan(h, "u7", a);
    // Day 25 and day 29: in the last 7 days too.
    h.clock.advance(15 * DAY_MS);
    await scan(h, "u4", a);
    await scan(h, "u1", b); // returning, through the archived channel
    h.clock.advance(4 * DAY_MS);
    h.clock.advance(1_000);
    expect((await h.unsubscribe("u2")).body.delivery.outcome).toBe("delivered"); // counted against A
    await scan(h, "u5", a);
    // Day 30: today.
    h.clock.advance(DAY_MS);
    await scan(h, "u6", b);
    await scan(h, "u6", b);
    await scan(h, "u1", a);

    expect(await overview(h)).toEqual({
      // u6 twice and u1: two people, one new.
      today: { scans: 3, uniqueScanners: 2, newFollowers: 1, returningFollowers: 2, unfollows: 0, netGrowth: 3 },
      // Days 25, 29 and 30: u1 scanned on two of them and through both channels, but is one scanner.
      last7: { scans: 6, uniqueScanners: 4, newFollowers: 3, returningFollowers: 3, unfollows: 1, netGrowth: 5 },
      last30: { scans: 7, uniqueScanners: 5, newFollowers: 4, returningFollowers: 3, unfollows: 1, netGrowth: 6 },
      quota: { permanent: { used: 2, limit: 100_000, remaining: 99_998 } },
      groups: [],
    });
    // The same figures the channels give, summed: today's per channel add up to the account's.
    const { channels } = (await h.api("GET", "/api/channels?archived=all")).body;
    expect(channels.reduce((n: number, c: Json) => n + c.today.scans, 0)).toBe(3);
    expect((await h.api("GET", "/api/overview", undefined, { token: null })).status).toBe(401);
  });

  it("shows the webhook's backlog and the events that failed, when a webhook is configured", async () => {
    const receiver = await startWebhookReceiver();
    closeAfter(receiver);
    const h = await start({ webhook: { url: receiver.url, secret: "webhook-secret-0123456789", timeoutMs: 5_000 } });
    const a = await create(h, "poster A");
    await scan(h, "u1", a); // a scan and a new follower: two events
    await scan(h, "u2", a);
    expect((await overview(h)).webhook).toEqual({ backlog: 4, failing: 0 });

    // Each follower's events go in order: a round tries each one's first, and both fail.
    receiver.failNext = 2;
    expect(await h.service.webhook!.runOnce()).toEqual({ attempted: 2, delivered: 0, failed: 2 });
    expect((await overview(h)).webhook).toEqual({ backlog: 4, failing: 2 });
  });
}

describeOnBothEngines("overview API", describeOverview);
