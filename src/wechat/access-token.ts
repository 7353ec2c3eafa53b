/**
 * Access tokens: fetched once per expiry per store (single-flight in this process, a lease
 * across processes), and after a rejection expired only if the store still holds the token
 * that failed (design.md, Decisions; invariant 6).
 * @module
 */
import type { Clock, Logger, Random } from "../deps.ts";
import { NetworkError } from "../errors.ts";
import { requestJson, withRetries, type RetryPolicy, type Transport } from "./request.ts";
import type { StoredToken, TokenStore } from "./token-store.ts";
import type { WireAccessToken } from "./wire.ts";

// force_refresh=true is allowed 20 times a day, at least 30 s apart (wechat-api.md §7).
const FORCE_REFRESH_PER_DAY = 20;
const FORCE_REFRESH_GAP_MS = 30_000;
const DAY_MS = 86_400_000;
const LEASE_POLL_MS = 50;

/**
 * How long one holder may spend refreshing before another may take over: the whole retry budget
 * of a refresh (every attempt timing out, the longest backoffs), twice, for the forced second
 * request. A shorter lease would let a second process refresh while the first is still waiting,
 * and the slower one's older token could then overwrite the newer.
 */
export function refreshLeaseMs(transport: Pick<Transport, "timeoutMs">, retry: RetryPolicy): number {
  return 2 * retry.maxAttempts * (transport.timeoutMs + retry.maxDelayMs);
}
// Remember a few rejected tokens: a stable_token answer that hands one back must be forced.
const REJECTED_MEMORY = 8;

export interface AccessTokenOptions {
  appId: string;
  appSecret: string;
  useStableToken: boolean;
  store: TokenStore;
  transport: Transport;
  retry: RetryPolicy;
}

export interface AccessTokenManager {
  /** A token valid now: from the store, or fetched (once, however many callers wait). */
  get(): Promise<string>;
  /** Reports that WeChat rejected `token`; the next `get` fetches a new one unless someone already did. */
  reject(token: string): Promise<void>;
  /** Token requests this manager has sent (for metrics). */
  readonly fetchCount: number;
}

/** Refresh a little before WeChat's expiry: 10 % of the lifetime, at most a minute. */
export function usableUntil(fetchedAt: number, expiresInSec: number): number {
  const lifetimeMs = expiresInSec * 1000;
  return fetchedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 10);
}

export function createAccessTokenManager(options: AccessTokenOptions, deps: { clock: Clock; random: Random; logger: Logger }): AccessTokenManager {
  const { appId, appSecret, useStableToken, store } = options;
  const { clock, logger } = deps;
  // Stable and classic tokens are separate on the platform; keep them apart in the store too.
  const key = `${appId}:${useStableToken ? "stable" : "classic"}`;
  const holder = deps.random.uuid();
  const leaseMs = refreshLeaseMs(options.transport, options.retry);
  const rejected: string[] = [];
  const forcedAt: number[] = [];
  let inflight: Promise<string> | undefined;
  let fetchCount = 0;

  const usable = (t: StoredToken | undefined): t is StoredToken => t !== undefined && clock.now() < t.expiresAt && !rejected.includes(t.token);

  async function get(): Promise<string> {
    const cached = await store.get(key);
    if (usable(cached)) return cached.token;
    inflight ??= refresh().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function refresh(): Promise<string> {
    const giveUpAt = clock.now() + 2 * leaseMs;
    for (;;) {
      const cached = await store.get(key);
      if (usable(cached)) return cached.token;
      if (await store.acquireLease(key, holder, clock.now(), clock.now() + leaseMs)) {
        try {
          const again = await store.get(key);
          if (usable(again)) return again.token;
          const fresh = await withRetries(options.retry, deps, fetchToken);
          await store.set(key, fresh);
          return fresh.token;
        } finally {
          await store.releaseLease(key, holder);
        }
      }
      if (clock.now() > giveUpAt) throw new NetworkError(tokenPath(), "timed out waiting for another process to refresh the access token");
      if (store.waitForChange) await store.waitForChange(key);
      else await clock.sleep(LEASE_POLL_MS);
    }
  }

  function tokenPath(): string {
    return useStableToken ? "/cgi-bin/stable_token" : "/cgi-bin/token";
  }

  async function fetchToken(): Promise<StoredToken> {
    const fetchedAt = clock.now();
    let wire = await requestToken(false);
    if (useStableToken && rejected.includes(wire.access_token) && mayForceRefresh(fetchedAt)) {
      // The platform still hands out the token it just rejected: only a forced refresh helps.
      forcedAt.push(fetchedAt);
      wire = await requestToken(true);
    }
    // Accept whatever we were given now; if it fails again, the caller gets a typed error instead of a loop.
    forget(wire.access_token);
    logger.info({ appId, kind: useStableToken ? "stable" : "classic", expiresIn: wire.expires_in }, "access token refreshed");
    return { token: wire.access_token, expiresAt: usableUntil(fetchedAt, wire.expires_in) };
  }

  async function requestToken(forceRefresh: boolean): Promise<WireAccessToken> {
    fetchCount++;
    const wire = useStableToken
      ? await requestJson<WireAccessToken>(options.transport, {
          method: "POST",
          path: "/cgi-bin/stable_token",
          json: { grant_type: "client_credential", appid: appId, secret: appSecret, force_refresh: forceRefresh },
          tokenEndpoint: true,
        })
      : await requestJson<WireAccessToken>(options.transport, {
          method: "GET",
          path: "/cgi-bin/token",
          query: { grant_type: "client_credential", appid: appId, secret: appSecret },
          tokenEndpoint: true,
        });
    if (typeof wire.access_token !== "string" || wire.access_token === "" || typeof wire.expires_in !== "number" || wire.expires_in <= 0) {
      throw new NetworkError(tokenPath(), "answer has no access_token/expires_in");
    }
    return wire;
  }

  function mayForceRefresh(now: number): boolean {
    while (forcedAt.length > 0 && forcedAt[0]! <= now - DAY_MS) forcedAt.shift();
    const last = forcedAt[forcedAt.length - 1];
    return forcedAt.length < FORCE_REFRESH_PER_DAY && (last === undefined || now - last >= FORCE_REFRESH_GAP_MS);
  }

  function forget(token: string): void {
    const i = rejected.indexOf(token);
    if (i >= 0) rejected.splice(i, 1);
  }

  async function reject(token: string): Promise<void> {
    if (!rejected.includes(token)) rejected.push(token);
    if (rejected.length > REJECTED_MEMORY) rejected.shift();
    await store.expireIfEqual(key, token);
  }

  return {
    get,
    reject,
    get fetchCount() {
      return fetchCount;
    },
  };
}
