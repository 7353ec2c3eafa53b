/**
 * A business-webhook receiver for tests: a bare `node:http` server on 127.0.0.1 that records
 * every request it gets (raw body and headers) and can be told to answer 503 for the next n
 * requests, to answer every request with a redirect elsewhere, or to be down altogether (its port
 * refuses connections) until brought up again.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  body: string;
  signature: string | undefined;
  idempotencyKey: string | undefined;
  contentType: string | undefined;
  /** What this receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedWebhook[];
  /** Answer 503 to this many of the next requests. */
  failNext: number;
  /** Answer every request with this redirect (status and Location) instead. */
  redirect: { status: number; location: string } | undefined;
  /** Stop listening: connections to the port are refused. */
  down(): Promise<void>;
  /** Listen again, on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const handle: WebhookReceiver = {
    url: "",
    requests: [],
    failNext: 0,
    redirect: undefined,
    down: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    up: () => listen(port),
    close: () => handle.down(),
  };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const redirect = handle.redirect;
      const status = redirect ? redirect.status : handle.failNext > 0 ? 503 : 200;
      if (status === 503) handle.failNext--;
      const header = (name: string): string | undefined => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(",") : v;
      };
      handle.requests.push({
        body,
        signature: header("wxqr-signature"),
        idempotencyKey: header("idempotency-key"),
        contentType: header("content-type"),
        status,
      });
      if (redirect) res.writeHead(status, { location: redirect.location, "content-type": "text/plain" }).end("moved");
      else res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "try later");
    });
  });
  const listen = (p: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  handle.url = `http://127.0.0.1:${port}/hooks/wxqr`;
  return handle;
}
