/**
 * Several `wxqr serve` processes (the built binary, system clock) on one PostgreSQL database,
 * each connecting under an `application_name` of its own so a test can find, and terminate,
 * exactly its backends; and WeChat's safe-mode pushes for them, built as the platform builds them.
 */
import pg from "pg";
import type { Random } from "../../src/deps.ts";
import { buildEventXml, buildPushBody, generateNonce, signPushQuery, type EventPush } from "../../src/emulator/push-message.ts";
import { startCli, type LongRunning } from "./cli.ts";
import { ADMIN_TOKEN, AES_KEY, PUSH_TOKEN, SERVICE_APP_ID, SERVICE_APP_SECRET } from "./service.ts";

export const ACCOUNT_ORIGINAL_ID = "gh_0123456789ab";
/** Each push request gives up after this long: WeChat's own deadline. */
const PUSH_TIMEOUT_MS = 5_000;

export interface ServeInstance {
  name: string;
  url: string;
  process: LongRunning;
  /** A JSON request with the admin token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** `/healthz`: its status and body. */
  health(): Promise<{ status: number; body: unknown }>;
}

/** The database URL with an `application_name` (and, when given, a search path) of the caller's. */
export function databaseUrlFor(url: string, applicationName: string, schema?: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", applicationName);
  if (schema) u.searchParams.set("options", `-c search_path=${schema}`);
  return u.toString();
}

/** Starts `wxqr serve` on 127.0.0.1:0 and waits until it listens. */
export async function startServeInstance(o: { name: string; databaseUrl: string; schema: string; wechatBase: string }): Promise<ServeInstance> {
  const running = await startCli(["serve"], /wxqr serving on (http:\/\/\S+) /, {
    WECHAT_APP_ID: SERVICE_APP_ID,
    WECHAT_APP_SECRET: SERVICE_APP_SECRET,
    WECHAT_TOKEN: PUSH_TOKEN,
    WECHAT_ENCODING_AES_KEY: AES_KEY,
    WECHAT_API_BASE: o.wechatBase,
    WECHAT_MP_BASE: o.wechatBase,
    WXQR_DATABASE: databaseUrlFor(o.databaseUrl, o.name, o.schema),
    WXQR_ADMIN_TOKEN: ADMIN_TOKEN,
    WXQR_HOST: "127.0.0.1",
    WXQR_PORT: "0",
  });
  const url = running.match[1]!;
  const json = async (res: Response): Promise<{ status: number; body: unknown }> => ({ status: res.status, body: await res.json().catch(() => undefined) });
  return {
    name: o.name,
    url,
    process: running,
    api: async (method, path, body) =>
      json(
        await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(10_000),
        }),
      ),
    health: async () => json(await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })),
  };
}

export interface SafePush {
  /** FromUserName|CreateTime|Event|EventKey: the push log's dedupe key. */
  dedupeKey: string;
  query: string;
  body: string;
}

/** One event push in safe mode, signed and encrypted; `random` gives its nonce and its 16 random bytes. */
export function safePush(push: Omit<EventPush, "originalId">, random: Random): SafePush {
  const xml = buildEventXml({ ...push, originalId: ACCOUNT_ORIGINAL_ID });
  const { body, encrypt } = buildPushBody({
    mode: "safe",
    encodingAESKey: AES_KEY,
    appId: SERVICE_APP_ID,
    originalId: ACCOUNT_ORIGINAL_ID,
    xml,
    random16: random.bytes(16),
  });
  const query = signPushQuery({ token: PUSH_TOKEN, timestamp: String(push.createTimeSec), nonce: generateNonce(random), openId: push.openId, encrypt });
  return { dedupeKey: `${push.openId}|${push.createTimeSec}|${push.event}|${push.eventKey}`, query, body };
}

/** POSTs a push to an instance's `/wechat`; the HTTP status, or 0 when no answer came in WeChat's 5 s. */
export async function sendPush(instance: ServeInstance, push: SafePush): Promise<number> {
  try {
    const res = await fetch(`${instance.url}/wechat?${push.query}`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: push.body,
      signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Runs `work` on every item with at most `limit` in flight; resolves when all are done. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Terminates every backend whose application_name is one of `names`; how many it terminated. */
export async function terminateBackends(adminUrl: string, names: readonly string[]): Promise<number> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const r = await admin.query<{ terminated: boolean }>(
      "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = ANY($1::text[]) AND pid <> pg_backend_pid()",
      [names],
    );
    return r.rows.filter((row) => row.terminated).length;
  } finally {
    await admin.end();
  }
}
