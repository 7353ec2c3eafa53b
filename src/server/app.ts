/**
 * The service's Fastify app: the push route, the REST API behind the admin token (or the
 * dashboard's session cookie), health, metrics and the API documentation (both behind a token
 * unless opened), the dashboard's static pages, with the socket limits of `http-limits.ts`.
 * `closeServer` finishes in-flight requests, then waits for the pushes they accepted to commit.
 * @module
 */
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from "fastify";
import type { Deps } from "../deps.ts";
import { createAdminSessionService, type AdminSessionOptions } from "../domain/admin-sessions.ts";
import type { WxqrService } from "../domain/index.ts";
import { BodyTooLargeError, NotFoundError, UnauthorizedError, ValidationError } from "../errors.ts";
import { fastifyRefusal } from "../fastify-refusal.ts";
import { createLimitedHttpServer, DEFAULT_SSE_STREAM_LIMITS, resolveHttpLimits, type HttpLimits } from "../http-limits.ts";
import type { PushAnswer, PushMessage, PushReceiver } from "../push/index.ts";
import { redactUrl } from "../redact.ts";
import { pingDatabase, type Database } from "../store/database.ts";
import { bearerChecker, createAdminGate, SIGN_IN_HINT } from "./auth.ts";
import { httpErrorFor } from "./http-errors.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createPushFront, type PushFront } from "./push-front.ts";
import { registerPushRoute } from "../push/adapters/fastify.ts";
import { registerChannelGroupRoutes } from "./routes/channel-groups.ts";
import { registerChannelRoutes } from "./routes/channels.ts";
import { registerEventRoutes } from "./routes/events.ts";
import { IMAGE_LINK_PREFIX, registerImageLinkRoutes } from "./routes/image-links.ts";
import { registerQrcodeRoutes } from "./routes/qrcodes.ts";
import { registerScanSessionRoutes, registerScanSessionSecretRoutes } from "./routes/scan-sessions.ts";
import { registerReferralRoutes } from "./routes/referrals.ts";
import { registerPosterRoutes } from "./routes/posters.ts";
import { registerWebhookRoutes } from "./routes/webhook.ts";
import { registerFollowUpRoutes } from "./routes/follow-ups.ts";
import { registerSessionRoutes } from "./routes/session.ts";
import { DEFAULT_DASHBOARD_DIR, registerDashboard } from "./static-pages.ts";
import { registerOverviewRoutes } from "./routes/overview.ts";
import { registerEventStreamRoute } from "./routes/event-stream.ts";
import { createStreamSlots, type StreamLimits } from "./stream-slots.ts";

export interface ServerOptions {
  service: WxqrService;
  receiver: PushReceiver;
  db: Database;
  adminToken: string;
  /** WXQR_METRICS_TOKEN: a second bearer token that reads `/metrics` and nothing else (for a scraper). */
  metricsToken?: string | undefined;
  /** WXQR_PUBLIC_METRICS / WXQR_PUBLIC_DOCS: serve `/metrics` / `/docs` without a token. Default false. */
  publicMetrics?: boolean;
  publicDocs?: boolean;
  /** Socket timeouts and the connection cap; defaults in `http-limits.ts`. */
  http?: Partial<HttpLimits>;
  /** Open scan-session event streams per session and per client address. */
  streams?: Partial<StreamLimits>;
  /** Access-token requests sent so far (for /metrics). */
  tokenRefreshes?: () => number;
  /** Request logs (pino); secrets in query strings are redacted. Default off. */
  logger?: boolean | { level?: string; stream?: { write(line: string): void } };
  pushPath?: string;
  /** The built dashboard (`npm run build`); default `dist/web/dashboard` of this package. */
  dashboardDir?: string;
  /** Dashboard sign-in sessions: idle limit and longest life; defaults in `domain/admin-sessions.ts`. */
  adminSessions?: Omit<AdminSessionOptions, "key">;
  /**
   * WXQR_TRUST_PROXY: take the client's address, scheme and host from `X-Forwarded-*`, as set by
   * a reverse proxy in front (TLS ended there): the session cookie is then `Secure` and a
   * cookie write's `Origin` is compared with the public origin. Default false.
   */
  trustProxy?: boolean;
}

export interface Server {
  app: FastifyInstance;
  metrics: Metrics;
}

// The API answers JSON; 1 MiB is far above any request it takes.
const API_BODY_LIMIT_BYTES = 1_048_576;

