/**
 * Bounds on the server-sent-event streams open at once. A stream is long-lived by design, so a
 * rate limit does not bound it: a count does, per scan session (a page open in a few tabs) and
 * per client address (one machine opening streams for many sessions).
 * @module
 */
import { StreamLimitError } from "../errors.ts";
import { DEFAULT_SSE_STREAM_LIMITS } from "../http-limits.ts";

export interface StreamLimits {
  /** Open streams per scan session. Default 3 (`DEFAULT_SSE_STREAM_LIMITS`). */
  perSession: number;
  /** Open streams per client address. Default 20. */
  perClient: number;
}

export interface StreamSlots {
  /**
   * Takes a slot for both keys (for the client's only, with no session: the live feed), or throws
   * `StreamLimitError`; the returned function frees it (once).
   */
  acquire(sessionId: string | null, client: string): () => void;
  /** Open streams now, for one session or one client (tests, metrics). */
  open(key: { sessionId: string } | { client: string }): number;
}

export function createStreamSlots(limits: StreamLimits = DEFAULT_SSE_STREAM_LIMITS): StreamSlots {
  const bySession = new Map<string, number>();
  const byClient = new Map<string, number>();
  const take = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);
  const give = (map: Map<string, number>, key: string): void => {
    const left = (map.get(key) ?? 0) - 1;
    // Keys of finished streams go: the maps hold only what is open.
    if (left > 0) map.set(key, left);
    else map.delete(key);
  };
  return {
    acquire(sessionId, client) {
      if (sessionId !== null && (bySession.get(sessionId) ?? 0) >= limits.perSession) throw new StreamLimitError("session", limits.perSession);
      if ((byClient.get(client) ?? 0) >= limits.perClient) throw new StreamLimitError("client", limits.perClient);
      if (sessionId !== null) take(bySession, sessionId);
      take(byClient, client);
      let freed = false;
      return () => {
        if (freed) return;
        freed = true;
        if (sessionId !== null) give(bySession, sessionId);
        give(byClient, client);
      };
    },
    open: (key) => ("sessionId" in key ? (bySession.get(key.sessionId) ?? 0) : (byClient.get(key.client) ?? 0)),
  };
}
