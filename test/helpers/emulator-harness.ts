/**
 * Starts the emulator on 127.0.0.1:0 with a manual clock and a seeded random source, and
 * talks to it with plain `fetch`, as any HTTP client would (style.md §5: no mocks).
 */
import { createManualClock, createSeededRandom, type ManualClock } from "../../src/deps.ts";
import { createEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/index.ts";

export const APP_ID = "wx0123456789abcdef";
export const APP_SECRET = "0123456789abcdef0123456789abcdef";
/** 2026-01-01 10:00 in Beijing (02:00 UTC): far from a quota-day boundary. */
export const START_MS = Date.UTC(2026, 0, 1, 2, 0, 0);

export type WireBody = Record<string, unknown>;

/** `/emulator/counters` with nothing counted: every counted endpoint, written out so a test pins the shape. */
export const ZERO_COUNTS: Readonly<Record<string, number>> = {
  token: 0,
  stable_token: 0,
  "qrcode/create": 0,
  "media/upload": 0,
  "message/custom/send": 0,
  showqrcode: 0,
  "tags/create": 0,
  "tags/get": 0,
  "tags/update": 0,
  "tags/delete": 0,
  "tags/members/batchtagging": 0,
  "tags/members/batchuntagging": 0,
  "tags/getidlist": 0,
  "user/tag/get": 0,
};

export interface Harness {
  base: string;
  clock: ManualClock;
  emulator: Emulator;
  /** Moves the injected clock (the emulator's clock follows). */
  advanceSeconds(seconds: number): void;
  get(pathAndQuery: string): Promise<Response>;
  post(pathAndQuery: string, body: string, contentType?: string): Promise<Response>;
  /** GET that expects a JSON body (any status). */
  getJson(pathAndQuery: string): Promise<WireBody>;
  /** POST of a JSON value (or raw text) that expects a JSON body (any status). */
  postJson(pathAndQuery: string, body: unknown, contentType?: string): Promise<WireBody>;
  classicToken(): Promise<string>;
  stableToken(forceRefresh?: boolean): Promise<{ token: string; expiresIn: number }>;
  createQr(token: string, body: unknown): Promise<WireBody>;
  control(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<{ status: number; body: WireBody }>;
  close(): Promise<void>;
}

export async function startEmulator(options: Partial<EmulatorOptions> = {}, seed = 7): Promise<Harness> {
  const clock = createManualClock(START_MS);
  const emulator = createEmulator({ appId: APP_ID, appSecret: APP_SECRET, ...options }, { clock, random: createSeededRandom(seed) });
  const base = await emulator.listen({ port: 0 });

  const get = (p: string) => fetch(base + p);
  const post = (p: string, body: string, contentType = "application/json") =>
    fetch(base + p, { method: "POST", body, headers: { "content-type": contentType } });
  const getJson = async (p: string) => (await (await get(p)).json()) as WireBody;
  const postJson = async (p: string, body: unknown, contentType?: string) =>
    (await (await post(p, typeof body === "string" ? body : JSON.stringify(body), contentType)).json()) as WireBody;

  const harness: Harness = {
    base,
    clock,
    emulator,
    advanceSeconds: (s) => clock.advance(s * 1000),
    get,
    post,
    getJson,
    postJson,
    async classicToken() {
      const body = await getJson(`/cgi-bin/token?grant_type=client_credential&appid=${APP_ID}&secret=${APP_SECRET}`);
      if (typeof body["access_token"] !== "string") throw new Error(`no token: ${JSON.stringify(body)}`);
      return body["access_token"];
    },
    async stableToken(forceRefresh = false) {
      const body = await postJson("/cgi-bin/stable_token", {
        grant_type: "client_credential",
        appid: APP_ID,
        secret: APP_SECRET,
        force_refresh: forceRefresh,
      });
      if (typeof body["access_token"] !== "string") throw new Error(`no token: ${JSON.stringify(body)}`);
      return { token: body["access_token"], expiresIn: body["expires_in"] as number };
    },
    createQr: (token, body) => postJson(`/cgi-bin/qrcode/create?access_token=${encodeURIComponent(token)}`, body),
    async control(method, path, body) {
      const res = await fetch(base + path, {
        method,
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } }),
      });
      return { status: res.status, body: (await res.json()) as WireBody };
    },
    close: () => emulator.close(),
  };
  return harness;
}

/** Today's call counts, as tests read them. */
export async function countsToday(h: Harness): Promise<Record<string, number>> {
  const { body } = await h.control("GET", "/emulator/counters");
  return body["today"] as Record<string, number>;
}
