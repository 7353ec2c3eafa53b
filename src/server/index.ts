/**
 * The service's HTTP layer (Fastify). For now: the push route adapter and the error → status map.
 * @module
 */
export { registerPushRoute, type PushRouteOptions, type PushRouteReply } from "./push-route.ts";
export { HTTP_STATUS_BY_CODE, httpErrorFor, httpStatusFor, UNAVAILABLE_STATUS, type HttpErrorBody } from "./http-errors.ts";
export { buildServer, closeServer, type Server, type ServerOptions } from "./app.ts";
