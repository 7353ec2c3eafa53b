/**
 * The read side of follow-ups (issue #12): sends the follow-up outbox's customer-service
 * messages and taggings through the platform, at once after the push that wrote them commits.
 *
 * - **Windows.** A subscribe or scan lets the account send 3 messages within 1 minute
 *   (wechat-api.md §10.1; older documents say 48 hours). Every message is tried at least once
 *   (the platform is the judge of its window); a transient failure is retried with a backoff,
 *   but never at a time past the row's `deadline_at` (`at` + the window): it is closed as failed
 *   instead. The platform's own refusals — 45015 (window closed, or unfollowed), 45047 (its
 *   messages used up) and every other errcode no retry can change — are recorded on the row
 *   and never retried.
 * - **Images.** A poster (the new follower's own personal code on the campaign's design) or a
 *   channel's image is uploaded once per content (design version and code, or image id), and its
 *   `media_id` reused until shortly before it expires (3 days).
 * - **Tags.** Pending taggings are claimed in bulk and grouped per tag into `batchtagging` calls
 *   of at most 50 OpenIDs. A batch the platform refuses as a whole for one user (45059: a 21st
 *   tag) is split into single calls, so the others are still tagged. Taggings have no window;
 *   they are retried with a backoff of at most `maxDelayMs`.
 * - **Instances.** All state is in the database; rows are leased before they are sent.
 *
 * `runOnce()` is one round (tests drive it with a manual clock); `start()` runs rounds in the
 * background until `stop()`, waking at once when `wake()` is called (after a push commits).
 * @module
 */
import { backoffDelayMs } from "../backoff.ts";
import type { Clock, Logger, Random, Timer } from "../deps.ts";
import { NotFoundError, QrError, WeChatApiError } from "../errors.ts";
import { renderPng } from "../qr/png.ts";
import * as channelsStore from "../store/channels.ts";
import type { Database } from "../store/database.ts";
import * as store from "../store/follow-ups.ts";
import { sendCustomMessage } from "../wechat/custom-message.ts";
import { uploadMedia } from "../wechat/media.ts";
import { batchTag, BATCH_TAGGING_OPENIDS_MAX } from "../wechat/tags.ts";
import type { WeChatCall } from "./followers.ts";
import { createOutboxLoop } from "./outbox-loop.ts";
import type { PosterService } from "./posters.ts";
import type { ReferralService } from "./referrals.ts";

export interface FollowUpOptions {
  /** The send window after a scan or subscribe (default 60 s, §10.1). */
  windowMs?: number;
  /** Send a new follower who came through a personal code their own poster (default true). */
  referralPoster?: boolean;
  /** The passive reply to a scan of a personal code (default none). */
  referralWelcome?: string | undefined;
  /** First retry delay; doubles with each failed attempt. Default 1 s. */
  baseDelayMs?: number;
  /** Longest delay between attempts (taggings; messages stop at their window). Default 10 min. */
  maxDelayMs?: number;
  /** Rows claimed per round. Default 100 messages and 500 taggings. */
  batchSize?: number;
  /** The background loop's pause when nothing is due. Default 1 s. */
  pollMs?: number;
  /**
   * After a wake-up, the background loop waits this long before its round: the push's passive
   * reply leaves just after the commit that woke it, and should reach the user before the
   * follow-ups (it is the welcome; the poster comes second). Default 100 ms.
   */
  wakeDelayMs?: number;
  /** How long a claim keeps other instances off a row. Default 60 s. */
  leaseMs?: number;
}

export const DEFAULT_FOLLOW_UP_WINDOW_MS = 60_000;
/** A media id is reused until this long before its 3 days run out. */
const MEDIA_REUSE_MARGIN_MS = 3_600_000;

/** The image for a follower's poster: PNG bytes, and a key that names exactly this content. */
export type PosterImageSource = (openId: string) => Promise<{ key: string; png: Buffer }>;

export interface FollowUpRound {
  attempted: number;
  sent: number;
  failed: number;
  /** `batchtagging` calls made. */
  tagCalls: number;
}

/** What one attempt came to, for `/metrics`: `rows` rows of `kind` sent, or failed with the platform's `errcode` (null: none). */
export type FollowUpOutcome = { kind: store.FollowUpKind; rows: number } & ({ sent: true } | { sent: false; errcode: number | null });

export interface FollowUpDispatcher {
  runOnce(): Promise<FollowUpRound>;
  /** Runs rounds until one attempts nothing (at most `maxRounds`, default 100): what is due now is done. */
  settle(maxRounds?: number): Promise<FollowUpRound>;
  /** Makes the background loop run a round now. */
  wake(): void;
  /** Calls `listener` after every attempt; returns its removal. */
  onOutcome(listener: (outcome: FollowUpOutcome) => void): () => void;
  start(): void;
  stop(): Promise<void>;
}

