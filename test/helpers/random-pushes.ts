/**
 * A seeded, realistic day of pushes over a small world of codes, cut into delivery batches the way
 * WeChat's retries make them arrive: some pushes twice, some late (after newer ones), some for
 * codes wxqr never made. The same seed and world give the same batches, so two engines can be fed
 * exactly the same sequence.
 */
import type { Random } from "../../src/deps.ts";
import { toPushMessage, type PushMessage } from "../../src/push/events.ts";

export interface WorldCode {
  ticket: string | null;
  sceneId: number | null;
  sceneStr: string | null;
}

export interface PushWorld {
  openIds: readonly string[];
  channels: readonly WorldCode[];
  referralCodes: readonly WorldCode[];
  /** Scan-session codes with the end of their session's life: a scan after it reaches no session. */
  sessions: ReadonlyArray<{ code: WorldCode; expiresAt: number }>;
}

export interface PushScript {
  /** One day's pushes from `startMs` on, in delivery batches; `count` pushes before redeliveries. */
  day(world: PushWorld, startMs: number, count: number): PushMessage[][];
  readonly delivered: number;
}

const MAX_BATCH = 40;
const LATE_CHANCE = 0.07;
const DUPLICATE_CHANCE = 0.08;
const TEXTS = ["1", "1", "１", "hello", "menu", "2"] as const;

/** Whole-second CreateTimes, 1–560 s apart: ~200 pushes from noon run past a Beijing midnight. */
export function createPushScript(random: Random): PushScript {
  const int = (n: number): number => Math.floor(random.float() * n);
  const chance = (p: number): boolean => random.float() < p;
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const subscribed = new Set<string>();
  const sent: PushMessage[] = [];
  let msgId = 1_000;
  let unknownScene = 900_000;

  const scanMessage = (openId: string, code: WorldCode, subscribe: boolean, at: number): PushMessage => {
    const scene = code.sceneStr ?? String(code.sceneId);
    return toPushMessage(
      {
        ToUserName: "gh_test",
        FromUserName: openId,
        CreateTime: String(Math.floor(at / 1000)),
        MsgType: "event",
        Event: subscribe ? "subscribe" : "SCAN",
        EventKey: subscribe ? `qrscene_${scene}` : scene,
        ...(code.ticket ? { Ticket: code.ticket } : {}),
      },
      false,
    );
  };
  const eventMessage = (openId: string, event: "subscribe" | "unsubscribe", at: number): PushMessage =>
    toPushMessage(
      { ToUserName: "gh_test", FromUserName: openId, CreateTime: String(Math.floor(at / 1000)), MsgType: "event", Event: event, EventKey: "" },
      false,
    );
  const textMessage = (openId: string, content: string, at: number): PushMessage =>
    toPushMessage(
      { ToUserName: "gh_test", FromUserName: openId, CreateTime: String(Math.floor(at / 1000)), MsgType: "text", Content: content, MsgId: String(++msgId) },
      false,
    );
  const unknownCode = (): WorldCode => ({ ticket: `gQunknown${++unknownScene}`, sceneId: unknownScene, sceneStr: null });

  /** A code to scan at `at`: mostly a channel, else a referral code (one's own too), a live session's, or none of wxqr's. */
  function anyCode(world: PushWorld, at: number): { code: WorldCode; session: boolean } {
    const r = random.float();
    const live = world.sessions.filter((s) => at < s.expiresAt);
    if (r < 0.15 && live.length > 0) return { code: pick(live).code, session: true };
    if (r < 0.6) return { code: pick(world.channels), session: false };
    if (r < 0.85) return { code: pick(world.referralCodes), session: false };
    return { code: unknownCode(), session: false };
  }

  /** The pushes of one moment: a scan of a session's code is often followed by the scanner's `1`. */
  function happenings(world: PushWorld, at: number): PushMessage[] {
    const openId = pick(world.openIds);
    if (!subscribed.has(openId)) {
      subscribed.add(openId);
      if (chance(0.12)) return [eventMessage(openId, "subscribe", at)];
      const { code, session } = anyCode(world, at);
      const scan = scanMessage(openId, code, true, at);
      return session && chance(0.7) ? [scan, textMessage(openId, "1", at + 1_000 + int(60) * 1_000)] : [scan];
    }
    const r = random.float();
    if (r < 0.4) {
      const { code, session } = anyCode(world, at);
      const scan = scanMessage(openId, code, false, at);
      return session && chance(0.7) ? [scan, textMessage(openId, "1", at + 1_000 + int(60) * 1_000)] : [scan];
    }
    if (r < 0.65) return [textMessage(openId, pick(TEXTS), at)];
    if (r < 0.8) {
      subscribed.delete(openId);
      return [eventMessage(openId, "unsubscribe", at)];
    }
    return [scanMessage(openId, pick(world.channels), false, at)];
  }

  return {
    day(world, startMs, count) {
      const timeline: PushMessage[] = [];
      let at = startMs;
      while (timeline.length < count) {
        timeline.push(...happenings(world, at));
        at += 1_000 + int(560) * 1_000;
      }
      // Late pushes wait 1–5 batches; duplicates repeat anything sent before, today or earlier.
      const held: Array<{ message: PushMessage; batchesLeft: number }> = [];
      const batches: PushMessage[][] = [];
      let next = 0;
      while (next < timeline.length || held.length > 0) {
        const batch: PushMessage[] = [];
        for (const h of held.filter((h) => --h.batchesLeft <= 0)) {
          batch.push(h.message);
          held.splice(held.indexOf(h), 1);
        }
        const size = chance(0.2) ? 1 : 1 + int(MAX_BATCH);
        while (batch.length < size && next < timeline.length) {
          const message = timeline[next++]!;
          if (chance(LATE_CHANCE)) held.push({ message, batchesLeft: 1 + int(5) });
          else batch.push(message);
          if (sent.length > 0 && chance(DUPLICATE_CHANCE)) batch.push(pick(sent));
        }
        sent.push(...batch);
        if (batch.length > 0) batches.push(batch);
      }
      return batches;
    },
    get delivered() {
      return sent.length;
    },
  };
}