/** `deps`: the clock and randomness of the dashboard's sign-in sessions (the service's own). */
export async function buildServer(options: ServerOptions, deps: Pick<Deps, "clock" | "random">): Promise<Server> {
  const { service } = options;
  const limits = resolveHttpLimits(options.http);
  // Pushes skip Fastify (push-front.ts); the front exists once the metrics and the logger do.
  const front: { takePush?: PushFront } = {};
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: API_BODY_LIMIT_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    trustProxy: options.trustProxy ?? false,
    serverFactory: (fastifyHandler) =>
      createLimitedHttpServer(limits, (req, res) => {
        if (!front.takePush?.(req, res)) fastifyHandler(req, res);
      }),
  }) as unknown as FastifyInstance;
  const webhook = service.webhook;
  const metrics = createMetrics({
    tokenRefreshes: options.tokenRefreshes ?? (() => 0),
    pendingPushes: () => service.pendingPushes,
    ...(webhook ? { webhookBacklog: () => webhook.backlog() } : {}),
    ...(service.followUps ? { followUps: service.followUps } : {}),
    channelCodes: service.channelCodes,
    scanSessionWarmCodes: () => service.scanSessions.warmStock(),
  });

  await app.register(swagger, {
    openapi: {
      info: { title: "wxqr", version: "0.1.0", description: "WeChat parametric QR codes: codes, channels, statistics and the scan log" },
      components: {
        securitySchemes: {
          admin: { type: "http", scheme: "bearer" },
          session: {
            type: "apiKey",
            in: "cookie",
            name: "wxqr_session",
            description: "The dashboard's session (POST /api/session); writes also need `X-Wxqr-Csrf: 1`",
          },
        },
      },
      security: [{ admin: [] }, { session: [] }],
    },
  });
  await app.register(cookie);

  // Requests in flight when closing starts still get their answers (a push: after its commit), but
  // on a connection that then closes: an idle keep-alive connection would hold `close()` open.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const refusal = fastifyRefusal(error);
    const known = error.validation
      ? new ValidationError(fieldOf(error), error.message)
      : refusal === "body-too-large"
        ? new BodyTooLargeError(request.routeOptions.bodyLimit ?? API_BODY_LIMIT_BYTES)
        : refusal === "bad-request"
          ? new ValidationError("body", error.message)
          : error;
    const { status, body } = httpErrorFor(known);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    if (known instanceof UnauthorizedError) void reply.header("www-authenticate", `Bearer realm="${known.realm}"`);
    return reply.code(status).send(body);
  });
  const pushPath = options.pushPath ?? "/wechat";
  // In the service's error shape, naming the path but never the query (it may hold a secret).
  app.setNotFoundHandler(async (request, reply) => {
    if (await dashboard.answerNotFound(request, reply)) return reply;
    const { status, body } = httpErrorFor(new NotFoundError(`no route ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`));
    return reply.code(status).send(body);
  });
  // --- dashboard (issue #10): its files, and the app for page loads no route took (above) ---
  const dashboard = await registerDashboard(app, { dir: options.dashboardDir ?? DEFAULT_DASHBOARD_DIR, servicePaths: [pushPath, IMAGE_LINK_PREFIX] });
  // --- end dashboard ---

  const ingestPush = async (message: PushMessage): Promise<PushAnswer> => {
    const outcome = await service.ingest(message);
    metrics.pushes.inc({ outcome: outcome.duplicate ? "duplicate" : "recorded" });
    return { text: outcome.replyText };
  };
  front.takePush = createPushFront({
    receiver: options.receiver,
    path: pushPath,
    onMessage: ingestPush,
    metrics,
    log: app.log,
    logRequests: Boolean(options.logger),
    isClosing: () => closing,
  });
  // Verification GETs, other methods and `inject()`; the front takes the POSTs that come over HTTP.
  registerPushRoute(app, { receiver: options.receiver, path: pushPath, onMessage: ingestPush });
  app.addHook("onResponse", async (request, reply) => {
    if (request.routeOptions.url !== pushPath || request.method !== "POST") return;
    const outcome = reply.statusCode === 200 ? "ok" : `http_${reply.statusCode}`;
    if (reply.statusCode !== 200) metrics.pushes.inc({ outcome });
    metrics.pushDuration.observe({ outcome }, reply.elapsedTime / 1000);
  });

  const admin = bearerChecker(options.adminToken);
  // --- sign-in (issue #10): the admin token, or the dashboard's session cookie ---
  const sessions = createAdminSessionService({ key: options.adminToken, ...options.adminSessions }, { db: options.db, accountId: service.accountId, ...deps });
  const gate = createAdminGate({ adminToken: options.adminToken, sessions });
  registerSessionRoutes(app, { adminToken: options.adminToken, sessions, gate, clock: deps.clock });
  // --- end sign-in ---
  // One count of open event streams per client, whichever stream it is (live feed or scan session).
  const streamSlots = createStreamSlots({ ...DEFAULT_SSE_STREAM_LIMITS, ...definedOnly(options.streams ?? {}) });
  await app.register(async (api) => {
    api.addHook("onRequest", gate.require(SIGN_IN_HINT));
    registerQrcodeRoutes(api, { service, metrics });
    registerChannelRoutes(api, { service, metrics, clock: deps.clock });
    registerChannelGroupRoutes(api, { service });
    registerEventRoutes(api, { service });
    registerScanSessionRoutes(api, { service });
    registerReferralRoutes(api, { service });
    registerPosterRoutes(api, { service });
    registerWebhookRoutes(api, { service });
    registerFollowUpRoutes(api, { service });
    registerOverviewRoutes(api, { service });
    registerEventStreamRoute(api, { service, slots: streamSlots });
  });

  // Read with the session's own secret, not the admin token: outside the admin scope.
  registerScanSessionSecretRoutes(app, { service, slots: streamSlots });
  // Public: the link's token is its secret, and an <img> on any page must be able to load it.
  registerImageLinkRoutes(app, { service, clock: deps.clock });

  app.get("/healthz", { schema: { hide: true } }, async (_request, reply) => {
    try {
      await pingDatabase(options.db);
      return { status: "ok" };
    } catch {
      return reply.code(503).send({ status: "unavailable", database: "unreachable" });
    }
  });
  // Metrics name the account's traffic and the docs map the API: both are for the operator.
  const scraper = options.metricsToken ? bearerChecker(options.metricsToken) : () => false;
  const metricsReader = options.publicMetrics
    ? undefined
    : requireBearer((a) => admin(a) || scraper(a), "send Authorization: Bearer <WXQR_METRICS_TOKEN or WXQR_ADMIN_TOKEN>");
  app.get("/metrics", { schema: { hide: true }, ...(metricsReader ? { onRequest: metricsReader } : {}) }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // --- API documentation (issue #10): Swagger UI at /docs, the document at /docs/openapi.json ---
  // A page load cannot send a bearer header: the session cookie opens them too.
  const docsReader = options.publicDocs ? undefined : gate.require("send Authorization: Bearer <WXQR_ADMIN_TOKEN>, or sign in to the dashboard first");
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    ...(docsReader ? { uiHooks: { onRequest: docsReader } } : {}),
    uiConfig: {
      // "Try it out" runs in this page, with the session cookie when signed in: it sends what the
      // dashboard sends with every write. Serialised into the page by `toString()`: no closure.
      requestInterceptor: (req) => {
        req.headers = { ...req.headers, "X-Wxqr-Csrf": "1" };
        return req;
      },
    },
  });
  app.get("/docs/openapi.json", { schema: { hide: true }, ...(docsReader ? { onRequest: docsReader } : {}) }, async () => app.swagger());
  // --- end API documentation ---
  return { app, metrics };
}

function requireBearer(authorised: (authorization: string | undefined) => boolean, hint: string): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    if (!authorised(request.headers.authorization)) throw new UnauthorizedError(hint);
  };
}

function definedOnly<T extends object>(given: T): Partial<T> {
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function loggerOptions(logger: ServerOptions["logger"]): FastifyServerOptions["logger"] {
  if (!logger) return false;
  const { level = "info", stream } = logger === true ? {} : logger;
  return {
    level,
    ...(stream ? { stream } : {}),
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
    },
  };
}

function fieldOf(error: FastifyError): string {
  const first = error.validation?.[0] as { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } } | undefined;
  const path = first?.params?.missingProperty ?? first?.params?.additionalProperty ?? first?.instancePath?.replace(/^\//, "").replace(/\//g, ".");
  return path || (error.validationContext ?? "body");
}

/** Stops accepting, finishes in-flight requests, waits for their commits, closes the database. */
export async function closeServer(server: Server, service: WxqrService, db: Database): Promise<void> {
  await server.app.close();
  await service.drain();
  await db.close();
}
