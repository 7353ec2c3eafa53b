/**
 * Access tokens in the database, so every `wxqr serve` on one database shares one token and one
 * refresh lease (invariant 6). Each operation is a single statement, atomic on both engines:
 * the lease is a conditional UPSERT that takes the row only when no other holder's lease is still
 * running, and expiry is a compare-and-clear.
 *
 * The shape is `TokenStore` of `wechat/token-store.ts`. The store layer may not import `wechat/`
 * (layers: store/ knows only deps.ts, errors.ts and itself), so the interface is restated here
 * under its own name; TypeScript's structural typing makes a `DatabaseTokenStore` a `TokenStore`,
 * and the composition root (`cli/start-service.ts`) passing one to `createWeChatClient` is the
 * compile-time check that the two stay identical.
 * @module
 */
import type { Database } from "./database.ts";

export interface DatabaseStoredToken {
  token: string;
  /** Epoch ms after which callers stop using it. */
  expiresAt: number;
}

export interface DatabaseTokenStore {
  get(key: string): Promise<DatabaseStoredToken | undefined>;
  set(key: string, value: DatabaseStoredToken): Promise<void>;
  /** Clears the stored token only if it is still `token`; true when it did. */
  expireIfEqual(key: string, token: string): Promise<boolean>;
  /** Takes the refresh lease until `until` unless another holder's lease is still valid at `now`. */
  acquireLease(key: string, holder: string, now: number, until: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
}

/**
 * @example
 * const client = createWeChatClient({ appId, appSecret, tokenStore: createDatabaseTokenStore(db) });
 */
export function createDatabaseTokenStore(db: Database): DatabaseTokenStore {
  return {
    async get(key) {
      const row = await db.read((sql) =>
        sql.get<{ token: string; expires_at: number }>("SELECT token, expires_at FROM tokens WHERE token_key = ? AND token IS NOT NULL", [key]),
      );
      return row ? { token: row.token, expiresAt: Number(row.expires_at) } : undefined;
    },
    async set(key, value) {
      await db.transaction((sql) =>
        sql.run(
          `INSERT INTO tokens (token_key, token, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (token_key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
          [key, value.token, value.expiresAt],
        ),
      );
    },
    async expireIfEqual(key, token) {
      const changed = await db.transaction((sql) =>
        sql.run("UPDATE tokens SET token = NULL, expires_at = NULL WHERE token_key = ? AND token = ?", [key, token]),
      );
      return changed > 0;
    },
    async acquireLease(key, holder, now, until) {
      // Inserts the row, or takes it over when its lease is free, ran out, or is already ours;
      // otherwise changes nothing. PostgreSQL locks the conflicting row, SQLite has one writer.
      const changed = await db.transaction((sql) =>
        sql.run(
          `INSERT INTO tokens (token_key, lease_holder, lease_until) VALUES (?, ?, ?)
           ON CONFLICT (token_key) DO UPDATE SET lease_holder = excluded.lease_holder, lease_until = excluded.lease_until
           WHERE tokens.lease_holder IS NULL OR tokens.lease_until <= ? OR tokens.lease_holder = excluded.lease_holder`,
          [key, holder, until, now],
        ),
      );
      return changed > 0;
    },
    async releaseLease(key, holder) {
      await db.transaction((sql) =>
        sql.run("UPDATE tokens SET lease_holder = NULL, lease_until = NULL WHERE token_key = ? AND lease_holder = ?", [key, holder]),
      );
    },
  };
}
