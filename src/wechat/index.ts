export { createWeChatClient, downloadQrImage, DEFAULT_API_BASE, DEFAULT_MP_BASE } from "./client.ts";
export type { WeChatClient, WeChatClientOptions, CallOptions } from "./client.ts";
export { createMemoryTokenStore } from "./token-store.ts";
export type { TokenStore, StoredToken } from "./token-store.ts";
export type { AccessTokenManager } from "./access-token.ts";
export type { QrCodesApi, QrTicket, QrImage, SceneInput, TemporaryInput } from "./qr-ticket.ts";
export {
  validateScene,
  validateExpireSeconds,
  showQrCodeUrl,
  TEMPORARY_SCENE_ID_MAX,
  PERMANENT_SCENE_ID_MAX,
  SCENE_STR_MAX_CHARS,
  EXPIRE_SECONDS_MIN,
  EXPIRE_SECONDS_MAX,
} from "./qr-ticket.ts";
export type { RetryPolicy } from "./request.ts";
export { errorForErrcode } from "./errcodes.ts";
export { MEDIA_TTL_MS, MEDIA_TYPES, type MediaType, type UploadedMedia } from "./media.ts";
export type { CustomMessage } from "./custom-message.ts";
export { BATCH_TAGGING_OPENIDS_MAX, type Tag, type TagWithCount } from "./tags.ts";
export { ERRCODE_MEANINGS } from "./errcodes.ts";
