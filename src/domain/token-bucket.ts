/**
 * A token bucket per key (per client address, per subject …), on the injected clock. In memory,
 * per process: a limit against abuse, not an accounting. Keys whose bucket has filled up again
 * are forgotten once there are many, so memory stays bounded.
 * @module
 */
import type { Clock } from "../deps.ts";

export interface TokenBuckets {
  /** Takes one token for `key`: 0 when allowed, else the milliseconds until one is available. */
  take(key: string): number;
}

/** Keys kept before full buckets are swept. */
const SWEEP_ABOVE = 10_000;

export function createTokenBuckets(options: { perMinute: number; burst?: number; clock: Clock }): TokenBuckets {
  const { clock } = options;
  const capacity = options.burst ?? options.perMinute;
  const perMs = options.perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const level = (b: { tokens: number; at: number }, now: number): number => Math.min(capacity, b.tokens + Math.max(0, now - b.at) * perMs);

  return {
    take(key) {
      const now = clock.now();
      if (buckets.size > SWEEP_ABOVE) {
        for (const [k, b] of buckets) if (level(b, now) >= capacity) buckets.delete(k);
      }
      const b = buckets.get(key) ?? { tokens: capacity, at: now };
      const tokens = level(b, now);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: now });
        return Math.ceil((1 - tokens) / perMs);
      }
      buckets.set(key, { tokens: tokens - 1, at: now });
      return 0;
    },
  };
}
