/**
 * Raw TCP clients for the socket-limit tests: a connection that sends nothing, a request whose
 * body trickles in, a flood of connections. Each reports when (after how many real
 * milliseconds) the server closed it and what it answered first; every socket is bounded by a
 * deadline, after which it is reported as still open and destroyed by `destroyAll`.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface Closure {
  /** Real milliseconds from connecting to the server's close; undefined if still open at the deadline. */
  closedAfterMs: number | undefined;
  /** The first bytes the server sent, if any (e.g. "HTTP/1.1 408 Request Timeout"). */
  firstLine: string;
}

export interface RawClient {
  socket: Socket;
  /** Settles when the server closes the socket, or at `deadlineMs` with `closedAfterMs` undefined. */
  closed: Promise<Closure>;
}

function target(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** Connects and watches for the close; `onConnect` may write. */
export function rawClient(url: string, deadlineMs: number, onConnect: (socket: Socket) => void = () => {}): RawClient {
  const started = performance.now();
  const socket = connect({ ...target(url), noDelay: true }, () => onConnect(socket));
  let first = "";
  socket.on("data", (chunk: Buffer) => {
    if (first === "") first = chunk.toString("latin1").split("\r\n")[0] ?? "";
  });
  // A reset is how a capped server refuses: it counts as closed.
  socket.on("error", () => {});
  const closed = new Promise<Closure>((resolve) => {
    const deadline = setTimeout(() => resolve({ closedAfterMs: undefined, firstLine: first }), deadlineMs);
    socket.once("close", () => {
      clearTimeout(deadline);
      resolve({ closedAfterMs: performance.now() - started, firstLine: first });
    });
  });
  return { socket, closed };
}

/** A connection that never sends a byte. */
export function idleClient(url: string, deadlineMs: number): RawClient {
  return rawClient(url, deadlineMs);
}

/**
 * POSTs to `path` announcing `length` bytes of body, then sends one byte every `everyMs`: a body
 * far slower than any request deadline. Stops writing once the socket closes.
 */
export function tricklingClient(url: string, path: string, deadlineMs: number, { length = 1_000, everyMs = 1_000 } = {}): RawClient {
  let timer: ReturnType<typeof setInterval> | undefined;
  const client = rawClient(url, deadlineMs, (socket) => {
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${target(url).host}\r\nContent-Type: text/xml\r\nContent-Length: ${length}\r\n\r\n`);
    timer = setInterval(() => {
      if (!socket.destroyed) socket.write("a");
    }, everyMs);
  });
  void client.closed.then(() => clearInterval(timer));
  return client;
}

/** Waits until every socket is connected or closed (a refused one may close before connecting). */
export async function settled(clients: RawClient[], deadlineMs: number): Promise<void> {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (!c.socket.connecting) return resolve();
          const deadline = setTimeout(resolve, deadlineMs);
          const done = (): void => {
            clearTimeout(deadline);
            resolve();
          };
          c.socket.once("connect", done);
          c.socket.once("close", done);
        }),
    ),
  );
}

export function destroyAll(clients: RawClient[]): void {
  for (const c of clients) c.socket.destroy();
}
