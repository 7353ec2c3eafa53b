/** Wires the real service together: database, WeChat client, push receiver, domain, HTTP server. */
import type { Config } from "../config.ts";
import type { Deps } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { HttpLimits } from "../http-limits.ts";
import { createWxqrService, type WxqrService } from "../domain/index.ts";
import { runCodeReconciler } from "../domain/reconcile-codes.ts";
import { createPushReceiver } from "../push/index.ts";
import { buildServer, closeServer, type Server } from "../server/app.ts";
import type { StreamLimits } from "../server/stream-slots.ts";
import { openDatabase } from "../store/index.ts";
import { migrate } from "../store/migrations.ts";
import { createDatabaseTokenStore } from "../store/token-store.ts";
import { createWeChatClient } from "../wechat/client.ts";

export interface ServiceSettings {
  appId: string;
  appSecret: string;
  token: string;
  encodingAESKey?: string | undefined;
  apiBase: string;
  mpBase: string;
  database: string;
  host: string;
  port: number;
  adminToken: string;
  permanentQuota: number;
  /** WXQR_REFERRAL_RESERVE; default 1,000. */
  referralReserve?: number;
  /** WXQR_SITE_NAME, named in scan-to-login confirmation replies; default "this site". */
  siteName?: string;
  /** WXQR_SCAN_SESSION_WARM_CODES: scan-session codes made ahead; default 2. */
  scanSessionWarmCodes?: number | undefined;
  /** WXQR_WEBHOOK_URL / WXQR_WEBHOOK_SECRET: forward attributed events there. */
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  /** WXQR_METRICS_TOKEN, WXQR_PUBLIC_METRICS, WXQR_PUBLIC_DOCS: who reads /metrics and /docs. */
  metricsToken?: string | undefined;
  publicMetrics?: boolean;
  publicDocs?: boolean;
  /** WXQR_HTTP_*: socket timeouts and the connection cap. */
  http?: Partial<HttpLimits>;
  /** WXQR_SSE_STREAMS_*: open scan-session event streams per session and per client. */
  streams?: Partial<StreamLimits>;
  logger?: boolean;
}

export interface RunningService {
  url: string;
  service: WxqrService;
  server: Server;
  close(): Promise<void>;
}

export function settingsFrom(config: Readonly<Config> & Required<Pick<Config, "appId" | "appSecret" | "token" | "adminToken">>): ServiceSettings {
  return {
    appId: config.appId,
    appSecret: config.appSecret,
    token: config.token,
    encodingAESKey: config.encodingAESKey,
    apiBase: config.apiBase,
    mpBase: config.mpBase,
    database: config.database,
    host: config.host,
    port: config.port,
    adminToken: config.adminToken,
    permanentQuota: config.permanentQuota,
    referralReserve: config.referralReserve,
    siteName: config.siteName,
    scanSessionWarmCodes: config.scanSessionWarmCodes,
    webhookUrl: config.webhookUrl,
    webhookSecret: config.webhookSecret,
    metricsToken: config.metricsToken,
    publicMetrics: config.publicMetrics,
    publicDocs: config.publicDocs,
    http: httpLimitsFrom(config),
    streams: { perSession: config.sseStreamsPerSession, perClient: config.sseStreamsPerClient },
  };
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

export async function startService(settings: ServiceSettings, deps: Deps): Promise<RunningService> {
  if (settings.webhookUrl && !settings.webhookSecret) throw new ConfigError([{ key: "WXQR_WEBHOOK_SECRET", message: "is required with WXQR_WEBHOOK_URL" }]);
  const db = openDatabase(settings.database);
  try {
    await migrate(db);
    // The token lives in the database: every instance on it shares one token and one refresh lease.
    const tokenStore = createDatabaseTokenStore(db);
    const client = createWeChatClient({ appId: settings.appId, appSecret: settings.appSecret, apiBase: settings.apiBase, mpBase: settings.mpBase, tokenStore }, deps);
    const receiver = createPushReceiver({
      token: settings.token,
      appId: settings.appId,
      ...(settings.encodingAESKey ? { encodingAESKey: settings.encodingAESKey } : {}),
      now: () => deps.clock.now(),
      random: deps.random,
    });
    const service = await createWxqrService({
      db,
      qrcodes: client.qrcodes,
      wechat: client,
      accountId: settings.appId,
      permanentQuota: settings.permanentQuota,
      ...(settings.referralReserve !== undefined ? { referralPermanentReserve: settings.referralReserve } : {}),
      scanSessions: { siteName: settings.siteName, warmCodes: settings.scanSessionWarmCodes },
      ...(settings.webhookUrl && settings.webhookSecret ? { webhook: { url: settings.webhookUrl, secret: settings.webhookSecret } } : {}),
    }, deps);
    const server = await buildServer({
      service,
      receiver,
      db,
      adminToken: settings.adminToken,
      metricsToken: settings.metricsToken,
      publicMetrics: settings.publicMetrics ?? false,
      publicDocs: settings.publicDocs ?? false,
      ...(settings.http ? { http: settings.http } : {}),
      ...(settings.streams ? { streams: settings.streams } : {}),
      tokenRefreshes: () => client.accessToken.fetchCount,
      logger: settings.logger ?? false,
    });
    await server.app.listen({ host: settings.host, port: settings.port });
    const address = server.app.server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    service.webhook?.start();
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
