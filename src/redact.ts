/**
 * Keeps secrets out of logs and error messages (style.md §4: secrets are never logged). The one
 * home of redaction for every layer: the WeChat client's errors, and the request logs of the
 * service and the emulator. Top level, beside `deps.ts`, because the library layers may import
 * only `deps.ts`, `errors.ts` and such shared modules (as `http-limits.ts`), never each other.
 * @module
 */

export const REDACTED = "[redacted]";

/**
 * Query keys whose values are secret, or let a request be replayed: the app secret, the access
 * token, and a push's signatures and echo string (wechat-api.md §4). Compared after decoding.
 */
const SECRET_QUERY_KEYS = new Set(["access_token", "secret", "appsecret", "signature", "msg_signature", "echostr"]);

/**
 * The key as a query parser reads it: `access%5Ftoken` and `%73ecret` are `access_token` and
 * `secret` to the server, so they must be to the redaction too.
 */
function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll("+", " ")).toLowerCase();
  } catch {
    return key.toLowerCase();
  }
}

/**
 * A request URL for a log line: the values of secret query keys replaced, the rest kept.
 * @example
 * redactUrl("/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=abc");
 * // "/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=[redacted]"
 * redactUrl("/cgi-bin/qrcode/create?access%5Ftoken=abc"); // "/cgi-bin/qrcode/create?access%5Ftoken=[redacted]"
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

// A URL's query (`…/cgi-bin/token?grant_type=client_credential&appid=…&secret=…`), and any other
// `?name=value…` run, as the request line of an error page quotes it.
const URL_QUERY_RE = /(https?:\/\/[^\s?]+)\?\S*/g;
const BARE_QUERY_RE = /\?[^\s?=]*=\S*/g;

/**
 * `text` with every query string cut to `?…`: the queries of WeChat calls carry the app secret or
 * the access token, and must reach no error message, HTTP body, log or CLI line. Free text has no
 * reliable key boundaries, so the whole query goes, not only the secret values.
 * @example
 * redactQueries("Failed to parse URL from http://[::1/cgi-bin/token?grant_type=client_credential&secret=s");
 * // "Failed to parse URL from http://[::1/cgi-bin/token?…"
 */
export function redactQueries(text: string): string {
  return text.replace(URL_QUERY_RE, "$1?…").replace(BARE_QUERY_RE, "?…");
}
