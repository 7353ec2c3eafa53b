/**
 * `createEmulator`: a Fastify app that behaves like `api.weixin.qq.com` and
 * `mp.weixin.qq.com` for access tokens, parametric QR codes, temporary media, customer-service
 * messages and user tags, pushes signed (optionally
 * encrypted) scan, follow and unfollow events to the account's server URL, and has
 * `/emulator/*` controls for tests, including a simulated user (`POST /emulator/scan`). It speaks only the public protocol (design.md: the emulator never
 * imports service code).
 * @module
 */
import fastifyMultipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { withDefaults, type Deps } from "../deps.ts";
import { capConnections, fastifyHttpOptions, resolveHttpLimits } from "../http-limits.ts";
import { redactUrl } from "../redact.ts";
import type { EmulatorContext } from "./context.ts";
import { assertControlApiPrivate } from "./control-exposure.ts";
import { resolveEmulatorConfig, type EmulatorOptions } from "./options.ts";
import { registerControlRoutes } from "./routes-control.ts";
import { registerCustomMessageRoutes } from "./routes-custom-message.ts";
import { registerMediaRoutes } from "./routes-media.ts";
import { registerMessageRoutes } from "./routes-message.ts";
import { registerPhonePage } from "./routes-phone.ts";
import { registerPushRoutes } from "./routes-push.ts";
import { registerQrCodeRoutes } from "./routes-qrcode.ts";
import { registerReceivedRoutes } from "./routes-received.ts";
import { registerTagRoutes } from "./routes-tags.ts";
import { registerTokenRoutes } from "./routes-token.ts";
import { registerUserRoutes } from "./routes-user.ts";
import { registerUserListRoutes } from "./routes-user-list.ts";
import { createEmulatorState, type EmulatorState } from "./state.ts";
import { applySnapshot, createStateSaver, readStateFile } from "./state-file.ts";

export type { EmulatorOptions } from "./options.ts";

/** `fetch` is how pushes reach the account's server URL. */
export type EmulatorDeps = Pick<Deps, "clock" | "random" | "fetch" | "logger" | "timer">;

export interface Emulator {
  /** The Fastify app; `app.inject()` works without listening. */
  app: FastifyInstance;
  /** The live in-memory state, for in-process inspection by tests. */
  state: EmulatorState;
  /** The emulator's clock: the injected clock plus the offset moved by `POST /emulator/clock`. */
  now(): number;
  /**
   * Starts listening (port 0 = any free port; host defaults to 127.0.0.1) and returns the base URL.
   * A host that is not loopback is refused (`ValidationError` on `host`) unless `unsafeExposeControlApi`.
   */
  listen(options?: { port?: number; host?: string; unsafeExposeControlApi?: boolean }): Promise<string>;
  /** True when the state was read from `stateFile`. */
  restored: boolean;
  /** Stops listening, then writes the state file (when there is one). */
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 1_048_576;

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/** Fastify's default `req` serializer, with the secrets in the URL redacted (`access_token`, `secret` …). */
function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

function loggerOption(logger: EmulatorOptions["logger"]): FastifyServerOptions["logger"] {
  if (logger === undefined || logger === false) return false;
  const { level = "info", stream } = logger === true ? {} : logger;
  return { level, ...(stream === undefined ? {} : { stream }), serializers: { req: serializeRequest } };
}

/**
 * Builds the emulator. Point the client's API base *and* showqrcode base at the URL
 * `listen()` returns.
 * @example
 * const emulator = createEmulator({ appId: "wx0123456789abcdef", appSecret: "s3cret" }, { clock });
 * const base = await emulator.listen({ port: 0 });
 * await fetch(`${base}/cgi-bin/token?grant_type=client_credential&appid=wx0123456789abcdef&secret=s3cret`);
 * await emulator.close();
 */
export function createEmulator(options: EmulatorOptions, deps?: Partial<EmulatorDeps>): Emulator {
  const { clock, random, fetch, logger, timer } = withDefaults(deps, ["clock", "random", "fetch", "logger", "timer"]);
  const state = createEmulatorState(resolveEmulatorConfig(options));
  const saved = options.stateFile === undefined ? undefined : readStateFile(options.stateFile, state.config.appId);
  if (saved !== undefined) applySnapshot(state, saved);
  const saver = options.stateFile === undefined ? undefined : createStateSaver({ path: options.stateFile, state }, { timer, logger });
  const now = (): number => clock.now() + state.clockOffsetMs;
  const ctx: EmulatorContext = { state, now, random, fetch, logger };

  const limits = resolveHttpLimits(options.http);
  const app = Fastify({ logger: loggerOption(options.logger), bodyLimit: BODY_LIMIT_BYTES, ...fastifyHttpOptions(limits) });
  capConnections(app.server, limits);
  // Every body is read as text, whatever its Content-Type says: real clients post JSON as
  // `application/x-www-form-urlencoded` (the seed's PHP), and the platform accepts it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
  // …except multipart (media/upload), which is streamed: each route reads its parts with its own size limits.
  void app.register(fastifyMultipart);
  // Fastify's default 404 logs the raw URL, which may hold `access_token`.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type("text/plain; charset=utf-8").send("Not Found"));

  if (saver !== undefined) {
    // Reads (the phone page polls) change nothing; platform GETs do (tokens, call counters).
    app.addHook("onResponse", async (request) => {
      const reading = request.method === "GET" || request.method === "HEAD";
      if (!reading || request.url.startsWith("/cgi-bin/")) saver.changed();
    });
  }

  registerTokenRoutes(app, ctx);
  registerQrCodeRoutes(app, ctx);
  registerControlRoutes(app, ctx);
  registerPushRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerMessageRoutes(app, ctx);
  registerUserListRoutes(app, ctx);
  registerMediaRoutes(app, ctx);
  registerCustomMessageRoutes(app, ctx);
  registerTagRoutes(app, ctx);
  registerReceivedRoutes(app, ctx);
  registerPhonePage(app, options.phonePageDir);

  return {
    app,
    state,
    now,
    async listen({ port = 0, host = "127.0.0.1", unsafeExposeControlApi = false } = {}) {
      assertControlApiPrivate(host, unsafeExposeControlApi);
      await app.listen({ port, host });
      const address = app.server.address();
      if (address === null || typeof address === "string") {
        throw new Error(`emulator: unexpected listen address ${String(address)}`);
      }
      const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return `http://${hostPart}:${address.port}`;
    },
    restored: saved !== undefined,
    async close() {
      await app.close();
      await saver?.flush();
    },
  };
}
