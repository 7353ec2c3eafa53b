/**
 * The emulator's state on disk, so that `wxqr dev` continues after a restart: the codes still
 * scan, followers still follow, the service's stored access token still works and the phone's
 * chat is still there. What is kept: tokens, codes, followers and nicknames, call counters, the
 * clock offset, the delivery log, uploaded media (bytes as base64), send windows, the messages
 * users received and the tags. Files written before media, windows, messages and tags existed
 * (or before an endpoint was counted) still load, with none of them. What is not: the account's configuration (the options of
 * each start decide it; the AppID is kept only to refuse another account's file), the push target
 * (`wxqr dev` sets it on every start, with the service's new port), armed faults (a test's
 * one-off) and the showqrcode image cache (rebuilt on demand).
 * @module
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { writeFileAtomic } from "../atomic-file.ts";
import type { Logger, Timer } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import { COUNTED_ENDPOINTS, MEDIA_TYPES, PUSH_MODES, type CountedEndpoint } from "./options.ts";
import type { DeliveryRecord } from "./push-delivery.ts";
import type { ReceivedMessage } from "./received-messages.ts";
import type { EmulatorState, QrCodeRecord } from "./state.ts";

export const STATE_FILE_VERSION = 1;
/** How long after a change the file is written: a burst of calls costs one write. */
export const STATE_SAVE_DELAY_MS = 250;

const epochMs = z.number().int();
// Endpoints counted since a file was written start at 0.
const counts = z.strictObject(
  Object.fromEntries(COUNTED_ENDPOINTS.map((e) => [e, z.number().int().nonnegative().default(0)])) as Record<CountedEndpoint, z.ZodDefault<z.ZodNumber>>,
);

const mediaSchema = z.strictObject({
  mediaId: z.string().min(1),
  type: z.enum(MEDIA_TYPES),
  format: z.enum(["png", "jpeg", "gif", "amr", "mp3", "mp4"]),
  filename: z.string(),
  bytesBase64: z.string(),
  createdAt: epochMs,
  expiresAt: epochMs,
});

const sendWindowSchema = z.strictObject({
  trigger: z.enum(["event", "user_message"]),
  openedAt: epochMs,
  closesAt: epochMs,
  allowed: z.number().int().nonnegative(),
  used: z.number().int().nonnegative(),
});

const receivedMessageSchema = z.strictObject({
  id: z.number().int(),
  openId: z.string(),
  at: epochMs,
  via: z.enum(["passive_reply", "customer_service"]),
  msgType: z.string(),
  text: z.string().optional(),
  mediaId: z.string().optional(),
  deliveryId: z.number().int().optional(),
});

const tagsSchema = z.strictObject({
  list: z.array(z.strictObject({ id: z.number().int(), name: z.string() })),
  nextId: z.number().int(),
  byUser: z.array(z.strictObject({ openId: z.string().min(1), tagIds: z.array(z.number().int()) })),
});

const tokenSchema = z.strictObject({
  token: z.string().min(1),
  kind: z.enum(["classic", "stable"]),
  issuedAt: epochMs,
  expiresAt: epochMs,
  invalidAfter: epochMs.optional(),
});

const qrCodeSchema = z.strictObject({
  ticket: z.string().min(1),
  url: z.string().min(1),
  action: z.enum(["QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"]),
  kind: z.enum(["temporary", "permanent"]),
  scene: z.union([z.strictObject({ id: z.number().int() }), z.strictObject({ str: z.string() })]),
  createdAt: epochMs,
  expiresAt: epochMs.nullable(),
  expireSeconds: z.number().int().nullable(),
});

// The delivery log is for reading only (the phone's chat, tests); its essentials are checked, the rest kept as written.
const deliverySchema = z.looseObject({
  id: z.number().int(),
  openId: z.string(),
  event: z.string(),
  eventKey: z.string(),
  createTime: z.number().int(),
  outcome: z.enum(["pending", "delivered", "failed"]),
  userSaw: z.string().nullable(),
  url: z.string(),
  mode: z.enum(PUSH_MODES),
  attempts: z.array(z.unknown()),
  reply: z.looseObject({ kind: z.string() }).nullable(),
});

