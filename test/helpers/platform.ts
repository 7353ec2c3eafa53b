/**
 * Starts the emulator on 127.0.0.1:0 with a manual clock shared by the test, and drives its
 * control endpoints over HTTP, exactly as a user of `wxqr emulator` would.
 */
import { afterEach } from "vitest";
import { createEmulator, type EmulatorOptions } from "../../src/emulator/app.ts";
import { createManualClock, createSeededRandom, type ManualClock } from "../../src/deps.ts";
import { createWeChatClient, type WeChatClientOptions } from "../../src/wechat/client.ts";

export const APP_ID = "wx1234567890abcdef";
export const APP_SECRET = "0123456789abcdef0123456789abcdef";
export const START = Date.UTC(2026, 10, 25, 4, 0, 0);

export interface Platform {
  url: string;
  clock: ManualClock;
  counters(): Promise<Record<string, number>>;
  control(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<unknown>;
  fault(path: string, errcode: number, count: number): Promise<void>;
  revokeTokens(): Promise<void>;
  /** A client wired to this platform and clock. */
  client(options?: Partial<WeChatClientOptions>): ReturnType<typeof createWeChatClient>;
  /** POSTs raw JSON (or any text) to an API path, as a hand-written program would. */
  raw(path: string, body: string, contentType?: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startPlatform(options: Partial<EmulatorOptions> = {}, seed = 1): Promise<Platform> {
  const clock = createManualClock(START);
  const emulator = createEmulator({ appId: APP_ID, appSecret: APP_SECRET, ...options }, { clock, random: createSeededRandom(seed) });
  const url = await emulator.listen({ port: 0, host: "127.0.0.1" });

  async function control(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }

  let clients = 0;
  return {
    url,
    clock,
    control,
    counters: async () => {
      const body = (await control("GET", "/emulator/counters")) as { today: Record<string, number> };
      return body.today;
    },
    fault: async (path, errcode, count) => {
      await control("POST", "/emulator/faults", { path, errcode, count });
    },
    revokeTokens: async () => {
      await control("POST", "/emulator/tokens/revoke");
    },
    client: (clientOptions = {}) =>
      createWeChatClient(
        { appId: APP_ID, appSecret: APP_SECRET, apiBase: url, mpBase: url, ...clientOptions },
        // Each client is its own "process": its own random stream, so its own lease holder id.
        { clock, random: createSeededRandom(seed * 1_000 + ++clients) },
      ),
    raw: async (path, body, contentType = "application/json") => {
      const res = await fetch(`${url}${path}`, { method: "POST", body, headers: { "content-type": contentType } });
      return (await res.json()) as Record<string, unknown>;
    },
    close: () => emulator.close(),
  };
}

/**
 * For a file of tests that each start their own emulator: `start` as `startPlatform`, and the one
 * started closed after each test.
 */
export function platformPerTest(): (options?: Partial<EmulatorOptions>) => Promise<Platform> {
  let platform: Platform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });
  return async (options = {}) => {
    platform = await startPlatform(options);
    return platform;
  };
}
