/**
 * Injected failures: the next `count` calls to a path answer an errcode instead of
 * doing their work (`POST /emulator/faults`), e.g. `-1 system error` to test retries;
 * with `after`, only once that many calls have gone through (a quota that runs out mid-batch).
 * @module
 */
import type { EmulatorState } from "./state.ts";

/**
 * The API paths a fault can be armed on (showqrcode fails with HTTP 404, not an errcode).
 * @example
 * const body = JSON.stringify({ path: FAULT_PATHS[2], errcode: -1, count: 2 });
 * await fetch(`${base}/emulator/faults`, { method: "POST", body });
 */
export const FAULT_PATHS = [
  "/cgi-bin/token",
  "/cgi-bin/stable_token",
  "/cgi-bin/qrcode/create",
  "/cgi-bin/media/upload",
  "/cgi-bin/message/custom/send",
  "/cgi-bin/tags/create",
  "/cgi-bin/tags/get",
  "/cgi-bin/tags/members/batchtagging",
  "/cgi-bin/tags/getidlist",
] as const;
export type FaultPath = (typeof FAULT_PATHS)[number];

/** Queues `count` answers of `errcode` after any already queued for `path`, the first once `after` more calls have gone through. */
export function addFault(state: EmulatorState, path: FaultPath, errcode: number, count: number, after = 0): void {
  const queue = state.faults.get(path) ?? [];
  queue.push({ errcode, after, remaining: count });
  state.faults.set(path, queue);
}

/** Consumes one queued fault for `path`, returning its errcode, or `undefined` when none is due. */
export function takeFault(state: EmulatorState, path: FaultPath): number | undefined {
  const queue = state.faults.get(path);
  const head = queue?.[0];
  if (queue === undefined || head === undefined) return undefined;
  if (head.after > 0) {
    head.after -= 1;
    return undefined;
  }
  head.remaining -= 1;
  if (head.remaining <= 0) queue.shift();
  if (queue.length === 0) state.faults.delete(path);
  return head.errcode;
}

/** The faults still armed; `after` appears while calls are still being let through. */
export function listFaults(state: EmulatorState): { path: FaultPath; errcode: number; remaining: number; after?: number }[] {
  return [...state.faults].flatMap(([path, queue]) =>
    queue.map((f) => ({ path, errcode: f.errcode, remaining: f.remaining, ...(f.after > 0 ? { after: f.after } : {}) })),
  );
}
