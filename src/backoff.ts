/**
 * The wait before a retry, for every retry loop wxqr runs (the WeChat client's calls, the business
 * webhook's deliveries): exponential, capped, with "equal jitter" drawn from the injected `Random`
 * (stripe's scheme, but injected: style.md §5). Top level, beside `deps.ts`, because both the
 * `wechat/` layer (which may import only such shared modules) and `domain/` need it.
 * @module
 */
import type { Random } from "./deps.ts";

export interface BackoffSteps {
  /** The step before the first retry; it doubles with each retry after that. */
  baseDelayMs: number;
  /** The longest step. */
  maxDelayMs: number;
}

// 2^40 steps are far past any cap; a larger exponent would overflow to Infinity (and NaN at base 0).
const MAX_DOUBLINGS = 40;

/**
 * Milliseconds to wait before retry number `retry` (1 for the first): base·2^(retry−1), capped at
 * `maxDelayMs`, then between half and all of that step, so callers that failed together do not retry together.
 * @example
 * backoffDelayMs({ baseDelayMs: 200, maxDelayMs: 3_000 }, 3, random); // 400 to 800
 */
export function backoffDelayMs(steps: BackoffSteps, retry: number, random: Random): number {
  const step = Math.min(steps.maxDelayMs, steps.baseDelayMs * 2 ** Math.min(Math.max(retry - 1, 0), MAX_DOUBLINGS));
  return Math.round(step * (0.5 + random.float() * 0.5));
}
