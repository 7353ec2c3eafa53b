/**
 * Keeps secrets out of request logs: the `access_token` and `secret` query values are
 * replaced before a URL reaches a log line (style.md §4: secrets are never logged).
 * @module
 */

const SECRET_QUERY_KEYS = new Set(["access_token", "secret", "appsecret"]);
export const REDACTED = "[redacted]";

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll("+", " ")).toLowerCase();
  } catch {
    return key.toLowerCase();
  }
}

/**
 * @example
 * redactUrl("/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=abc");
 * // "/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=[redacted]"
 */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const key = eq < 0 ? pair : pair.slice(0, eq);
      return SECRET_QUERY_KEYS.has(decodeKey(key)) ? `${key}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join("&")}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/** Fastify's default `req` serializer, with the URL redacted. */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
