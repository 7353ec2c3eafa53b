/**
 * Temporary channels (issue #13): a channel's code spec, the renewal of a renewing channel's
 * temporary code, and the code its stable public image link serves.
 *
 * A renewing channel gets a new code when its current one has `renewalLeadMs` left; the older
 * codes stay in `qrcodes` with the channel as owner, so their scans keep counting for it
 * (`channel-hooks.ts` attributes a scan by the code's owner) until they expire. The switch is
 * conditional on the channel still having the old code: of two instances renewing at once, one
 * switches and the other has spent one free temporary code, nothing more.
 * @module
 */
import type { Clock, Logger, Random } from "../deps.ts";
import { ChannelCodeExpiredError, ChannelCodeRenewalError, NotFoundError, ValidationError } from "../errors.ts";
import * as channels from "../store/channels.ts";
import type { Database } from "../store/database.ts";
import type { CodeService, QrCodeRow } from "./codes.ts";

export type CodeSpec = { type: "permanent" } | { type: "temporary"; days: number; renew: boolean };

/**
 * What `POST`/`PATCH /api/channels` take as `code`, checked by `checkCodeSpec`: `days` only for a
 * temporary one; `renew` defaults to false (on a change: to the channel's own).
 */
export type CodeSpecInput = { type: "permanent" | "temporary"; days?: number; renew?: boolean };

export const CODE_DAYS_MIN = 1;
/** The platform's longest temporary code. */
export const CODE_DAYS_MAX = 30;
const DAY_MS = 86_400_000;
/** A renewal round takes at most this many channels; a full round runs the next at once. */
const ROUND_MAX = 100;
/** The image link's `Retry-After` while a renewal keeps failing; the loop's poll is about as long. */
export const RENEWAL_RETRY_MS = 60_000;

export const channelLabel = (name: string): string => `channel: ${name}`;

export function checkCodeSpec(input: unknown, current?: CodeSpec): CodeSpec {
  if (typeof input !== "object" || input === null) throw new ValidationError("code", 'must be {type: "permanent"} or {type: "temporary", days, renew?}');
  const { type, days, renew } = input as Record<string, unknown>;
  if (type === "permanent") {
    if (days !== undefined) throw new ValidationError("code.days", "a permanent code does not expire");
    if (renew !== undefined) throw new ValidationError("code.renew", "a permanent code does not renew");
    return { type };
  }
  if (type !== "temporary") throw new ValidationError("code.type", 'must be "permanent" or "temporary"');
  if (typeof days !== "number" || !Number.isInteger(days) || days < CODE_DAYS_MIN || days > CODE_DAYS_MAX) {
    throw new ValidationError("code.days", `must be a whole number from ${CODE_DAYS_MIN} to ${CODE_DAYS_MAX}`);
  }
  if (renew !== undefined && typeof renew !== "boolean") throw new ValidationError("code.renew", "must be true or false");
  return { type, days, renew: renew ?? (current?.type === "temporary" ? current.renew : false) };
}

export function specOf(channel: Pick<channels.ChannelRow, "codeDays" | "codeRenew">): CodeSpec {
  return channel.codeDays == null ? { type: "permanent" } : { type: "temporary", days: channel.codeDays, renew: channel.codeRenew ?? false };
}

export const sameSpec = (a: CodeSpec, b: CodeSpec): boolean =>
  a.type === b.type && (a.type === "permanent" || (b.type === "temporary" && a.days === b.days && a.renew === b.renew));

/**
 * How long before its expiry a code is replaced: a day, so that a code printed or cached just
 * before the switch still works for a day; a 1-day code at half its life instead (12 h), as a
 * day's lead would replace it the moment it was created.
 */
export const renewalLeadMs = (days: number): number => (days === 1 ? DAY_MS / 2 : DAY_MS);

/** When `code` falls due for renewal under `spec`; null: never (permanent, or not renewing). */
export function renewalPoint(spec: CodeSpec, code: Pick<QrCodeRow, "expiresAt">): number | null {
  if (spec.type !== "temporary" || !spec.renew || code.expiresAt === null) return null;
  return code.expiresAt - renewalLeadMs(spec.days);
}

/** `codes.create`'s input for a channel's next code. */
export function channelCodeInput(spec: CodeSpec, channel: { id: string; name: string }) {
  const owner = { kind: "channel" as const, id: channel.id };
  return spec.type === "permanent"
    ? { type: "permanent" as const, label: channelLabel(channel.name), owner }
    : { type: "temporary" as const, expireSeconds: (spec.days * DAY_MS) / 1000, label: channelLabel(channel.name), owner };
}

/** 128 random bits, URL-safe: the path of a channel's public image link. */
export function newImageToken(random: Random): string {
  return Buffer.from(random.bytes(16)).toString("base64url");
}

export const imageLinkPath = (token: string, format: "png" | "svg" = "png"): string => `/c/${token}.${format}`;

export interface ImageLinkCode {
  code: QrCodeRow;
  /** When what the link serves may change next (a renewal or the code's expiry); null: never. */
  changesAt: number | null;
}

