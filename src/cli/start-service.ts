/** Wires the real service together: database, WeChat client, push receiver, domain, HTTP server. */
import type { Config } from "../config.ts";
import type { Deps } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { HttpLimits } from "../http-limits.ts";
import { createWxqrService, type WxqrService } from "../domain/index.ts";
import { runCodeReconciler } from "../domain/reconcile-codes.ts";
import { createPushReceiver } from "../push/index.ts";
import { buildServer, closeServer, type Server } from "../server/app.ts";
import { openDatabase } from "../store/index.ts";
import { migrate } from "../store/migrations.ts";
import { createDatabaseTokenStore } from "../store/token-store.ts";
import { createWeChatClient } from "../wechat/client.ts";

/** What the service cannot start without: check with `requireConfig(config, SERVICE_REQUIRES, why)`, which names the missing variables. */
export const SERVICE_REQUIRES = ["appId", "appSecret", "token", "adminToken"] as const;
export type ServiceConfig = Readonly<Config> & Required<Pick<Config, (typeof SERVICE_REQUIRES)[number]>>;

/** Run-time choices that are not configuration (no environment variable sets them). */
export interface ServiceExtras {
  /** Request logging, `wxqr serve --log`. */
  logger?: boolean;
}

export interface RunningService {
  url: string;
  service: WxqrService;
  server: Server;
  close(): Promise<void>;
}

/** The WXQR_HTTP_* variables, for the service and (in `wxqr dev`) the emulator beside it. */
export function httpLimitsFrom(config: Readonly<Config>): Partial<HttpLimits> {
  return {
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    requestTimeoutMs: config.httpRequestTimeoutMs,
    keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
    idleTimeoutMs: config.httpIdleTimeoutMs,
    ...(config.httpMaxConnections !== undefined ? { maxConnections: config.httpMaxConnections } : {}),
  };
}

/**
 * `settings` is a Config from `loadConfig`: the environment's in `wxqr serve`; in `wxqr dev`, with
 * its generated credentials and the emulator's URL as overrides.
 */
export async function startService(settings: ServiceConfig, deps: Deps, extras: ServiceExtras = {}): Promise<RunningService> {
  if (settings.webhookUrl && !settings.webhookSecret) throw new ConfigError([{ key: "WXQR_WEBHOOK_SECRET", message: "is required with WXQR_WEBHOOK_URL" }]);
  const db = openDatabase(settings.database);
  try {
    await migrate(db);
    // The token lives in the database: every instance on it shares one token and one refresh lease.
    const tokenStore = createDatabaseTokenStore(db);
    const client = createWeChatClient(
      { appId: settings.appId, appSecret: settings.appSecret, apiBase: settings.apiBase, mpBase: settings.mpBase, tokenStore },
      deps,
    );
    const receiver = createPushReceiver({
      token: settings.token,
      appId: settings.appId,
      ...(settings.encodingAESKey ? { encodingAESKey: settings.encodingAESKey } : {}),
      now: () => deps.clock.now(),
      random: deps.random,
    });
    const service = await createWxqrService(
      {
        db,
        qrcodes: client.qrcodes,
        wechat: client,
        accountId: settings.appId,
        permanentQuota: settings.permanentQuota,
        referralPermanentReserve: settings.referralReserve,
        scanSessions: { siteName: settings.siteName, warmCodes: settings.scanSessionWarmCodes },
        posters: { maxBytes: settings.posterMaxBytes, maxSidePx: settings.posterMaxSidePx, cacheBytes: settings.posterCacheMb * 1_048_576 },
        followUps: { windowMs: settings.followUpWindowSeconds * 1_000, referralPoster: settings.referralPoster, referralWelcome: settings.referralWelcome },
        ...(settings.webhookUrl && settings.webhookSecret ? { webhook: { url: settings.webhookUrl, secret: settings.webhookSecret } } : {}),
      },
      deps,
    );
    const server = await buildServer(
      {
        service,
        receiver,
        db,
        adminToken: settings.adminToken,
        metricsToken: settings.metricsToken,
        publicMetrics: settings.publicMetrics,
        publicDocs: settings.publicDocs,
        http: httpLimitsFrom(settings),
        streams: { perSession: settings.sseStreamsPerSession, perClient: settings.sseStreamsPerClient },
        tokenRefreshes: () => client.accessToken.fetchCount,
        logger: extras.logger ?? false,
        trustProxy: settings.trustProxy,
      },
      deps,
    );
    await server.app.listen({ host: settings.host, port: settings.port });
    const address = server.app.server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    service.webhook?.start();
    service.followUps?.dispatcher.start();
    service.channelRenewal.start();
    // Reservations a crash left without their ticket would hold scenes and quota forever.
    const reconciling = new AbortController();
    const reconciler = runCodeReconciler(
      { db, qrcodes: client.qrcodes, accountId: settings.appId, clock: deps.clock, logger: deps.logger, timer: deps.timer },
      reconciling.signal,
    );
    const close = async (): Promise<void> => {
      try {
        reconciling.abort();
        await reconciler;
        await service.webhook?.stop();
        await service.followUps?.dispatcher.stop();
        await service.channelRenewal.stop();
      } finally {
        await closeServer(server, service, db);
      }
    };
    return { url: `http://${settings.host}:${port}`, service, server, close };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