export interface FollowUpDispatcherDeps {
  db: Database;
  accountId: string;
  call: WeChatCall;
  /** Where posters come from; default: the campaign's design (`posters`), else the plain code. */
  posterImage: PosterImageSource;
  clock: Clock;
  random: Random;
  logger: Logger;
  timer: Timer;
}

/**
 * The campaign's poster with the follower's personal code; the plain code as PNG while no design is saved.
 * @example
 * const posterImage = posterImageSource({ posters, referrals });
 * const { key, png } = await posterImage("oFollower"); // key names the design version and the code
 */
export function posterImageSource(deps: { posters: PosterService; referrals: ReferralService }): PosterImageSource {
  return async (openId) => {
    try {
      const { png, etag } = await deps.posters.referralPoster(openId);
      return { key: `poster:${etag}`, png: png! };
    } catch (err) {
      if (!(err instanceof NotFoundError) || err.code !== "NOT_FOUND") throw err;
      const code = await deps.referrals.codeFor(openId);
      return { key: `code:${code.url}`, png: renderPng(code.url!) };
    }
  };
}

function failureOf(err: unknown): { errcode: number | null; error: string; retryable: boolean } {
  if (err instanceof WeChatApiError) return { errcode: err.errcode, error: err.message, retryable: err.retryable };
  if (err instanceof QrError) return { errcode: null, error: err.message, retryable: err.retryable };
  return { errcode: null, error: err instanceof Error ? err.message : String(err), retryable: true };
}

/**
 * @example
 * const dispatcher = createFollowUpDispatcher({ windowMs: 60_000 }, { db, accountId, call: client.call, posterImage, clock, random, logger, timer });
 * dispatcher.start(); // or, in a test on a manual clock: await dispatcher.settle();
 */
