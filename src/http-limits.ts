/**
 * The socket rules of every HTTP server wxqr runs (the service and the emulator): how long a
 * connection may take to send its request, how long it may sit idle, and how many may be open.
 * Without them a socket that sends nothing, or a body trickled at 1 byte/s, is held forever, and
 * enough of them exhaust the process's file descriptors so that real pushes fail.
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Server } from "node:net";
import type { FastifyServerOptions } from "fastify";
import { ConfigError, type ConfigProblem } from "./errors.ts";

export interface HttpLimits {
  /** Time to receive a request's headers; a connection that sends nothing is closed after it too. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included: a trickled body is cut after it. */
  requestTimeoutMs: number;
  /** How long a keep-alive connection may wait for its next request (Node closes it 1 s after this, on purpose). */
  keepAliveTimeoutMs: number;
  /**
   * A socket with no traffic either way (e.g. a client that stops reading its answer). Must stay
   * above the SSE heartbeat (15 s), or live streams are cut between heartbeats.
   */
  idleTimeoutMs: number;
  /** Open connections at most; past it a new one is closed right after it is accepted. */
  maxConnections: number;
}

/**
 * A socket that sends nothing is closed within `headersTimeoutMs` plus one check (≤ 11 s), a body
 * slower than the limit within `requestTimeoutMs` plus one check (≤ 21 s): both inside the 30 s
 * the operators were promised. `maxConnections` is absent: it depends on the machine.
 */
export const DEFAULT_HTTP_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
} as const satisfies Omit<HttpLimits, "maxConnections">;

/**
 * Server-sent-event streams open at once: a page open in a few tabs per scan session, and a
 * client address (one machine, or one NAT) following a few sessions each.
 */
export const DEFAULT_SSE_STREAM_LIMITS = { perSession: 3, perClient: 20 } as const;

/** Above this many sockets a single process serves no one well; the machine's own limit may be lower. */
export const MAX_CONNECTIONS_CEILING = 2_000;

/**
 * The connection cap for an open-file limit: three quarters of it (the rest is for the database,
 * outgoing calls and files), at most 2,000. Where the limit cannot be read, 2,000.
 * @example
 * connectionCapFor(1_024); // 768
 */
export function connectionCapFor(openFileLimit: number | undefined): number {
  if (openFileLimit === undefined || !Number.isFinite(openFileLimit)) return MAX_CONNECTIONS_CEILING;
  return Math.max(16, Math.min(MAX_CONNECTIONS_CEILING, Math.floor((openFileLimit * 3) / 4)));
}

/** The soft RLIMIT_NOFILE, from /proc on Linux (Node has no API for it); undefined elsewhere or when unlimited. */
export function readOpenFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The defaults with any value replaced; refuses values Node would reject or that make no sense. */
export function resolveHttpLimits(given: Partial<HttpLimits> = {}): HttpLimits {
  const limits: HttpLimits = {
    ...DEFAULT_HTTP_TIMEOUTS,
    ...definedOnly(given),
    maxConnections: given.maxConnections ?? connectionCapFor(readOpenFileLimit()),
  };
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) problems.push({ key, message: "must be a whole number ≥ 1" });
  }
  // Node refuses a headers deadline after the whole request's.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) problems.push({ key: "headersTimeoutMs", message: "must not exceed requestTimeoutMs" });
  if (problems.length > 0) throw new ConfigError(problems);
  return limits;
}

function definedOnly(given: Partial<HttpLimits>): Partial<HttpLimits> {
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
}

/**
 * Node checks the header and request deadlines only every `connectionsCheckingInterval` (30 s by
 * default, which alone would break the 30 s promise): check four times per shortest deadline, at
 * most once a second.
 */
export function connectionsCheckingIntervalMs(limits: HttpLimits): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** The Fastify options that carry the limits; pair with `capConnections` once the app exists. */
export function fastifyHttpOptions(limits: HttpLimits): Pick<FastifyServerOptions, "connectionTimeout" | "keepAliveTimeout" | "requestTimeout"> & {
  http: { headersTimeout: number; connectionsCheckingInterval: number };
} {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: connectionsCheckingIntervalMs(limits) },
  };
}

/**
 * A `node:http` server with the limits set exactly as Fastify sets them from `fastifyHttpOptions`
 * (the connection cap included), for a Fastify `serverFactory` that puts a listener of its own in
 * front of Fastify's.
 */
export function createLimitedHttpServer(limits: HttpLimits, listener: (req: IncomingMessage, res: ServerResponse) => void): HttpServer {
  const server = createServer({ headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: connectionsCheckingIntervalMs(limits) }, listener);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs);
  capConnections(server, limits);
  return server;
}

/**
 * Past the cap Node destroys each new socket as soon as it is accepted: the client sees its
 * connection reset at once, instead of the process failing to open files for everyone.
 */
export function capConnections(server: Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
}
