/** Wires the real service together: database, WeChat client, push receiver, domain, HTTP server. */
import type { Config } from "../config.ts";
import type { Deps } from "../deps.ts";
import { createWxqrService, type WxqrService } from "../domain/index.ts";
import { createPushReceiver } from "../push/index.ts";
import { buildServer, closeServer, type Server } from "../server/app.ts";
import { openDatabase } from "../store/index.ts";
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
  };
}

export async function startService(settings: ServiceSettings, deps: Deps): Promise<RunningService> {
  const db = openDatabase(settings.database);
  try {
    const client = createWeChatClient({ appId: settings.appId, appSecret: settings.appSecret, apiBase: settings.apiBase, mpBase: settings.mpBase }, deps);
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
      accountId: settings.appId,
      permanentQuota: settings.permanentQuota,
      clock: deps.clock,
      random: deps.random,
      logger: deps.logger,
    });
    const server = await buildServer({
      service,
      receiver,
      db,
      adminToken: settings.adminToken,
      tokenRefreshes: () => client.accessToken.fetchCount,
      logger: settings.logger ?? false,
    });
    await server.app.listen({ host: settings.host, port: settings.port });
    const address = server.app.server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    return { url: `http://${settings.host}:${port}`, service, server, close: () => closeServer(server, service, db) };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
