/**
 * Codes and scenes: every code the service creates is recorded with its owner, and its scene
 * value is allocated atomically before WeChat is asked (invariant 3). The permanent quota is
 * counted in the same transaction, and given back if WeChat refuses.
 * @module
 */
import type { Clock, Random } from "../deps.ts";
import { ConfigError, QuotaExhaustedError, SceneConflictError, ValidationError } from "../errors.ts";
import * as codes from "../store/codes.ts";
import type { Database, Sql } from "../store/database.ts";
import type { QrCodesApi } from "../wechat/qr-ticket.ts";
import { EXPIRE_SECONDS_MAX, PERMANENT_SCENE_ID_MAX, TEMPORARY_SCENE_ID_MAX, validateExpireSeconds, validateScene } from "../wechat/qr-ticket.ts";
import { newId } from "./ids.ts";
import { checkPlainText } from "./plain-text.ts";

export type { QrCodeRow, OwnerKind, CodeType } from "../store/codes.ts";

export interface CreateCodeInput {
  type: codes.CodeType;
  sceneId?: number;
  sceneStr?: string;
  /** Temporary codes only; default 30 days, the platform's maximum. */
  expireSeconds?: number;
  label?: string;
  owner?: { kind: codes.OwnerKind; id: string };
}

export interface CodeServiceDeps {
  db: Database;
  /** Absent for read-only uses (statistics); creating a code then fails with a ConfigError. */
  qrcodes?: QrCodesApi | undefined;
  accountId: string;
  permanentQuota: number;
  clock: Clock;
  random: Random;
}

export interface Quota {
  permanent: { used: number; limit: number; remaining: number };
}

// Temporary scene ids the service picks itself stay above the permanent range, so a SCAN's
// bare EventKey can never be mistaken for a permanent code's.
const ALLOCATED_TEMPORARY_MIN = PERMANENT_SCENE_ID_MAX + 1;
const MAX_ALLOCATION_TRIES = 16;

export interface CodeService {
  create(input: CreateCodeInput): Promise<codes.QrCodeRow>;
  get(id: string): Promise<codes.QrCodeRow | undefined>;
  quota(): Promise<Quota>;
}

export function createCodeService(deps: CodeServiceDeps): CodeService {
  const { db, accountId, clock, random } = deps;

  async function allocate(
    sql: Sql,
    input: CreateCodeInput,
    id: string,
    expiresAt: number | null,
  ): Promise<{ sceneId: number | null; sceneStr: string | null; key: string }> {
    const permanent = input.type === "permanent";
    const now = clock.now();
    if (permanent && !(await codes.takePermanentQuota(sql, accountId, deps.permanentQuota))) throw new QuotaExhaustedError(deps.permanentQuota);
    const reserve = (key: string): Promise<boolean> => codes.reserveScene(sql, { accountId, key, qrcodeId: id, permanent, expiresAt }, now);
    if (input.sceneId !== undefined || input.sceneStr !== undefined) {
      const key = codes.sceneKey(input);
      if (!(await reserve(key))) throw new SceneConflictError(key);
      return { sceneId: input.sceneId ?? null, sceneStr: input.sceneStr ?? null, key };
    }
    for (let i = 0; i < (permanent ? PERMANENT_SCENE_ID_MAX : MAX_ALLOCATION_TRIES); i++) {
      const sceneId = permanent ? await codes.nextPermanentSceneId(sql, accountId) : randomTemporarySceneId(random);
      if (permanent && sceneId > PERMANENT_SCENE_ID_MAX) break;
      const key = codes.sceneKey({ sceneId });
      if (await reserve(key)) return { sceneId, sceneStr: null, key };
    }
    if (permanent) throw new QuotaExhaustedError(deps.permanentQuota);
    throw new SceneConflictError("random temporary scene");
  }

  async function create(input: CreateCodeInput): Promise<codes.QrCodeRow> {
    if (input.type !== "temporary" && input.type !== "permanent") throw new ValidationError("type", 'must be "temporary" or "permanent"');
    if (input.sceneId !== undefined || input.sceneStr !== undefined) validateScene(input, input.type);
    // A scene string comes back inside push XML, which cannot carry control characters.
    if (typeof input.sceneStr === "string") checkPlainText("sceneStr", input.sceneStr);
    if (input.label !== undefined) checkPlainText("label", input.label);
    const expireSeconds = input.type === "temporary" ? validateExpireSeconds(input.expireSeconds ?? EXPIRE_SECONDS_MAX) : undefined;
    if (input.type === "permanent" && input.expireSeconds !== undefined) throw new ValidationError("expireSeconds", "permanent codes do not expire");
    const id = newId("qr", random);
    const createdAt = clock.now();
    const provisionalExpiry = expireSeconds === undefined ? null : createdAt + expireSeconds * 1000;

    const held = await db.transaction(async (sql) => {
      const scene = await allocate(sql, input, id, provisionalExpiry);
      await codes.insertQrCode(sql, {
        id,
        accountId,
        type: input.type,
        sceneId: scene.sceneId,
        sceneStr: scene.sceneStr,
        ticket: null,
        url: null,
        expiresAt: provisionalExpiry,
        ownerKind: input.owner?.kind ?? null,
        ownerId: input.owner?.id ?? null,
        label: input.label ?? null,
        createdAt,
      });
      return scene;
    });

    // WeChat is called outside any transaction: a slow platform must not hold the database.
    const scene = held.sceneId !== null ? { sceneId: held.sceneId } : { sceneStr: held.sceneStr! };
    const api = deps.qrcodes;
    let ticket;
    try {
      if (!api) throw new ConfigError([{ key: "WECHAT_APP_SECRET", message: "is required to create codes" }]);
      ticket = expireSeconds !== undefined ? await api.createTemporary({ ...scene, expireSeconds }) : await api.createPermanent(scene);
    } catch (err) {
      await db.transaction((sql) => codes.abandonReservation(sql, accountId, { id, type: input.type, sceneKey: held.key }));
      throw err;
    }
    const expiresAt = ticket.expiresAt ?? null;
    // The scene stays held until the platform's code has surely expired: count its life from
    // after the answer (the call may have spent seconds on retries), not from before the request.
    const heldUntil = ticket.expireSeconds === undefined ? null : clock.now() + ticket.expireSeconds * 1000;
    await db.transaction(async (sql) => {
      await codes.activateQrCode(sql, id, { ticket: ticket.ticket, url: ticket.url, expiresAt });
      await codes.setSceneExpiry(sql, accountId, held.key, id, heldUntil);
    });
    return {
      id,
      accountId,
      type: input.type,
      sceneId: held.sceneId,
      sceneStr: held.sceneStr,
      ticket: ticket.ticket,
      url: ticket.url,
      expiresAt,
      ownerKind: input.owner?.kind ?? null,
      ownerId: input.owner?.id ?? null,
      label: input.label ?? null,
      createdAt,
    };
  }

  return {
    create,
    get: (id) => db.read((sql) => codes.getQrCode(sql, accountId, id)),
    async quota() {
      const account = await db.read((sql) => codes.getAccount(sql, accountId));
      const used = account?.permanentUsed ?? 0;
      return { permanent: { used, limit: deps.permanentQuota, remaining: Math.max(0, deps.permanentQuota - used) } };
    },
  };
}

function randomTemporarySceneId(random: Random): number {
  const span = TEMPORARY_SCENE_ID_MAX - ALLOCATED_TEMPORARY_MIN + 1;
  const b = random.bytes(4);
  const n = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
  return ALLOCATED_TEMPORARY_MIN + (n % span);
}
