/**
 * The emulator's whole memory: one plain object, changed only by the rule modules
 * (`tokens.ts`, `qrcodes.ts`, `counters.ts`, `faults.ts`, `followers.ts`, `push-delivery.ts`, `media.ts`,
 * `send-windows.ts`, `received-messages.ts`, `tags.ts`) and read by tests in-process.
 * @module
 */
import { COUNTED_ENDPOINTS, type EmulatorConfig, type CountedEndpoint } from "./options.ts";
import type { FaultPath } from "./faults.ts";
import type { DeliveryRecord } from "./push-delivery.ts";
import type { MediaRecord } from "./media.ts";
import type { ReceivedMessage } from "./received-messages.ts";
import type { SendWindowState } from "./send-windows.ts";
import { createTagsState, type TagsState } from "./tags.ts";

export type TokenKind = "classic" | "stable";

export interface IssuedToken {
  token: string;
  kind: TokenKind;
  /** Epoch ms, emulator clock. */
  issuedAt: number;
  /** Epoch ms; from then on the token answers 42001. */
  expiresAt: number;
  /** Epoch ms; set when superseded or revoked. From then on (if before `expiresAt`) the token answers 40001. */
  invalidAfter?: number;
}

export type QrKind = "temporary" | "permanent";
export type QrAction = "QR_SCENE" | "QR_STR_SCENE" | "QR_LIMIT_SCENE" | "QR_LIMIT_STR_SCENE";
/** Exactly one of the two is set, as the action name says. */
export type QrScene = { id: number; str?: undefined } | { str: string; id?: undefined };

export interface QrCodeRecord {
  ticket: string;
  /** The text inside the image, `http://weixin.qq.com/q/<22 chars>`. */
  url: string;
  action: QrAction;
  kind: QrKind;
  scene: QrScene;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; `null` for permanent codes. */
  expiresAt: number | null;
  /** What the create call asked for; `null` for permanent codes. */
  expireSeconds: number | null;
}

export interface Fault {
  errcode: number;
  /** Calls still let through before this fault starts answering. */
  after: number;
  remaining: number;
}

/** One user's relation to the account. */
export interface Follower {
  subscribed: boolean;
  /** Epoch ms (emulator clock) since when `subscribed` has held. */
  since: number;
}

export type CallCounts = Record<CountedEndpoint, number>;

export interface EmulatorState {
  config: EmulatorConfig;
  /** Added to the injected clock; moved by `POST /emulator/clock`. */
  clockOffsetMs: number;
  tokens: Map<string, IssuedToken>;
  currentClassicToken: string | undefined;
  currentStableToken: string | undefined;
  /** force_refresh=true calls honoured today (Asia/Shanghai day) and when the last one was. */
  forceRefresh: { day: string; count: number; lastAt: number | undefined };
  qrcodes: {
    byTicket: Map<string, QrCodeRecord>;
    byUrl: Map<string, QrCodeRecord>;
    /** Key `id:<n>` or `str:<s>`; its size is the permanent quota used. */
    permanentByScene: Map<string, QrCodeRecord>;
  };
  counters: { day: string; today: CallCounts; totals: CallCounts };
  faults: Map<FaultPath, Fault[]>;
  /** showqrcode JPEGs by ticket. */
  images: Map<string, Buffer>;
  /** Everyone who ever followed, by OpenID. */
  followers: Map<string, Follower>;
  /**
   * Display names by OpenID, for the phone page and the control API only: the platform stopped
   * giving nicknames to accounts in 2021, so nothing here is ever pushed.
   */
  nicknames: Map<string, string>;
  /** Push deliveries, oldest first (capped; see `push-delivery.ts`). */
  deliveries: DeliveryRecord[];
  /** The id of the last delivery started. */
  lastDeliveryId: number;
  /** Uploaded temporary media by media_id, expired ones included while their bytes are kept (`media.ts`). */
  media: Map<string, MediaRecord>;
  /** Open (or last opened) customer-service windows per OpenID, one per trigger. */
  sendWindows: Map<string, SendWindowState[]>;
  /** Every message users received, passive replies and customer-service messages, oldest first (capped). */
  receivedMessages: ReceivedMessage[];
  lastReceivedMessageId: number;
  tags: TagsState;
}

export const zeroCounts = (): CallCounts => Object.fromEntries(COUNTED_ENDPOINTS.map((e) => [e, 0])) as CallCounts;

export function createEmulatorState(config: EmulatorConfig): EmulatorState {
  return {
    config,
    clockOffsetMs: 0,
    tokens: new Map(),
    currentClassicToken: undefined,
    currentStableToken: undefined,
    forceRefresh: { day: "", count: 0, lastAt: undefined },
    qrcodes: { byTicket: new Map(), byUrl: new Map(), permanentByScene: new Map() },
    counters: { day: "", today: zeroCounts(), totals: zeroCounts() },
    faults: new Map(),
    images: new Map(),
    followers: new Map(),
    nicknames: new Map(),
    deliveries: [],
    lastDeliveryId: 0,
    media: new Map(),
    sendWindows: new Map(),
    receivedMessages: [],
    lastReceivedMessageId: 0,
    tags: createTagsState(),
  };
}