export function createFollowUpDispatcher(options: FollowUpOptions, deps: FollowUpDispatcherDeps): FollowUpDispatcher {
  const { db, accountId, call, clock, random, logger, timer } = deps;
  const steps = { baseDelayMs: options.baseDelayMs ?? 1_000, maxDelayMs: options.maxDelayMs ?? 600_000 };
  const batchSize = options.batchSize ?? 100;
  const pollMs = options.pollMs ?? 1_000;
  const wakeDelayMs = options.wakeDelayMs ?? 100;
  const leaseMs = options.leaseMs ?? 60_000;
  const holder = random.uuid();
  const listeners = new Set<(outcome: FollowUpOutcome) => void>();
  const report = (outcome: FollowUpOutcome): void => {
    for (const listener of listeners) listener(outcome);
  };

  // Followers sent one image in the same round share its upload (another instance may upload it too: harmless).
  const uploading = new Map<string, Promise<string>>();

  function mediaIdFor(key: string, image: () => Promise<{ bytes: Buffer; type: string; filename: string }>): Promise<string> {
    let pending = uploading.get(key);
    if (!pending) {
      pending = knownOrUploaded(key, image).finally(() => uploading.delete(key));
      uploading.set(key, pending);
    }
    return pending;
  }

  async function knownOrUploaded(key: string, image: () => Promise<{ bytes: Buffer; type: string; filename: string }>): Promise<string> {
    const now = clock.now();
    const known = await db.read((sql) => store.getMediaId(sql, accountId, key, now + MEDIA_REUSE_MARGIN_MS));
    if (known) return known;
    const { bytes, type, filename } = await image();
    const uploaded = await uploadMedia(call, "image", bytes, filename, type);
    await db.transaction((sql) => store.saveMediaId(sql, accountId, key, uploaded.mediaId, uploaded.expiresAt));
    return uploaded.mediaId;
  }

  async function imageMediaId(row: store.FollowUpRow): Promise<{ key: string; mediaId: string }> {
    if (row.kind === "poster") {
      // The personal code is made here, not in the push: the push must not wait on the platform.
      const poster = await deps.posterImage(row.openId);
      return { key: poster.key, mediaId: await mediaIdFor(poster.key, async () => ({ bytes: poster.png, type: "image/png", filename: "poster.png" })) };
    }
    const key = `channel-image:${row.imageId}`;
    const mediaId = await mediaIdFor(key, async () => {
      const image = await db.read((sql) => channelsStore.getFollowUpImage(sql, accountId, row.imageId!));
      if (!image) throw new NotFoundError(`the channel's follow-up image ${row.imageId} is gone`);
      return { bytes: image.bytes, type: image.contentType, filename: image.contentType === "image/png" ? "image.png" : "image.jpg" };
    });
    return { key, mediaId };
  }

  async function sendMessage(row: store.FollowUpRow): Promise<boolean> {
    let media: { key: string; mediaId: string } | undefined;
    try {
      if (row.kind === "text") await sendCustomMessage(call, { touser: row.openId, text: row.text ?? "" });
      else {
        media = await imageMediaId(row);
        await sendCustomMessage(call, { touser: row.openId, image: { mediaId: media.mediaId } });
      }
      await db.transaction((sql) => store.markFollowUpsSent(sql, [row.seq], holder, clock.now()));
      report({ kind: row.kind, rows: 1, sent: true });
      return true;
    } catch (err) {
      const failure = failureOf(err);
      const now = clock.now();
      // 40007: the platform forgot the media early; upload again on the retry.
      const staleMedia = failure.errcode === 40007 && media !== undefined;
      if (staleMedia) await db.transaction((sql) => store.forgetMediaId(sql, accountId, media!.key, media!.mediaId));
      const retryAt = now + (staleMedia ? 0 : backoffDelayMs(steps, row.attempts + 1, random));
      const retry = (failure.retryable || staleMedia) && row.deadlineAt !== null && retryAt < row.deadlineAt;
      await db.transaction((sql) =>
        store.markFollowUpsFailed(sql, [row.seq], holder, { errcode: failure.errcode, error: failure.error, retryAt: retry ? retryAt : null, at: now }),
      );
      report({ kind: row.kind, rows: 1, sent: false, errcode: failure.errcode });
      logger.warn({ kind: row.kind, openId: row.openId, errcode: failure.errcode, retry }, `follow-up not sent: ${failure.error}`);
      return false;
    }
  }

  /** Tags `rows` (one tag) in one call; a refusal of a whole batch is retried one follower at a time. */
  async function tagBatch(tagId: number, rows: store.FollowUpRow[]): Promise<{ sent: number; failed: number; calls: number }> {
    try {
      await batchTag(
        call,
        tagId,
        rows.map((r) => r.openId),
      );
      await db.transaction((sql) =>
        store.markFollowUpsSent(
          sql,
          rows.map((r) => r.seq),
          holder,
          clock.now(),
        ),
      );
      report({ kind: "tag", rows: rows.length, sent: true });
      return { sent: rows.length, failed: 0, calls: 1 };
    } catch (err) {
      const failure = failureOf(err);
      if (!failure.retryable && rows.length > 1) {
        const one = { sent: 0, failed: 0, calls: 1 };
        for (const row of rows) {
          const r = await tagBatch(tagId, [row]);
          one.sent += r.sent;
          one.failed += r.failed;
          one.calls += r.calls;
        }
        return one;
      }
      const now = clock.now();
      const attempts = Math.max(...rows.map((r) => r.attempts)) + 1;
      const retryAt = failure.retryable ? now + backoffDelayMs(steps, attempts, random) : null;
      await db.transaction((sql) =>
        store.markFollowUpsFailed(
          sql,
          rows.map((r) => r.seq),
          holder,
          { errcode: failure.errcode, error: failure.error, retryAt, at: now },
        ),
      );
      report({ kind: "tag", rows: rows.length, sent: false, errcode: failure.errcode });
      logger.warn({ tagId, followers: rows.length, errcode: failure.errcode, retry: retryAt !== null }, `tagging failed: ${failure.error}`);
      return { sent: 0, failed: rows.length, calls: 1 };
    }
  }

  async function runOnce(): Promise<FollowUpRound> {
    const now = clock.now();
    const lease = { now, until: now + leaseMs, holder };
    const [messages, taggings] = await db.transaction(
      async (sql) =>
        [
          await store.claimDueFollowUps(sql, accountId, "messages", { ...lease, limit: batchSize }),
          await store.claimDueFollowUps(sql, accountId, "tags", { ...lease, limit: batchSize * 5 }),
        ] as const,
    );
    const round: FollowUpRound = { attempted: messages.length + taggings.length, sent: 0, failed: 0, tagCalls: 0 };
    // At most one message per follower is claimed (only heads are due), so these run side by side.
    const tally = (ok: boolean): void => void (ok ? round.sent++ : round.failed++);
    const sending = Promise.all(messages.map(async (row) => tally(await sendMessage(row))));
    const byTag = new Map<number, store.FollowUpRow[]>();
    for (const row of taggings) byTag.set(row.tagId!, [...(byTag.get(row.tagId!) ?? []), row]);
    for (const [tagId, rows] of byTag) {
      for (let i = 0; i < rows.length; i += BATCH_TAGGING_OPENIDS_MAX) {
        const r = await tagBatch(tagId, rows.slice(i, i + BATCH_TAGGING_OPENIDS_MAX));
        round.sent += r.sent;
        round.failed += r.failed;
        round.tagCalls += r.calls;
      }
    }
    await sending;
    return round;
  }

  async function settle(maxRounds = 100): Promise<FollowUpRound> {
    const total: FollowUpRound = { attempted: 0, sent: 0, failed: 0, tagCalls: 0 };
    for (let i = 0; i < maxRounds; i++) {
      const r = await runOnce();
      if (r.attempted === 0) break;
      total.attempted += r.attempted;
      total.sent += r.sent;
      total.failed += r.failed;
      total.tagCalls += r.tagCalls;
    }
    return total;
  }

  const loop = createOutboxLoop({ name: "follow-up", pollMs, wakeDelayMs }, { timer, logger, round: runOnce });

  return {
    runOnce,
    settle,
    onOutcome(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    wake: loop.wake,
    start: loop.start,
    stop: loop.stop,
  };
}
