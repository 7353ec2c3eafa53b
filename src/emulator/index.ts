/**
 * The WeChat platform stand-in: access tokens, `qrcode/create` and `showqrcode`, temporary media,
 * customer-service messages in their send windows and user tags over real HTTP,
 * signed (optionally encrypted) event pushes to the account's server URL with WeChat's retry
 * rules, and `/emulator/*` controls, including a simulated user. See `createEmulator`.
 * @module
 */
export { createEmulator, type Emulator, type EmulatorDeps } from "./app.ts";
export {
  DEFAULT_DAILY_QUOTA,
  DEFAULT_PERMANENT_QUOTA,
  DEFAULT_TOKEN_TTL_SECONDS,
  DEFAULT_PUSH_MAX_RETRIES,
  DEFAULT_PUSH_TIMEOUT_MS,
  DEFAULT_MEDIA_MAX_BYTES,
  DEFAULT_MEDIA_TTL_SECONDS,
  DEFAULT_SEND_WINDOWS,
  PUSH_MODES,
  defaultOriginalId,
  type CountedEndpoint,
  type EmulatorLogOptions,
  type EmulatorOptions,
  type PushMode,
  type PushOptions,
  type QuotaEndpoint,
  type SendWindow,
  type SendWindows,
} from "./options.ts";
export type { ReceivedMessage } from "./received-messages.ts";
export type { MediaRecord } from "./media.ts";
export type { EmulatorState, Follower, IssuedToken, QrAction, QrCodeRecord, QrKind, QrScene } from "./state.ts";
export { USER_NOTICE, type DeliveryAttempt, type DeliveryRecord, type DeliveryReply } from "./push-delivery.ts";
export type { PushEventName } from "./push-message.ts";
export { FAULT_PATHS, type FaultPath } from "./faults.ts";
export { findLiveQrCodeByTicket, findLiveQrCodeByUrl } from "./qrcodes.ts";
export { WIRE_ERRMSG } from "./wire-errors.ts";
export type { CounterSnapshot } from "./counters.ts";
