/**
 * The service's use cases in one place, shared by the HTTP server and the CLI: codes, channels,
 * push ingestion (group-committed) and the scan log. Knows nothing of HTTP or SQL dialects.
 * @module
 */
import type { Clock, Logger, Random } from "../deps.ts";
import type { PushMessage } from "../push/events.ts";
import * as codesStore from "../store/codes.ts";
import type { Database } from "../store/database.ts";
import * as followers from "../store/followers.ts";
import { migrate } from "../store/migrations.ts";
import type { QrCodesApi } from "../wechat/qr-ticket.ts";
import { createChannelService, type ChannelService } from "./channels.ts";
import { createCodeService, type CodeService } from "./codes.ts";
import { checkTimeZone } from "./days.ts";
import { createGroupCommitter } from "./group-commit.ts";
import { channelHooks } from "./channel-hooks.ts";
import { emitNothing, type PushContext } from "./push-hooks.ts";
import { recordPush, type PushOutcome } from "./record-push.ts";

export const DEFAULT_TIME_ZONE = "Asia/Shanghai";

export interface WxqrServiceOptions {
  db: Database;
  /** The WeChat API for creating codes; leave out for read-only uses. */
  qrcodes?: QrCodesApi;
  /** The app id: every row belongs to it. */
  accountId: string;
  timeZone?: string;
  permanentQuota?: number;
  clock: Clock;
  random: Random;
  logger: Logger;
}

export interface ScanLogPage {
  events: followers.PushLogRow[];
  /** Pass as `after` for the next page; absent at the end. */
  next?: number;
}

export interface WxqrService {
  readonly accountId: string;
  readonly codes: CodeService;
  readonly channels: ChannelService;
  /** Records one push; resolves after the commit that holds it. A duplicate resolves `{ duplicate: true }`. */
  ingest(message: PushMessage): Promise<PushOutcome>;
  events(after: number, limit: number): Promise<ScanLogPage>;
  /** Pushes waiting for a commit. */
  readonly pendingPushes: number;
  /** Waits for the pushes already accepted to commit. */
  drain(): Promise<void>;
}

/** Migrates, makes sure the account row exists, and returns the service. */
export async function createWxqrService(options: WxqrServiceOptions): Promise<WxqrService> {
  const { db, accountId, clock } = options;
  const timeZone = checkTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE);
  await migrate(db);
  await db.transaction((sql) => codesStore.ensureAccount(sql, { id: accountId, timeZone }, clock.now()));
  const codes = createCodeService({ db, qrcodes: options.qrcodes, accountId, permanentQuota: options.permanentQuota ?? 100_000, clock, random: options.random });
  const channels = createChannelService({ db, codes, accountId, timeZone, clock, random: options.random });
  const pushContext: PushContext = { accountId, timeZone, owners: { channel: channelHooks }, emit: emitNothing };
  const committer = createGroupCommitter<PushMessage, PushOutcome>({
    runBatch: (messages) => {
      const receivedAt = clock.now();
      return db.batch(messages, (sql, message) => recordPush(sql, pushContext, message, receivedAt));
    },
  });

  return {
    accountId,
    codes,
    channels,
    ingest: (message) => committer.submit(message),
    async events(after, limit) {
      const events = await db.read((sql) => followers.listPushLog(sql, accountId, after, limit + 1));
      const page = events.slice(0, limit);
      return events.length > limit ? { events: page, next: page[page.length - 1]!.seq! } : { events: page };
    },
    get pendingPushes() {
      return committer.pending;
    },
    drain: () => committer.drain(),
  };
}
