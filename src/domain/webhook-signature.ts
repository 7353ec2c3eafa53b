/**
 * Signatures of the business webhook, in the manner of Stripe's: the header
 * `Wxqr-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` proves who sent the
 * body and when, so a receiver can refuse forgeries and replays of old requests.
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const WEBHOOK_SIGNATURE_HEADER = "wxqr-signature";
export const WEBHOOK_IDEMPOTENCY_HEADER = "idempotency-key";
/** How old a signature `verifyWebhookSignature` accepts by default: 5 minutes, as Stripe. */
export const DEFAULT_WEBHOOK_TOLERANCE_SEC = 300;

function hmacHex(secret: string, timestampSec: number, body: string | Uint8Array): string {
  const hmac = createHmac("sha256", secret).update(`${timestampSec}.`, "utf8");
  return (typeof body === "string" ? hmac.update(body, "utf8") : hmac.update(body)).digest("hex");
}

/**
 * The `Wxqr-Signature` header value for `body` sent at `timestampSec`.
 * @example
 * signWebhook('{"id":"evt_…"}', secret, 1_790_000_000); // "t=1790000000,v1=5f0c…"
 */
export function signWebhook(body: string, secret: string, timestampSec: number): string {
  return `t=${timestampSec},v1=${hmacHex(secret, timestampSec, body)}`;
}

export interface VerifyWebhookOptions {
  /** Largest accepted age (or clock skew) of the signature's timestamp, in seconds. Default 300. */
  toleranceSec?: number;
  /** The receiver's clock, epoch ms. */
  now: number;
}

/**
 * For receivers of the webhook: true when `header` carries a `v1` signature of the exact raw
 * `body` by `secret`, made within `toleranceSec` of `now`. Compare before parsing the body.
 * @example
 * const ok = verifyWebhookSignature(rawBody, req.headers["wxqr-signature"], process.env.WXQR_WEBHOOK_SECRET, { now: Date.now() });
 * if (!ok) return res.writeHead(401).end();
 */
export function verifyWebhookSignature(body: string | Uint8Array, header: string | undefined | null, secret: string, options: VerifyWebhookOptions): boolean {
  if (typeof header !== "string" || header === "") return false;
  let timestampSec: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) timestampSec = Number(value);
    else if (name === "v1" && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (timestampSec === undefined || candidates.length === 0) return false;
  const toleranceSec = options.toleranceSec ?? DEFAULT_WEBHOOK_TOLERANCE_SEC;
  if (Math.abs(options.now / 1000 - timestampSec) > toleranceSec) return false;
  const expected = Buffer.from(hmacHex(secret, timestampSec, body), "hex");
  // Several v1 values may be present while a secret is being rotated.
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, "hex"), expected));
}
