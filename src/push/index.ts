/**
 * Inbound pushes from WeChat: the receiver, and the building blocks the emulator reuses to sign and
 * encrypt pushes exactly like the platform.
 * @module
 */
export { createPushReceiver, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CLOCK_SKEW_SECONDS } from "./receiver.ts";
export type { OpenedPush, PushQuery, PushReceiver, PushReceiverOptions, PushRequest } from "./receiver.ts";
export { PUSH_MESSAGE_KINDS, parseScene, toPushMessage } from "./events.ts";
export type { OtherMessage, PushMessage, PushMessageKind, ScanMessage, Scene, SubscribeMessage, UnsubscribeMessage } from "./events.ts";
export { computeMsgSignature, computeSignature, signatureMatches } from "./signature.ts";
export { decryptMessage, encryptMessage } from "./msg-crypto.ts";
export { MAX_DEPTH, parsePushXml } from "./parse-xml.ts";
export { buildEncryptedReplyXml, buildTextReplyXml, cdata, SUCCESS_REPLY } from "./reply.ts";
export type { PushReply } from "./reply.ts";
export { createSceneRouter } from "./scene-router.ts";
export type { FallbackMatch, PredicateMatch, SceneHandler, SceneMatch, SceneRouter } from "./scene-router.ts";
export { createPushHandler, PUSH_STATUS_BY_CODE, PUSH_UNAVAILABLE_STATUS, pushErrorResponse } from "./handler.ts";
export type { PushAnswer, PushHandler, PushHandlerOptions, PushHttpRequest, PushHttpResponse } from "./handler.ts";
export { createNodeMiddleware, type NodePushOptions } from "./adapters/node.ts";
export { createWebHandler, type WebPushOptions } from "./adapters/web.ts";
export { createKoaMiddleware, type KoaLikeContext, type KoaPushOptions } from "./adapters/koa.ts";
export { registerPushRoute, type FastifyPushOptions } from "./adapters/fastify.ts";
