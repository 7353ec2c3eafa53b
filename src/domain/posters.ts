/**
 * Posters (issue #12): an operator's design — a background image, where the code goes and an
 * optional line of text — for the referral campaign (every follower's poster carries their own
 * personal code) or for one channel (its code). A channel without a design of its own uses the
 * campaign's. Rendered posters are cached by (design version, code url): a design's save gives
 * it a new version, so no cached poster outlives the design it was made from.
 * @module
 */
import { createHash } from "node:crypto";
import type { Clock, Random } from "../deps.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { Database } from "../store/database.ts";
import * as posters from "../store/posters.ts";
import type { ChannelService } from "./channels.ts";
import { createPosterCache, type PosterCache } from "./poster-cache.ts";
import { checkLayout, DEFAULT_BACKGROUND_LIMITS, inspectBackground, renderPoster, type BackgroundLimits, type PosterLayout } from "./poster-image.ts";
import type { ReferralService } from "./referrals.ts";

export type PosterTarget = { kind: "referral" } | { kind: "channel"; channelId: string };

export interface PosterOptions extends Partial<BackgroundLimits> {
  /** Rendered posters kept in memory, in bytes (default 64 MiB). */
  cacheBytes?: number;
}

export const DEFAULT_POSTER_CACHE_BYTES = 64 * 1_048_576;

/** A design as listed: everything but the image bytes. */
export interface PosterInfo extends PosterLayout {
  target: PosterTarget;
  version: string;
  backgroundType: string;
  width: number;
  height: number;
  updatedAt: number;
}

export interface PosterInput extends PosterLayout {
  /** The image file's bytes; may be left out to keep the design's current background. */
  background?: Buffer | undefined;
}

export interface RenderedPoster {
  /** null when the caller's `ifNoneMatch` names this poster already. */
  png: Buffer | null;
  /** Names this exact poster: the design's version and the code. */
  etag: string;
  /** True when served from the in-memory cache. */
  cached: boolean;
}

export interface PosterService {
  readonly limits: Readonly<BackgroundLimits>;
  save(target: PosterTarget, input: PosterInput): Promise<PosterInfo>;
  list(): Promise<PosterInfo[]>;
  background(target: PosterTarget): Promise<{ bytes: Buffer; type: string; version: string }>;
  /** @throws NotFoundError when the target has no design. */
  remove(target: PosterTarget): Promise<void>;
  /**
   * The campaign's poster with the follower's personal code (made now if they have none).
   * `ifNoneMatch`: an `If-None-Match` header; when it names this poster, nothing is rendered.
   */
  referralPoster(openId: string, ifNoneMatch?: string): Promise<RenderedPoster>;
  /** The channel's poster (its own design, else the campaign's) with the channel's code. */
  channelPoster(channelId: string, ifNoneMatch?: string): Promise<RenderedPoster>;
  /**
   * The target's own design with a sample code in place of anyone's (no follower's code is made
   * for a preview), for the dashboard.
   */
  preview(target: PosterTarget, ifNoneMatch?: string): Promise<RenderedPoster>;
  /** The rendered posters kept in memory. */
  readonly cache: Pick<PosterCache, "bytes" | "size">;
}

export interface PosterServiceDeps {
  db: Database;
  accountId: string;
  referrals: ReferralService;
  channels: ChannelService;
  clock: Clock;
  random: Random;
}

const REFERRAL_TARGET = "referral";
/** What a preview's code holds: a url of the platform's shape that belongs to no code. */
export const PREVIEW_CODE_URL = "http://weixin.qq.com/q/wxqr-poster-preview";

function targetKey(target: PosterTarget): string {
  return target.kind === "referral" ? REFERRAL_TARGET : `channel:${target.channelId}`;
}

function targetOf(key: string): PosterTarget {
  return key === REFERRAL_TARGET ? { kind: "referral" } : { kind: "channel", channelId: key.slice("channel:".length) };
}

function targetName(target: PosterTarget): string {
  return target.kind === "referral" ? "the referral campaign" : `channel ${target.channelId}`;
}

function infoOf(row: posters.PosterMetaRow): PosterInfo {
  return {
    target: targetOf(row.target),
    version: row.version,
    backgroundType: row.backgroundType,
    width: row.width,
    height: row.height,
    qr: row.qr,
    text: row.text,
    updatedAt: row.updatedAt,
  };
}

/** A short strong validator for one poster (RFC 9110 §8.8.3). */
function etagFor(version: string, codeUrl: string): string {
  return `"${createHash("sha256").update(`${version}\n${codeUrl}`).digest("base64url").slice(0, 27)}"`;
}

/**
 * @example
 * const posters = createPosterService({ maxBytes: 5 * 1_048_576 }, { db, accountId, referrals, channels, clock, random });
 * await posters.save({ kind: "referral" }, { background: await readFile("spring.jpg"), qr: { x: 700, y: 1500, sizePx: 300 }, text: null });
 * const { png, etag, cached } = await posters.referralPoster("oFollower");
 */
