/**
 * A tiny `node:http` proxy between the emulator and the service's push endpoint. Every push is
 * forwarded and the service's answer awaited (so whatever the service commits is committed),
 * but the proxy can still answer the emulator 503 for the first attempts of every message, the
 * way a lost reply looks to WeChat, which then delivers the same message again. It records
 * every request, so a test can also re-POST an identical signed push itself.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface ProxiedPush {
  /** Path and query, exactly as the emulator sent them (signature included). */
  path: string;
  body: Buffer;
  contentType: string;
  /** Which attempt of this message (same body) this was, from 1. */
  attempt: number;
  /** The service's status. */
  serviceStatus: number;
  /** What the proxy answered the emulator. */
  answered: number;
}

export interface PushProxy {
  /** The URL to give the emulator as its push URL (`…/wechat`). */
  pushUrl: string;
  /** Where pushes go: the service's origin, `http://127.0.0.1:<port>`. */
  target: string;
  /** Per message (identified by its body): answer 503 to this many first attempts, whatever the service said. */
  failFirst: number;
  /** Runs after the service answered and before the proxy answers the emulator. */
  onServiceAnswer: ((push: ProxiedPush) => Promise<void> | void) | undefined;
  pushes: ProxiedPush[];
  /** POSTs the recorded push again, byte for byte, straight to the service. */
  replay(push: ProxiedPush): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

const FORWARD_TIMEOUT_MS = 20_000;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startPushProxy(options: { failFirst?: number } = {}): Promise<PushProxy> {
  const attempts = new Map<string, number>();

  async function forward(path: string, body: Buffer, contentType: string): Promise<{ status: number; text: string; contentType: string }> {
    const res = await fetch(`${proxy.target}${path}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") ?? "text/plain" };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? "/";
    const contentType = req.headers["content-type"] ?? "text/xml";
    const key = createHash("sha256").update(body).digest("hex");
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    let answer: { status: number; text: string; contentType: string };
    try {
      answer = await forward(path, body, contentType);
    } catch (err) {
      answer = { status: 502, text: `proxy: ${(err as Error).message}`, contentType: "text/plain" };
    }
    const lose = attempt <= proxy.failFirst;
    const push: ProxiedPush = { path, body, contentType, attempt, serviceStatus: answer.status, answered: lose ? 503 : answer.status };
    proxy.pushes.push(push);
    await proxy.onServiceAnswer?.(push);
    if (lose) {
      res.writeHead(503, { "content-type": "text/plain" }).end("reply lost (test proxy)");
      return;
    }
    res.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`proxy failed: ${(err as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };

  const proxy: PushProxy = {
    pushUrl: `http://127.0.0.1:${port}/wechat`,
    target: "",
    failFirst: options.failFirst ?? 0,
    onServiceAnswer: undefined,
    pushes: [],
    async replay(push) {
      const { status, text } = await forward(push.path, push.body, push.contentType);
      return { status, text };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
