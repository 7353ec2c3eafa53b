/**
 * Where access tokens live. The interface already serves several processes (compare-and-expire,
 * a refresh lease with a deadline); this file has the in-memory implementation, the service
 * adds a database-backed one.
 * @module
 */

export interface StoredToken {
  token: string;
  /** Epoch ms after which callers stop using it (already short of WeChat's own expiry). */
  expiresAt: number;
}

export interface TokenStore {
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, value: StoredToken): Promise<void>;
  /** Removes the stored token only if it is still `token`, so a newer one is never thrown away. */
  expireIfEqual(key: string, token: string): Promise<boolean>;
  /** Takes the refresh lease for `key` until `until`, unless another holder has one that is still valid at `now`. */
  acquireLease(key: string, holder: string, now: number, until: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
  /**
   * Optional: resolves once the token or lease for `key` changes, or at once when no lease is
   * held. Stores that can tell (memory, LISTEN/NOTIFY) save the waiters from polling on the clock.
   */
  waitForChange?(key: string): Promise<void>;
}

/**
 * A `TokenStore` in this process's memory.
 * @example
 * const client = createWeChatClient({ appId, appSecret, tokenStore: createMemoryTokenStore() });
 */
export function createMemoryTokenStore(): TokenStore {
  const tokens = new Map<string, StoredToken>();
  const leases = new Map<string, { holder: string; until: number }>();
  const waiters = new Map<string, Array<() => void>>();
  const changed = (key: string): void => {
    const list = waiters.get(key);
    waiters.delete(key);
    for (const wake of list ?? []) wake();
  };
  return {
    get: async (key) => tokens.get(key),
    set: async (key, value) => {
      tokens.set(key, { ...value });
      changed(key);
    },
    expireIfEqual: async (key, token) => {
      if (tokens.get(key)?.token !== token) return false;
      tokens.delete(key);
      changed(key);
      return true;
    },
    acquireLease: async (key, holder, now, until) => {
      const lease = leases.get(key);
      if (lease && lease.holder !== holder && lease.until > now) return false;
      leases.set(key, { holder, until });
      return true;
    },
    releaseLease: async (key, holder) => {
      if (leases.get(key)?.holder !== holder) return;
      leases.delete(key);
      changed(key);
    },
    // A lease in this process is always released (in a `finally`), so waiting needs no timeout.
    waitForChange: (key) =>
      leases.has(key)
        ? new Promise<void>((resolve) => {
            const list = waiters.get(key) ?? [];
            list.push(resolve);
            waiters.set(key, list);
          })
        : Promise.resolve(),
  };
}