const snapshotSchema = z.strictObject({
  version: z.literal(STATE_FILE_VERSION),
  appId: z.string().min(1),
  clockOffsetMs: z.number().int(),
  tokens: z.array(tokenSchema),
  currentClassicToken: z.string().nullable(),
  currentStableToken: z.string().nullable(),
  forceRefresh: z.strictObject({ day: z.string(), count: z.number().int().nonnegative(), lastAt: epochMs.nullable() }),
  qrcodes: z.array(qrCodeSchema),
  counters: z.strictObject({ day: z.string(), today: counts, totals: counts }),
  followers: z.array(z.strictObject({ openId: z.string().min(1), subscribed: z.boolean(), since: epochMs })),
  nicknames: z.array(z.strictObject({ openId: z.string().min(1), nickname: z.string() })),
  deliveries: z.array(deliverySchema),
  lastDeliveryId: z.number().int().nonnegative(),
  media: z.array(mediaSchema).default([]),
  sendWindows: z.array(z.strictObject({ openId: z.string().min(1), windows: z.array(sendWindowSchema) })).default([]),
  receivedMessages: z.array(receivedMessageSchema).default([]),
  lastReceivedMessageId: z.number().int().nonnegative().default(0),
  tags: tagsSchema.optional(),
});

/** The JSON kept in the state file. */
export type StateSnapshot = Omit<z.infer<typeof snapshotSchema>, "deliveries"> & { deliveries: DeliveryRecord[] };

/**
 * @example
 * const text = JSON.stringify(toSnapshot(emulator.state));
 */
export function toSnapshot(state: EmulatorState): StateSnapshot {
  return {
    version: STATE_FILE_VERSION,
    appId: state.config.appId,
    clockOffsetMs: state.clockOffsetMs,
    tokens: [...state.tokens.values()],
    currentClassicToken: state.currentClassicToken ?? null,
    currentStableToken: state.currentStableToken ?? null,
    forceRefresh: { day: state.forceRefresh.day, count: state.forceRefresh.count, lastAt: state.forceRefresh.lastAt ?? null },
    qrcodes: [...state.qrcodes.byTicket.values()],
    counters: { day: state.counters.day, today: { ...state.counters.today }, totals: { ...state.counters.totals } },
    followers: [...state.followers].map(([openId, f]) => ({ openId, subscribed: f.subscribed, since: f.since })),
    nicknames: [...state.nicknames].map(([openId, nickname]) => ({ openId, nickname })),
    deliveries: state.deliveries,
    lastDeliveryId: state.lastDeliveryId,
    media: [...state.media.values()].map(({ bytes, ...m }) => ({ ...m, bytesBase64: bytes.toString("base64") })),
    sendWindows: [...state.sendWindows].map(([openId, windows]) => ({ openId, windows })),
    receivedMessages: state.receivedMessages,
    lastReceivedMessageId: state.lastReceivedMessageId,
    tags: {
      list: [...state.tags.byId.values()],
      nextId: state.tags.nextId,
      byUser: [...state.tags.byUser].map(([openId, tagIds]) => ({ openId, tagIds })),
    },
  };
}

