/**
 * Rendered posters kept in memory, least recently used out first, bounded by their total bytes.
 * Keys start with the design's version, so a design's posters can be dropped together when it
 * changes (on another instance they simply stop being asked for, and age out).
 * @module
 */

export interface PosterCache {
  get(key: string): Buffer | undefined;
  set(key: string, png: Buffer): void;
  /** Drops every entry whose key starts with `prefix`. */
  dropPrefix(prefix: string): void;
  readonly bytes: number;
  readonly size: number;
}

/**
 * @example
 * const cache = createPosterCache({ maxBytes: 64 * 1_048_576 });
 * cache.set(`${version}\n${url}`, png);
 */
export function createPosterCache(options: { maxBytes: number }): PosterCache {
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest use first.
  const entries = new Map<string, Buffer>();
  let bytes = 0;
  const drop = (key: string): void => {
    const png = entries.get(key);
    if (png === undefined) return;
    entries.delete(key);
    bytes -= png.length;
  };
  return {
    get(key) {
      const png = entries.get(key);
      if (png !== undefined) {
        entries.delete(key);
        entries.set(key, png);
      }
      return png;
    },
    set(key, png) {
      drop(key);
      if (png.length > options.maxBytes) return;
      entries.set(key, png);
      bytes += png.length;
      for (const oldest of entries.keys()) {
        if (bytes <= options.maxBytes) break;
        drop(oldest);
      }
    },
    dropPrefix(prefix) {
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) drop(key);
    },
    get bytes() {
      return bytes;
    },
    get size() {
      return entries.size;
    },
  };
}
