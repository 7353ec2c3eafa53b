/**
 * A `fetch` for API calls made by the thousand (`wxqr qr batch`): `node:http(s)` over a keep-alive
 * agent, the answer buffered whole. undici's fetch costs ≈ 0.45 ms of CPU per small JSON call on
 * this machine (WHATWG streams, `Headers`, `Response`), this ≈ 0.14 ms; building even a
 * `new Response` from the buffered bytes costs another 0.15 ms, so the answer is a lean object
 * with the `Response` members a JSON or image call reads (issue #11, bench/README.md `batch`).
 *
 * It takes only the requests it can serve exactly: http(s), a string or byte body (or none), no
 * `redirect`/`credentials`-style options that change semantics. Anything else — a `FormData`
 * upload, a stream — goes to `fallback` (the injected fetch), as does a redirect's next hop, so
 * callers see fetch's behaviour either way.
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import type { Fetch } from "./deps.ts";

export interface KeepAliveFetchOptions {
  /** Serves what this one does not (multipart bodies, streams, redirects). */
  fallback: Fetch;
}

export interface KeepAliveFetch {
  fetch: Fetch;
  /** Closes the idle sockets; in-flight requests finish. Idle sockets never keep the process alive anyway. */
  close(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * @example
 * const http = createKeepAliveFetch({ fallback: deps.fetch });
 * const client = createWeChatClient(options, { ...deps, fetch: http.fetch });
 * // … thousands of calls over a few reused sockets …
 * http.close();
 */
export function createKeepAliveFetch(options: KeepAliveFetchOptions): KeepAliveFetch {
  const { fallback } = options;
  // Idle sockets are unref'd by Node's agent, so a finished command exits without close().
  const agents = { "http:": new HttpAgent({ keepAlive: true }), "https:": new HttpsAgent({ keepAlive: true }) };

  const fetchImpl = async (input: Parameters<Fetch>[0], init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : undefined;
    const body = init.body;
    const servable =
      url !== undefined &&
      (url.startsWith("http://") || url.startsWith("https://")) &&
      (body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array) &&
      (init.redirect === undefined || init.redirect === "follow");
    if (!servable) return fallback(input, init);
    const answer = await send(url, init, body ?? undefined, agents);
    if (REDIRECTS.has(answer.status) && answer.headers.has("location")) return fallback(input, init);
    return answer;
  };

  return {
    fetch: fetchImpl as Fetch,
    close: () => {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

function send(url: string, init: RequestInit, body: string | Uint8Array | undefined, agents: { "http:": HttpAgent; "https:": HttpsAgent }): Promise<Response> {
  const secure = url.startsWith("https://");
  const headers = plainHeaders(init.headers);
  if (body !== undefined) headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAnswer = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        try {
          resolve(bufferedResponse(url, res, decode(Buffer.concat(chunks), res.headers["content-encoding"])));
        } catch (error) {
          reject(new TypeError("fetch failed", { cause: error }));
        }
      });
      res.on("error", fail);
    };
    // fetch's own shapes: a cut signal rejects with its reason (TimeoutError for AbortSignal.timeout),
    // a socket error with TypeError("fetch failed") whose cause carries the code (ECONNREFUSED, …).
    const fail = (error: Error): void => reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error }));
    const options = { method: init.method ?? "GET", headers, agent: secure ? agents["https:"] : agents["http:"], signal };
    const req = secure ? httpsRequest(url, options, onAnswer) : httpRequest(url, options, onAnswer);
    req.on("error", fail);
    req.end(body);
  });
}

function plainHeaders(given: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (given === undefined) return out;
  // Plain objects (what the WeChat client passes) directly; anything else through Headers, which joins repeats.
  const entries: Iterable<[string, string | readonly string[]]> =
    given instanceof Headers || Array.isArray(given)
      ? new Headers(given as ConstructorParameters<typeof Headers>[0])
      : Object.entries(given as Record<string, string>);
  for (const [name, value] of entries) out[name.toLowerCase()] = typeof value === "string" ? value : value.join(", ");
  return out;
}

/** fetch decodes these whether asked for or not; a server may send them unasked. */
function decode(bytes: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case undefined:
    case "":
    case "identity":
      return bytes;
    case "gzip":
    case "x-gzip":
      return gunzipSync(bytes);
    case "deflate":
      return inflateSync(bytes);
    case "br":
      return brotliDecompressSync(bytes);
    default:
      throw new Error(`unsupported content-encoding ${encoding}`);
  }
}

/**
 * The `Response` members a buffered answer can give exactly; `body` is made on first use, and
 * reading the body twice fails as fetch's does.
 */
function bufferedResponse(url: string, res: IncomingMessage, bytes: Buffer): Response {
  const status = res.statusCode ?? 0;
  let headers: Headers | undefined;
  let stream: ReadableStream<Uint8Array> | undefined;
  let used = false;
  const take = (): Buffer => {
    if (used) throw new TypeError("Body is unusable: Body has already been read");
    used = true;
    return bytes;
  };
  const lean = {
    url,
    status,
    statusText: res.statusMessage ?? "",
    ok: status >= 200 && status < 300,
    redirected: false,
    type: "basic",
    get headers(): Headers {
      headers ??= new Headers(
        Object.entries(res.headers).flatMap(([name, value]) =>
          Array.isArray(value) ? value.map((v) => [name, v]) : value === undefined ? [] : [[name, value]],
        ),
      );
      return headers;
    },
    get bodyUsed(): boolean {
      return used;
    },
    get body(): ReadableStream<Uint8Array> | null {
      if (stream === undefined && !used) stream = new Blob([take()]).stream();
      return stream ?? null;
    },
    text: async () => take().toString("utf8"),
    json: async () => JSON.parse(take().toString("utf8")) as unknown,
    arrayBuffer: async () => {
      const b = take();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },
    bytes: async () => new Uint8Array(take()),
    blob: async () => new Blob([take()], { type: res.headers["content-type"] ?? "" }),
    formData: async () => new Response(take(), { headers: lean.headers }).formData(),
    clone: () => {
      if (used) throw new TypeError("Response.clone: Body has already been consumed.");
      return bufferedResponse(url, res, bytes);
    },
  };
  return lean as unknown as Response;
}