export function createPosterService(options: PosterOptions, deps: PosterServiceDeps): PosterService {
  const { db, accountId, clock, random } = deps;
  const limits: BackgroundLimits = {
    maxBytes: options.maxBytes ?? DEFAULT_BACKGROUND_LIMITS.maxBytes,
    maxSidePx: options.maxSidePx ?? DEFAULT_BACKGROUND_LIMITS.maxSidePx,
  };
  const cache = createPosterCache({ maxBytes: options.cacheBytes ?? DEFAULT_POSTER_CACHE_BYTES });
  // Concurrent first requests for one poster render it once.
  const rendering = new Map<string, Promise<Buffer>>();

  async function existingChannel(target: PosterTarget): Promise<void> {
    if (target.kind === "channel") await deps.channels.get(target.channelId);
  }

  async function render(meta: posters.PosterMetaRow, codeUrl: string, ifNoneMatch: string | undefined): Promise<RenderedPoster> {
    const key = `${meta.version}\n${codeUrl}`;
    const etag = etagFor(meta.version, codeUrl);
    if (ifNoneMatch !== undefined && ifNoneMatch.split(",").some((tag) => tag.trim() === etag)) return { png: null, etag, cached: false };
    const hit = cache.get(key);
    if (hit) return { png: hit, etag, cached: true };
    let pending = rendering.get(key);
    if (!pending) {
      pending = renderAndKeep(meta, key, codeUrl).finally(() => rendering.delete(key));
      rendering.set(key, pending);
    }
    return { png: await pending, etag, cached: false };
  }

  async function renderAndKeep(meta: posters.PosterMetaRow, key: string, codeUrl: string): Promise<Buffer> {
    const design = await db.read((sql) => posters.getPoster(sql, accountId, meta.target));
    if (!design) throw new NotFoundError(`no poster design for ${targetName(targetOf(meta.target))}`);
    const png = await renderPoster(design, codeUrl);
    // Saved again since `meta` was read: this is the newer design's poster, not the version's in `key`.
    if (design.version === meta.version) cache.set(key, png);
    return png;
  }

  async function designFor(targets: readonly PosterTarget[]): Promise<posters.PosterMetaRow> {
    const found = await db.read(async (sql) => {
      for (const t of targets) {
        const meta = await posters.getPosterMeta(sql, accountId, targetKey(t));
        if (meta) return meta;
      }
      return undefined;
    });
    if (!found) throw new NotFoundError(`no poster design for ${targets.map(targetName).join(" or ")}: PUT /api/posters/referral first`);
    return found;
  }

  return {
    limits,
    cache,
    async save(target, input) {
      await existingChannel(target);
      const key = targetKey(target);
      let image: { bytes: Buffer; type: string; width: number; height: number };
      if (input.background) {
        const inspected = await inspectBackground(input.background, limits);
        image = { bytes: input.background, ...inspected };
      } else {
        const current = await db.read((sql) => posters.getPoster(sql, accountId, key));
        if (!current) throw new ValidationError("background", "is required for a new design");
        image = { bytes: current.background, type: current.backgroundType, width: current.width, height: current.height };
      }
      const layout: PosterLayout = { qr: input.qr, text: input.text ?? null };
      checkLayout(layout, image.width, image.height);
      const row: posters.PosterRow = {
        accountId,
        target: key,
        version: random.uuid(),
        background: image.bytes,
        backgroundType: image.type,
        width: image.width,
        height: image.height,
        qr: layout.qr,
        text: layout.text,
        updatedAt: clock.now(),
      };
      const previous = await db.transaction(async (sql) => {
        const before = await posters.getPosterMeta(sql, accountId, key);
        await posters.upsertPoster(sql, row);
        return before;
      });
      if (previous) cache.dropPrefix(`${previous.version}\n`);
      return infoOf(row);
    },
    async list() {
      return (await db.read((sql) => posters.listPosters(sql, accountId))).map(infoOf);
    },
    async background(target) {
      const row = await db.read((sql) => posters.getPoster(sql, accountId, targetKey(target)));
      if (!row) throw new NotFoundError(`no poster design for ${targetName(target)}`);
      return { bytes: row.background, type: row.backgroundType, version: row.version };
    },
    async remove(target) {
      const key = targetKey(target);
      const previous = await db.transaction(async (sql) => {
        const before = await posters.getPosterMeta(sql, accountId, key);
        if (before) await posters.deletePoster(sql, accountId, key);
        return before;
      });
      if (!previous) throw new NotFoundError(`no poster design for ${targetName(target)}`);
      cache.dropPrefix(`${previous.version}\n`);
    },
    async referralPoster(openId, ifNoneMatch) {
      const meta = await designFor([{ kind: "referral" }]);
      const code = await deps.referrals.codeFor(openId);
      return render(meta, code.url!, ifNoneMatch);
    },
    async preview(target, ifNoneMatch) {
      await existingChannel(target);
      return render(await designFor([target]), PREVIEW_CODE_URL, ifNoneMatch);
    },
    async channelPoster(channelId, ifNoneMatch) {
      const channel = await deps.channels.get(channelId);
      const meta = await designFor([{ kind: "channel", channelId }, { kind: "referral" }]);
      return render(meta, channel.qrcode.url!, ifNoneMatch);
    },
  };
}
