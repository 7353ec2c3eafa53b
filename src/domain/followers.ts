/**
 * Followers as wxqr knows them, with who invited them and whom they invited, and the import of
 * the account's existing followers (`/cgi-bin/user/get`). "New follower" means never seen by
 * wxqr (design.md, Decisions); an import makes that "new to the account": the people who
 * followed before wxqr was installed are recorded (flagged `imported`), so they never count as
 * new followers or referrals.
 * @module
 */
import type { Clock } from "../deps.ts";
import { ConfigError, NetworkError, NotFoundError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import * as followersStore from "../store/followers.ts";
import * as referrals from "../store/referrals.ts";
import type { CallOptions } from "../wechat/client.ts";
import { fetchFollowerPage, USER_GET_PATH } from "../wechat/user-list.ts";
import { checkOpenId } from "./referrals.ts";

/**
 * `new-to-wxqr` until an import has run (someone who followed before wxqr was installed and
 * first scans now counts as new); `new-to-account` after.
 */
export type NewMeans = "new-to-wxqr" | "new-to-account";

export interface FollowerView {
  openId: string;
  subscribed: boolean;
  /** The code that first brought them, when wxqr saw it; null otherwise. */
  source: string | null;
  inviter: string | null;
  /** Whom they brought, in the order they came. */
  invitees: string[];
  /** Listed by the platform at an import before wxqr saw them. */
  imported: boolean;
  newMeans: NewMeans;
}

export interface FollowerImportResult {
  /** Listed followers wxqr did not know, now recorded. */
  imported: number;
  /** Listed followers wxqr already knew (left as they were). */
  alreadyKnown: number;
  /** The platform's count of followers. */
  total: number;
  /** `user/get` requests made. */
  pages: number;
  /** Epoch ms. */
  importedAt: number;
  newMeans: NewMeans;
}

/** The WeChat client's generic call (token handling and retries included). */
export type WeChatCall = <T>(path: string, options?: CallOptions) => Promise<T>;

export interface FollowerService {
  get(openId: string): Promise<FollowerView>;
  /** Pages through the platform's follower list and records every follower wxqr does not know. */
  importFromPlatform(): Promise<FollowerImportResult>;
  newMeans(): Promise<NewMeans>;
}

/** Far more pages than 10,000 a page could need for any account; a list that does not end is a platform fault. */
const MAX_PAGES = 100_000;

export function createFollowerService(deps: { db: Database; accountId: string; call?: WeChatCall | undefined; clock: Clock }): FollowerService {
  const { db, accountId, clock } = deps;

  async function newMeans(): Promise<NewMeans> {
    return (await db.read((sql) => referrals.getFollowersImportedAt(sql, accountId))) === null ? "new-to-wxqr" : "new-to-account";
  }

  return {
    newMeans,
    async get(openId) {
      checkOpenId(openId);
      const view = await db.read(async (sql) => {
        const follower = await followersStore.getFollower(sql, accountId, openId);
        if (!follower) return undefined;
        return {
          openId,
          subscribed: follower.subscribed,
          source: follower.sourceQrcodeId,
          inviter: (await referrals.getInviter(sql, accountId, openId)) ?? null,
          invitees: await referrals.listInvitees(sql, accountId, openId),
          imported: await referrals.isImportedFollower(sql, accountId, openId),
          importedAt: await referrals.getFollowersImportedAt(sql, accountId),
        };
      });
      if (!view) throw new NotFoundError(`no follower ${openId}`);
      const { importedAt, ...rest } = view;
      return { ...rest, newMeans: importedAt === null ? "new-to-wxqr" : "new-to-account" };
    },
    async importFromPlatform() {
      const call = deps.call;
      if (!call) throw new ConfigError([{ key: "WECHAT_APP_SECRET", message: "is required to import followers" }]);
      let next: string | undefined;
      let pages = 0;
      let listed = 0;
      let imported = 0;
      let total = 0;
      for (;;) {
        if (pages >= MAX_PAGES) throw new NetworkError(USER_GET_PATH, `the follower list did not end after ${MAX_PAGES} pages`);
        const page = await fetchFollowerPage(call, next);
        pages += 1;
        total = page.total;
        if (page.openIds.length > 0) {
          const ids = page.openIds;
          imported += await db.transaction((sql) => referrals.importFollowers(sql, accountId, ids, clock.now()));
          listed += ids.length;
        }
        if (page.nextOpenId === undefined) break;
        if (page.nextOpenId === next) throw new NetworkError(USER_GET_PATH, "next_openid did not advance");
        next = page.nextOpenId;
      }
      const importedAt = clock.now();
      await db.transaction((sql) => referrals.setFollowersImportedAt(sql, accountId, importedAt));
      return { imported, alreadyKnown: listed - imported, total, pages, importedAt, newMeans: "new-to-account" };
    },
  };
}