export type RenewalOutcome = "renewed" | "lost-race" | "failed";

export interface ChannelCodeRenewer {
  /** Renews the channel's code if due now; true when this call switched it. Concurrent calls for one channel share one renewal. */
  renewIfDue(channelId: string): Promise<boolean>;
  /** Renews the due channels (unarchived, at most a round's worth): how many this round switched. */
  round(): Promise<{ attempted: number; due: number; failed: number }>;
  /** The code a public image link serves now, renewed first if due; refuses an expired one. */
  imageLinkCode(token: string): Promise<ImageLinkCode>;
  /** Called after each renewal attempt (for metrics). */
  onOutcome(listener: (outcome: RenewalOutcome) => void): void;
}

export function createChannelCodeRenewer(deps: { db: Database; codes: CodeService; accountId: string; clock: Clock; logger: Logger }): ChannelCodeRenewer {
  const { db, codes, accountId, clock, logger } = deps;
  const inFlight = new Map<string, Promise<boolean>>();
  const listeners: Array<(outcome: RenewalOutcome) => void> = [];
  const emit = (outcome: RenewalOutcome): void => listeners.forEach((l) => l(outcome));

  async function currentCode(channel: channels.ChannelRow): Promise<QrCodeRow> {
    const code = channel.qrcodeId ? await codes.get(channel.qrcodeId) : undefined;
    if (!code) throw new NotFoundError(`channel ${channel.id} has no code`);
    return code;
  }

  async function renew(channelId: string): Promise<boolean> {
    // Read again: another instance may have renewed it since the caller looked.
    const channel = await db.read((sql) => channels.getChannel(sql, accountId, channelId));
    if (!channel?.qrcodeId) return false;
    const spec = specOf(channel);
    const point = renewalPoint(spec, await currentCode(channel));
    if (point === null || clock.now() < point) return false;
    try {
      const next = await codes.create(channelCodeInput(spec, channel));
      const switched = await db.transaction((sql) =>
        channels.switchChannelQrCode(sql, accountId, channel.id, { fromQrcodeId: channel.qrcodeId!, toQrcodeId: next.id, renewAt: renewalPoint(spec, next) }),
      );
      emit(switched ? "renewed" : "lost-race");
      if (switched) logger.info({ channelId, from: channel.qrcodeId, to: next.id }, "channel code renewed");
      return switched;
    } catch (err) {
      emit("failed");
      logger.warn({ err, channelId }, "channel code renewal failed; tried again at the next round");
      throw err;
    }
  }

  function renewIfDue(channelId: string): Promise<boolean> {
    let running = inFlight.get(channelId);
    if (!running) {
      running = renew(channelId).finally(() => inFlight.delete(channelId));
      inFlight.set(channelId, running);
    }
    return running;
  }

  return {
    renewIfDue,
    async round() {
      const due = await db.read((sql) => channels.dueChannelRenewals(sql, accountId, clock.now(), ROUND_MAX));
      let attempted = 0;
      let failed = 0;
      for (const channel of due) {
        try {
          if (await renewIfDue(channel.id)) attempted++;
        } catch {
          failed++;
        }
      }
      return { attempted, due: due.length, failed };
    },
    async imageLinkCode(token) {
      const found = await db.read((sql) => channels.getChannelByImageToken(sql, accountId, token));
      if (!found?.qrcodeId) throw new NotFoundError("no such image link");
      let channel = found;
      let code = await currentCode(channel);
      const spec = specOf(channel);
      const point = renewalPoint(spec, code);
      let failure: unknown;
      if (point !== null && clock.now() >= point) {
        try {
          await renewIfDue(channel.id);
        } catch (err) {
          failure = err;
        }
        channel = (await db.read((sql) => channels.getChannel(sql, accountId, found.id))) ?? channel;
        code = await currentCode(channel);
      }
      const now = clock.now();
      if (code.expiresAt !== null && code.expiresAt <= now) {
        if (renewalPoint(specOf(channel), code) !== null) throw new ChannelCodeRenewalError(RENEWAL_RETRY_MS, failure);
        throw new ChannelCodeExpiredError(code.expiresAt);
      }
      return { code, changesAt: renewalPoint(specOf(channel), code) ?? code.expiresAt };
    },
    onOutcome(listener) {
      listeners.push(listener);
    },
  };
}

/**
 * Gives every channel made before the image link existed (schema v12) its token, from the
 * injected `Random`. Run at the service's start; a token given meanwhile by another instance
 * starting at the same time is kept (the update only fills an empty one).
 */
export async function backfillImageTokens(db: Database, random: Random): Promise<number> {
  let given = 0;
  for (;;) {
    const ids = await db.read((sql) => channels.channelsWithoutImageToken(sql, 1_000));
    if (ids.length === 0) return given;
    await db.transaction(async (sql) => {
      for (const id of ids) await channels.setImageToken(sql, id, newImageToken(random));
    });
    given += ids.length;
  }
}
