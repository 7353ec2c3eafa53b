/**
 * A `node:http` proxy in front of the emulator's API that can hold requests to one path: the
 * service's call is then in flight for as long as the test wants (a slow or unreachable
 * platform), and the test decides whether a held request ever reaches the emulator (the call
 * got through before the caller died) or is dropped (it never did).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface ApiGate {
  /** Give this as the service's API base. */
  url: string;
  /** Requests on this path are held while `holding` is above 0 (each held one takes one). */
  holdPath: string;
  holding: number;
  /** How many requests are held now. */
  readonly held: number;
  /** Resolves once `n` requests are held at the same time. */
  waitForHeld(n: number, timeoutMs?: number): Promise<void>;
  /** Sends every held request (or the first `n`) on to the emulator; their answers go to callers still listening. */
  releaseAll(): Promise<void>;
  releaseSome(n: number): Promise<void>;
  /** Answers nothing to the held requests and forgets them (the platform never saw them). */
  dropAll(): void;
  close(): Promise<void>;
}

interface Held {
  method: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  res: ServerResponse;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startApiGate(target: string, holdPath: string): Promise<ApiGate> {
  const held: Held[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];

  async function forward(h: Omit<Held, "res">, res: ServerResponse): Promise<void> {
    try {
      const answer = await fetch(`${target}${h.path}`, {
        method: h.method,
        headers: h.headers,
        ...(h.method === "GET" || h.method === "HEAD" ? {} : { body: h.body }),
        signal: AbortSignal.timeout(20_000),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      if (!res.destroyed) res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/octet-stream" }).end(body);
    } catch (err) {
      if (!res.destroyed) res.writeHead(502, { "content-type": "text/plain" }).end(`gate: ${(err as Error).message}`);
    }
  }

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const path = req.url ?? "/";
      const headers: Record<string, string> = {};
      const type = req.headers["content-type"];
      if (type) headers["content-type"] = type;
      const request = { method: req.method ?? "GET", path, body, headers };
      if (gate.holding > 0 && path.split("?")[0] === gate.holdPath) {
        gate.holding -= 1;
        held.push({ ...request, res });
        for (const w of waiters.splice(0)) {
          if (held.length >= w.n) w.resolve();
          else waiters.push(w);
        }
        return;
      }
      return forward(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };

  const gate: ApiGate = {
    url: `http://127.0.0.1:${port}`,
    holdPath,
    holding: 0,
    get held() {
      return held.length;
    },
    waitForHeld(n, timeoutMs = 20_000) {
      if (held.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`gate: ${held.length} of ${n} requests held after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    releaseAll() {
      return gate.releaseSome(held.length);
    },
    async releaseSome(n) {
      const some = held.splice(0, n);
      await Promise.all(some.map(({ res, ...request }) => forward(request, res)));
    },
    dropAll() {
      for (const h of held.splice(0)) h.res.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const h of held.splice(0)) h.res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return gate;
}
