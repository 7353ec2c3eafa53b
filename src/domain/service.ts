/**
 * The service's use cases in one place, shared by the HTTP server and the CLI: codes, channels,
 * push ingestion (group-committed) and the scan log. Knows nothing of HTTP or SQL dialects.
 * @module
 */
import type { Deps, Fetch } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { PushMessage } from "../push/events.ts";
import * as codesStore from "../store/codes.ts";
import type { Database } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import type { QrCodesApi } from "../wechat/qr-ticket.ts";
import { createChannelFollowUps } from "./channel-follow-ups.ts";
import { createChannelGroupService, type ChannelGroupService } from "./channel-groups.ts";
import { createChannelService, type ChannelService } from "./channels.ts";
import { backfillImageTokens, createChannelCodeRenewer, RENEWAL_RETRY_MS, type ChannelCodeRenewer } from "./channel-codes.ts";
import { createOutboxLoop, type OutboxLoop } from "./outbox-loop.ts";
import {
  createFollowUpDispatcher,
  DEFAULT_FOLLOW_UP_WINDOW_MS,
  posterImageSource,
  type FollowUpDispatcher,
  type FollowUpOptions,
} from "./follow-up-dispatcher.ts";
import { createFollowUpService, type FollowUpService } from "./follow-ups.ts";
import { createFollowerService, type FollowerService, type WeChatCall } from "./followers.ts";
import { referralHooks } from "./referral-hooks.ts";
import { createPosterService, type PosterOptions, type PosterService } from "./posters.ts";
import { createReferralService, DEFAULT_REFERRAL_PERMANENT_RESERVE, type ReferralService } from "./referrals.ts";
import { createCodeService, type CodeService } from "./codes.ts";
import { checkTimeZone } from "./days.ts";
import { createGroupCommitter } from "./group-commit.ts";
import { channelHooks } from "./channel-hooks.ts";
import { pushBatch, runAfterCommit } from "./push-batch.ts";
import type { PushSettings } from "./push-hooks.ts";
import { createLiveFeed, type LiveFeed, type LiveFeedOptions } from "./live-feed.ts";
import { createOverviewReader, type Overview } from "./overview.ts";
import type { PushOutcome } from "./record-push.ts";
import { createScanSessionService, type ScanSessionOptions, type ScanSessionService } from "./scan-sessions.ts";
import { createWebhookDispatcher, type WebhookDispatcher, type WebhookOptions } from "./webhook-dispatcher.ts";
import { createOutboxEmitter } from "./webhook-outbox.ts";

export const DEFAULT_TIME_ZONE = "Asia/Shanghai";

export interface WxqrServiceOptions {
  db: Database;
  /** The WeChat API for creating codes; leave out for read-only uses. */
  qrcodes?: QrCodesApi;
  /** The app id: every row belongs to it. */
  accountId: string;
  timeZone?: string;
  permanentQuota?: number;
  /** Personal referral codes are permanent only while more than this many permanent codes are left (default 1,000). */
  referralPermanentReserve?: number;
  /** The WeChat client's generic `call`, for APIs beyond codes (the follower list import). */
  wechat?: { call: WeChatCall };
  /** Scan-to-login / bind sessions: site name, session life, warm codes, rate limit … */
  scanSessions?: ScanSessionOptions;
  /** Forward attributed events to a webhook (WXQR_WEBHOOK_URL / _SECRET); unset: no outbox rows are written. */
  webhook?: WebhookOptions;
  /** The live feed's polling, heartbeat and gap wait. */
  liveFeed?: LiveFeedOptions;
  /** Poster backgrounds' limits and the rendered posters' cache. */
  posters?: PosterOptions;
  /** Follow-up messages and channel tags (issue #12); they need `wechat`. */
  followUps?: FollowUpOptions;
  /** How often the renewal loop looks for temporary channels due for a new code (default a minute). */
  channelRenewalPollMs?: number;
}

/** `timer` waits in the background loops (SSE heartbeats, polling, the webhook's rounds). */
export type WxqrServiceDeps = Pick<Deps, "clock" | "random" | "logger" | "timer"> & {
  /** For the webhook's requests; required with `webhook`. */
  fetch?: Fetch | undefined;
};

export interface ScanLogPage {
  events: followers.PushLogRow[];
  /** Pass as `after` for the next page; absent at the end. */
  next?: number;
}

export interface WxqrService {
  /** The app id (`wx…`) the service's rows belong to. */
  readonly accountId: string;
  readonly codes: CodeService;
  readonly channels: ChannelService;
  /** Groups of channels, by campaign or region (issue #13). */
  readonly channelGroups: ChannelGroupService;
  /** Temporary channels' renewals and the codes their image links serve (issue #13). */
  readonly channelCodes: ChannelCodeRenewer;
  /** The loop that renews temporary channels' codes in the background: `start()` it in a serving process. */
  readonly channelRenewal: Pick<OutboxLoop, "start" | "stop">;
  /** The business webhook's dispatcher, when one is configured (`start()` it to deliver in the background). */
  readonly webhook?: WebhookDispatcher;
  readonly referrals: ReferralService;
  readonly followers: FollowerService;
  /** Poster designs and the posters rendered from them. */
  readonly posters: PosterService;
  /** Follow-up messages and taggings, when the service has the WeChat API (`start()` the dispatcher to send in the background). */
  readonly followUps?: FollowUpService;
  readonly scanSessions: ScanSessionService;
  /** Records one push; resolves after the commit that holds it. A duplicate resolves `{ duplicate: true }`. */
  ingest(message: PushMessage): Promise<PushOutcome>;
  events(after: number, limit: number): Promise<ScanLogPage>;
  /** The scan log live: new rows as they commit, here or on another instance. */
  readonly liveFeed: Pick<LiveFeed, "latest" | "follow">;
  /** Today, the last 7 and 30 days over all channels, the quota, the webhook's backlog. */
  overview(): Promise<Overview>;
  /** Pushes waiting for a commit. */
  readonly pendingPushes: number;
  /** Waits for the pushes already accepted to commit, and for a background top-up of the scan sessions' warm codes. */
  drain(): Promise<void>;
}

