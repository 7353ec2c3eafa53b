/**
 * wxqr as a library: the WeChat API client, local QR rendering, the platform emulator,
 * and (from `push/`) the push receiver and its Fastify adapter. The only barrel of the package.
 * @module
 */
export * from "./errors.ts";
export { loadConfig, requireConfig, type Config } from "./config.ts";
export {
  createManualClock,
  createManualTimer,
  createSeededRandom,
  systemDeps,
  silentLogger,
  type Clock,
  type Deps,
  type Fetch,
  type Logger,
  type ManualClock,
  type ManualTimer,
  type Random,
  type Timer,
} from "./deps.ts";
export * from "./wechat/index.ts";
export * from "./qr/index.ts";
export { decodeQrImage } from "./qr/decode.ts";
export * from "./emulator/index.ts";
export * from "./push/index.ts";
export { httpErrorFor, httpStatusFor } from "./server/index.ts";
// For receivers of the business webhook (WXQR_WEBHOOK_URL): check `Wxqr-Signature` on the raw body.
export { verifyWebhookSignature, signWebhook, WEBHOOK_SIGNATURE_HEADER, type VerifyWebhookOptions } from "./domain/webhook-signature.ts";
export type { WebhookEvent } from "./domain/webhook-outbox.ts";
