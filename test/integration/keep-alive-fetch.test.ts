import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { systemDeps } from "../../src/deps.ts";
import { createKeepAliveFetch, type KeepAliveFetch } from "../../src/keep-alive-fetch.ts";
import { describeRequestFailure } from "../../src/request-failure.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server | undefined;
let http: KeepAliveFetch | undefined;
afterEach(async () => {
  http?.close();
  http = undefined;
  server?.closeAllConnections();
  if (server?.listening) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** A loopback server; `connections` counts the TCP connections it accepted. */
async function serve(handler: Handler): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  server.on("connection", () => connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

function start(): KeepAliveFetch {
  http = createKeepAliveFetch({ fallback: systemDeps().fetch });
  return http;
}

describe("createKeepAliveFetch", () => {
  it("sends a JSON POST and reads the answer as fetch would, over one reused connection", async () => {
    const seen: { method?: string; type?: string; length?: string; body: string }[] = [];
    const { url, connections } = await serve((req, body, res) => {
      seen.push({ method: req.method, type: req.headers["content-type"], length: req.headers["content-length"], body });
      res.writeHead(200, { "content-type": "application/json", "x-n": String(seen.length) });
      res.end(JSON.stringify({ echo: JSON.parse(body) as unknown }));
    });
    const { fetch } = start();
    for (let i = 1; i <= 20; i++) {
      const res = await fetch(`${url}/cgi-bin/qrcode/create?access_token=t`, {
        method: "POST",
        body: JSON.stringify({ n: i, name: "场景" }),
        headers: { "Content-Type": "application/json" },
      });
      expect(res.status).toBe(200);
      expect(res.ok).toBe(true);
      expect(res.headers.get("x-n")).toBe(String(i));
      expect(await res.json()).toEqual({ echo: { n: i, name: "场景" } });
    }
    expect(seen[0]).toEqual({
      method: "POST",
      type: "application/json",
      length: String(Buffer.byteLength('{"n":1,"name":"场景"}')),
      body: '{"n":1,"name":"场景"}',
    });
    expect(connections()).toBe(1);
  });

  it("gives a non-2xx answer with ok false and its body, and refuses a second read of the body", async () => {
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(502, "Bad Gateway", { "content-type": "text/html" });
      res.end("<h1>bad gateway</h1>");
    });
    const res = await start().fetch(`${url}/x`);
    expect(res.status).toBe(502);
    expect(res.statusText).toBe("Bad Gateway");
    expect(res.ok).toBe(false);
    expect(await res.text()).toBe("<h1>bad gateway</h1>");
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toBeInstanceOf(TypeError);
  });

  it("decodes a gzip answer the server sent unasked", async () => {
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(JSON.stringify({ ticket: "abc" })));
    });
    expect(await (await start().fetch(`${url}/x`)).json()).toEqual({ ticket: "abc" });
  });

  it("gives the bytes of a binary answer unchanged, and a body stream that can be cancelled", async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]);
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      res.end(bytes);
    });
    const { fetch } = start();
    expect(Buffer.from(await (await fetch(`${url}/a.png`)).arrayBuffer())).toEqual(bytes);
    const res = await fetch(`${url}/b.png`);
    expect(res.body).not.toBeNull();
    await res.body!.cancel();
    expect(res.bodyUsed).toBe(true);
  });

  it("rejects as fetch does when the deadline passes: a TimeoutError the request layer names", async () => {
    // Real time is the thing under test here: the server never answers, the deadline is 50 ms.
    const { url } = await serve(() => {});
    const failure = await start()
      .fetch(`${url}/slow`, { signal: AbortSignal.timeout(50) })
      .catch((error: unknown) => error);
    expect((failure as Error).name).toBe("TimeoutError");
    expect(describeRequestFailure(failure, 50)).toBe("no answer within 50 ms");
  });

  it("rejects as fetch does when nothing listens: a TypeError whose cause carries the socket's code", async () => {
    const { url } = await serve(() => {});
    server!.close();
    await once(server!, "close");
    const failure = await start()
      .fetch(`${url}/x`)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(((failure as Error).cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("leaves a multipart upload to the fallback fetch, which writes the boundary", async () => {
    const { url } = await serve((req, body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: req.headers["content-type"], hasFile: body.includes('name="media"; filename="a.txt"') }));
    });
    const form = new FormData();
    form.append("media", new Blob(["hello"]), "a.txt");
    const answer = (await (await start().fetch(`${url}/cgi-bin/media/upload`, { method: "POST", body: form })).json()) as { type: string; hasFile: boolean };
    expect(answer.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(answer.hasFile).toBe(true);
  });

  it("follows a redirect through the fallback fetch", async () => {
    const { url } = await serve((req, _body, res) => {
      if (req.url === "/moved") {
        res.writeHead(302, { location: "/here" });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`at ${req.url}`);
    });
    const res = await start().fetch(`${url}/moved`);
    expect(res.redirected).toBe(true);
    expect(await res.text()).toBe("at /here");
  });
});