/** Puts a snapshot's content into a fresh state (made from the current options). */
export function applySnapshot(state: EmulatorState, snapshot: StateSnapshot): void {
  state.clockOffsetMs = snapshot.clockOffsetMs;
  state.tokens = new Map(snapshot.tokens.map((t) => [t.token, { ...t }]));
  state.currentClassicToken = snapshot.currentClassicToken ?? undefined;
  state.currentStableToken = snapshot.currentStableToken ?? undefined;
  state.forceRefresh = { day: snapshot.forceRefresh.day, count: snapshot.forceRefresh.count, lastAt: snapshot.forceRefresh.lastAt ?? undefined };
  const byTicket = new Map<string, QrCodeRecord>();
  const byUrl = new Map<string, QrCodeRecord>();
  const permanentByScene = new Map<string, QrCodeRecord>();
  for (const code of snapshot.qrcodes as QrCodeRecord[]) {
    byTicket.set(code.ticket, code);
    byUrl.set(code.url, code);
    if (code.kind === "permanent") permanentByScene.set(code.scene.id !== undefined ? `id:${code.scene.id}` : `str:${code.scene.str}`, code);
  }
  state.qrcodes = { byTicket, byUrl, permanentByScene };
  state.counters = { day: snapshot.counters.day, today: { ...snapshot.counters.today }, totals: { ...snapshot.counters.totals } };
  state.followers = new Map(snapshot.followers.map((f) => [f.openId, { subscribed: f.subscribed, since: f.since }]));
  state.nicknames = new Map(snapshot.nicknames.map((n) => [n.openId, n.nickname]));
  state.deliveries = snapshot.deliveries;
  state.lastDeliveryId = snapshot.lastDeliveryId;
  state.media = new Map(snapshot.media.map(({ bytesBase64, ...m }) => [m.mediaId, { ...m, bytes: Buffer.from(bytesBase64, "base64") }]));
  state.sendWindows = new Map(snapshot.sendWindows.map((w) => [w.openId, w.windows.map((x) => ({ ...x }))]));
  state.receivedMessages = snapshot.receivedMessages as ReceivedMessage[];
  state.lastReceivedMessageId = snapshot.lastReceivedMessageId;
  if (snapshot.tags !== undefined) {
    state.tags = {
      byId: new Map(snapshot.tags.list.map((t) => [t.id, { ...t }])),
      nextId: snapshot.tags.nextId,
      byUser: new Map(snapshot.tags.byUser.map((u) => [u.openId, [...u.tagIds]])),
    };
  }
}

const START_OVER = "move it away, or delete it to start over (wxqr dev --fresh does)";

/**
 * The snapshot in `path`, or `undefined` when there is no such file. A file that cannot be read,
 * is not a state file or belongs to another AppID is a `ConfigError` naming the file.
 */
export function readStateFile(path: string, appId: string): StateSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw new ConfigError([{ key: path, message: `cannot be read (${(err as Error).message}); ${START_OVER}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ key: path, message: `is not JSON, so not an emulator state file (${(err as Error).message}); ${START_OVER}` }]);
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? "" : ` at ${first.path.join(".")}`;
    throw new ConfigError([
      { key: path, message: `is not an emulator state file of version ${STATE_FILE_VERSION} (${first?.message ?? "invalid"}${where}); ${START_OVER}` },
    ]);
  }
  if (parsed.data.appId !== appId) {
    throw new ConfigError([{ key: path, message: `holds the state of the account ${parsed.data.appId}, not ${appId}; ${START_OVER}` }]);
  }
  // The loose delivery schema checked what the phone and the tests read; the rest is as this module wrote it.
  return { ...parsed.data, deliveries: parsed.data.deliveries as unknown as DeliveryRecord[] };
}

/**
 * @example
 * await writeStateFile("wxqr.db.emulator.json", toSnapshot(emulator.state));
 */
export async function writeStateFile(path: string, snapshot: StateSnapshot): Promise<void> {
  // Owner-only: the tokens in it are the account's access tokens.
  await writeFileAtomic(path, `${JSON.stringify(snapshot)}\n`, { mode: 0o600 });
}

export interface StateSaver {
  /** Something changed: the file is written `STATE_SAVE_DELAY_MS` later (one write for a burst). */
  changed(): void;
  /** Writes now and waits for every write to finish; changes after this are written at once. */
  flush(): Promise<void>;
}

/**
 * Keeps the state file up to date. Writes are queued, one at a time, each with the state as it
 * is when it starts, so the last write always holds the latest state. A failed write is logged
 * and the next change tries again: the emulator keeps working on its in-memory state.
 */
export function createStateSaver(options: { path: string; state: EmulatorState }, deps: { timer: Timer; logger: Logger }): StateSaver {
  const stopping = new AbortController();
  let scheduled = false;
  let writing: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    writing = writing.then(async () => {
      try {
        await writeStateFile(options.path, toSnapshot(options.state));
      } catch (err) {
        deps.logger.error({ path: options.path, err: (err as Error).message }, "emulator state not saved");
      }
    });
    return writing;
  };
  return {
    changed() {
      if (stopping.signal.aborted) {
        void save();
        return;
      }
      if (scheduled) return;
      scheduled = true;
      void deps.timer.delay(STATE_SAVE_DELAY_MS, stopping.signal).then(() => {
        scheduled = false;
        return save();
      });
    },
    async flush() {
      stopping.abort();
      await save();
      // A scheduled save woken by the abort queues behind ours; wait for it too.
      await writing;
    },
  };
}
