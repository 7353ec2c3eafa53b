/**
 * The service's HTTP layer (Fastify): the app and the error → status map. The push route is the
 * library's Fastify adapter (`push/adapters/fastify.ts`), re-exported here.
 * @module
 */
export { registerPushRoute, type FastifyPushOptions } from "../push/adapters/fastify.ts";
export { HTTP_STATUS_BY_CODE, httpErrorFor, httpStatusFor, UNAVAILABLE_STATUS, type HttpErrorBody } from "./http-errors.ts";
export { buildServer, closeServer, type Server, type ServerOptions } from "./app.ts";