/**
 * Makes sure the account row exists and returns the service. The database must be migrated
 * already: the composition roots (the CLI, test harnesses) run the migrations, never the domain.
 */
export async function createWxqrService(options: WxqrServiceOptions, deps: WxqrServiceDeps): Promise<WxqrService> {
  const { db, accountId } = options;
  const { clock, random, logger, timer } = deps;
  const timeZone = checkTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE);
  await db.transaction((sql) => codesStore.ensureAccount(sql, { id: accountId, timeZone }, clock.now()));
  const codes = createCodeService({ db, qrcodes: options.qrcodes, accountId, permanentQuota: options.permanentQuota ?? 100_000, clock, random });
  const call = options.wechat?.call;
  let dispatcher: FollowUpDispatcher | undefined;
  const wake = (): void => dispatcher?.wake();
  const channelFollowUps = call ? createChannelFollowUps({ db, accountId, call, clock, wake }) : undefined;
  const channels = createChannelService({ db, codes, accountId, timeZone, clock, random, ...(channelFollowUps ? { followUps: channelFollowUps } : {}) });
  const channelGroups = createChannelGroupService({ db, accountId, clock, random });
  await backfillImageTokens(db, random);
  const channelCodes = createChannelCodeRenewer({ db, codes, accountId, clock, logger });
  const channelRenewal = createOutboxLoop(
    { name: "channel renewal", pollMs: options.channelRenewalPollMs ?? RENEWAL_RETRY_MS },
    { timer, logger, round: channelCodes.round },
  );
  const followerService = createFollowerService({ db, accountId, call: options.wechat?.call, clock });
  const referralService = createReferralService({
    db,
    codes,
    accountId,
    timeZone,
    permanentReserve: options.referralPermanentReserve ?? DEFAULT_REFERRAL_PERMANENT_RESERVE,
    newMeans: followerService.newMeans,
    clock,
    random,
  });
  const posters = createPosterService(options.posters ?? {}, { db, accountId, referrals: referralService, channels, clock, random });
  const followUpOptions = options.followUps ?? {};
  if (call) {
    const posterImage = posterImageSource({ posters, referrals: referralService });
    dispatcher = createFollowUpDispatcher(followUpOptions, { db, accountId, call, posterImage, clock, random, logger, timer });
  }
  const followUps = dispatcher && channelFollowUps ? createFollowUpService({ db, accountId, dispatcher, channels: channelFollowUps }) : undefined;
  const scanSessions = createScanSessionService(options.scanSessions ?? {}, { db, codes, accountId, clock, random, logger, timer });
  const liveFeed = createLiveFeed(options.liveFeed ?? {}, { db, accountId, clock, logger, timer });
  const pushSettings: PushSettings = {
    accountId,
    timeZone,
    owners: { channel: channelHooks, follower: referralHooks, session: scanSessions.hooks },
    onOther: scanSessions.onOther,
    ...(options.webhook ? { outboxRow: createOutboxEmitter({ accountId, clock }) } : {}),
    onLogged: liveFeed.wake,
    ...(dispatcher
      ? {
          followUps: {
            windowMs: followUpOptions.windowMs ?? DEFAULT_FOLLOW_UP_WINDOW_MS,
            referralPoster: followUpOptions.referralPoster ?? true,
            referralWelcome: followUpOptions.referralWelcome,
            wake,
          },
        }
      : {}),
  };
  if (options.webhook && !deps.fetch) throw new ConfigError([{ key: "fetch", message: "is required with webhook" }]);
  const webhook =
    options.webhook && deps.fetch
      ? createWebhookDispatcher({ ...options.webhook, db, accountId }, { clock, random, fetch: deps.fetch, logger, timer })
      : undefined;
  const overview = createOverviewReader({ db, accountId, timeZone, clock, codes, webhook });
  const committer = createGroupCommitter<PushMessage, PushOutcome>({
    // SQLite's batches queue on its one connection and wait for their WAL sync outside it: a
    // second batch in flight commits while the first syncs (sqlite-database.ts).
    maxInFlight: db.dialect === "sqlite" ? 2 : 1,
    runBatch: async (messages) => {
      const results = await db.batch(messages, pushBatch(pushSettings, clock.now()));
      return results.map((r) => {
        if (!r.ok) return r;
        runAfterCommit(r.value, logger);
        return { ok: true, value: r.value.outcome };
      });
    },
  });

  return {
    accountId,
    codes,
    channels,
    channelGroups,
    channelCodes,
    channelRenewal,
    ...(webhook ? { webhook } : {}),
    referrals: referralService,
    followers: followerService,
    posters,
    ...(followUps ? { followUps } : {}),
    scanSessions,
    ingest: (message) => committer.submit(message),
    async events(after, limit) {
      const events = await db.read((sql) => followers.listPushLog(sql, accountId, after, limit + 1));
      const page = events.slice(0, limit);
      return events.length > limit ? { events: page, next: page[page.length - 1]!.seq! } : { events: page };
    },
    overview,
    liveFeed: { latest: liveFeed.latest, follow: liveFeed.follow },
    get pendingPushes() {
      return committer.pending;
    },
    async drain() {
      await committer.drain();
      await scanSessions.settled();
    },
  };
}
