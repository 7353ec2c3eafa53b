/**
 * A database poll that runs only while someone watches: open streams learn of changes other
 * instances made by polling, and no poll runs when no stream is open.
 * @module
 */

/**
 * Returns `hold`: each call keeps `poll` running (started with the first holder) and returns the
 * function that lets go; the last to let go aborts the poll's signal.
 * @example
 * const hold = pollWhileWatched((signal) => pollLoop(signal));
 * const letGo = hold(); // a stream opened
 * letGo(); // it closed: with no other holder, the poll stops
 */
export function pollWhileWatched(poll: (signal: AbortSignal) => Promise<void>): () => () => void {
  let holders = 0;
  let running: AbortController | undefined;
  return () => {
    holders += 1;
    if (!running) {
      running = new AbortController();
      void poll(running.signal);
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      holders -= 1;
      if (holders === 0 && running) {
        running.abort();
        running = undefined;
      }
    };
  };
}
