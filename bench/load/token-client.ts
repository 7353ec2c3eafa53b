/**
 * An API client at token expiry, in a process of its own (started by bench/sections/token.ts):
 *
 * - `wxqr`: `createWeChatClient` with the database token store (`store/token-store.ts`) on the
 *   given database, as `wxqr serve` builds it; every process on that database shares one token
 *   and one refresh lease;
 * - `co-wechat-api`: the peer, with its in-memory token (its default, one process) or with the
 *   getToken/saveToken hooks of its README reading and writing one JSON file (several processes).
 *   It hard-codes `https://api.weixin.qq.com/cgi-bin/` in the instance's `prefix`; the only shim
 *   is setting that property to the emulator's `/cgi-bin/` after construction.
 *
 * Messages: `{ type: "expire" }` makes the stored token one that ran out a moment ago (answers
 * `{ type: "expired", had }`); `{ type: "go", calls, tag }` sends that many temporary-code
 * requests at once and answers `{ type: "done", ok, failed, firstError }`; `{ type: "close" }`.
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as StoreModule from "../../src/store/index.ts";
import type * as TokenStoreModule from "../../src/store/token-store.ts";
import type * as WeChatModule from "../../src/wechat/index.ts";
import { childConfig, fail, serveParent, toParent, type IpcMessage } from "./child.ts";

export type TokenClientConfig = {
  apiBase: string;
  appId: string;
  appSecret: string;
} & (
  | { kind: "wxqr"; impl: "dist" | "src"; root: string; database: string }
  | { kind: "co-wechat-api"; peersDir: string; /** Shared JSON file for the README's hooks; memory when absent. */ tokenFile?: string }
);

export interface TokenClientDone {
  type: "done";
  ok: number;
  failed: number;
  firstError?: string;
}

/** What the section needs of either client. */
interface Subject {
  call(i: number, tag: string): Promise<unknown>;
  /** Replaces the stored token by the same one, expired; false when nothing was stored. */
  expire(): Promise<boolean>;
  close(): Promise<void>;
}

const TEMPORARY_SECONDS = 1_800;
const config = childConfig<TokenClientConfig>();

async function wxqrSubject(c: Extract<TokenClientConfig, { kind: "wxqr" }>): Promise<Subject> {
  const load = async <T>(dist: string, src: string): Promise<T> => (await import(pathToFileURL(join(c.root, c.impl === "dist" ? dist : src)).href)) as T;
  const wechat = await load<typeof WeChatModule>("dist/wechat/index.js", "src/wechat/index.ts");
  const store = await load<typeof StoreModule>("dist/store/index.js", "src/store/index.ts");
  const tokens = await load<typeof TokenStoreModule>("dist/store/token-store.js", "src/store/token-store.ts");
  const db = store.openDatabase(c.database);
  const tokenStore = tokens.createDatabaseTokenStore(db);
  const client = wechat.createWeChatClient({ appId: c.appId, appSecret: c.appSecret, apiBase: c.apiBase, tokenStore });
  // The key access-token.ts uses for stable tokens (the client's default).
  const key = `${c.appId}:stable`;
  return {
    call: (i, tag) => client.qrcodes.createTemporary({ sceneStr: `${tag}-${i}`, expireSeconds: TEMPORARY_SECONDS }),
    async expire() {
      const current = await tokenStore.get(key);
      if (current === undefined) return false;
      await tokenStore.set(key, { token: current.token, expiresAt: Date.now() - 1 });
      return true;
    },
    close: () => db.close(),
  };
}

interface CoToken {
  accessToken: string;
  expireTime: number;
}
// The peer ships no types: only what is used here.
interface CoWechatApi {
  prefix: string;
  store?: CoToken | null;
  createTmpQRCode(sceneId: number | string, expire: number): Promise<unknown>;
}
type CoWechatApiClass = new (
  appid: string,
  secret: string,
  getToken?: () => Promise<CoToken | null>,
  saveToken?: (token: CoToken | null) => Promise<void>,
) => CoWechatApi;

async function coWechatApiSubject(c: Extract<TokenClientConfig, { kind: "co-wechat-api" }>): Promise<Subject> {
  const API = createRequire(join(c.peersDir, "package.json"))("co-wechat-api") as CoWechatApiClass;
  const file = c.tokenFile;
  // The README's multi-process example, verbatim but for one guard: a read that meets another
  // process's half-written file counts as "no token" instead of failing the call.
  const readToken = async (): Promise<CoToken | null> => {
    try {
      return JSON.parse(await readFile(file!, "utf8")) as CoToken | null;
    } catch {
      return null;
    }
  };
  const api =
    file === undefined ? new API(c.appId, c.appSecret) : new API(c.appId, c.appSecret, readToken, async (token) => writeFile(file, JSON.stringify(token)));
  api.prefix = `${c.apiBase}/cgi-bin/`;
  return {
    call: (i, tag) => api.createTmpQRCode(`${tag}-${i}`, TEMPORARY_SECONDS),
    async expire() {
      const current = file === undefined ? api.store : await readToken();
      if (!current) return false;
      const expired = { accessToken: current.accessToken, expireTime: Date.now() - 1 };
      if (file === undefined) api.store = expired;
      else await writeFile(file, JSON.stringify(expired));
      return true;
    },
    close: async () => {},
  };
}

const subject = config.kind === "wxqr" ? await wxqrSubject(config) : await coWechatApiSubject(config);

serveParent(async (m: IpcMessage) => {
  if (m.type === "expire") {
    await toParent({ type: "expired", had: await subject.expire() });
  } else if (m.type === "go") {
    const calls = Number(m.calls);
    const tag = String(m.tag);
    const settled = await Promise.allSettled(Array.from({ length: calls }, (_, i) => subject.call(i, tag)));
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    const first = failures[0]?.reason as unknown;
    await toParent<TokenClientDone>({
      type: "done",
      ok: calls - failures.length,
      failed: failures.length,
      ...(first === undefined ? {} : { firstError: first instanceof Error ? `${first.name}: ${first.message}` : String(first) }),
    });
  } else if (m.type === "close") {
    await subject.close();
    process.exit(0);
  }
});
await toParent({ type: "ready" });
process.on("uncaughtException", fail);
