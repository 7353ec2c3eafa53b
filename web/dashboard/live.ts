/**
 * The live feed: one EventSource on /api/events/stream for the whole app, while signed in. Pages
 * read the recent rows, and refetch their figures when `tick` moves, so every figure on screen
 * follows the scans without a reload.
 */
import { useEffect, useState } from "preact/hooks";
import type { EventKind, ScanLogRow } from "./types.ts";

export type LiveStatus = "connecting" | "open" | "closed";

const KINDS: readonly EventKind[] = ["scan", "subscribe", "unsubscribe", "other"];
const KEEP_ROWS = 200;
// Several rows of one push, or a burst of scans, cost one refetch per page.
const REFETCH_AFTER_MS = 250;

interface LiveState {
  rows: ScanLogRow[];
  status: LiveStatus;
  tick: number;
}

let state: LiveState = { rows: [], status: "closed", tick: 0 };
let source: EventSource | null = null;
let tickTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

function set(next: Partial<LiveState>): void {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
}

function onRow(event: MessageEvent<string>): void {
  let row: ScanLogRow;
  try {
    row = JSON.parse(event.data) as ScanLogRow;
  } catch {
    return;
  }
  if (state.rows.some((r) => r.seq === row.seq)) return;
  set({ rows: [row, ...state.rows].slice(0, KEEP_ROWS) });
  if (tickTimer === undefined)
    tickTimer = setTimeout(() => {
      tickTimer = undefined;
      set({ tick: state.tick + 1 });
    }, REFETCH_AFTER_MS);
}

export function startLive(): void {
  if (source !== null) return;
  const s = new EventSource("/api/events/stream");
  source = s;
  set({ status: "connecting" });
  for (const kind of KINDS) s.addEventListener(kind, onRow);
  s.onopen = () => {
    set({ status: "open" });
    // Whatever happened while the stream was down is in the figures now.
    set({ tick: state.tick + 1 });
  };
  // EventSource reconnects by itself (with Last-Event-ID); it gives up only on a refusal, e.g. 401.
  s.onerror = () => set({ status: s.readyState === EventSource.CLOSED ? "closed" : "connecting" });
}

export function stopLive(): void {
  source?.close();
  source = null;
  // Signed out, the rows are admin data like any other: keep none.
  set({ status: "closed", rows: [] });
}

export function restartLive(): void {
  stopLive();
  startLive();
}

export function useLive(): LiveState {
  const [snapshot, setSnapshot] = useState(state);
  useEffect(() => {
    const update = (): void => setSnapshot(state);
    listeners.add(update);
    update();
    return () => void listeners.delete(update);
  }, []);
  return snapshot;
}
