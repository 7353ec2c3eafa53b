/**
 * One handler per *pattern* of scene values (issue 9): an exact value, a prefix (`"poster-*"`),
 * a scene id, or a predicate that also extracts what it matched. It routes the one `scan`
 * message, so both forms WeChat sends — `subscribe` + `qrscene_…` from a new follower and `SCAN`
 * from a follower — reach the same handler (the peers make users write both, or one rule per
 * value: one WxJava user needed 200,000 exact-match rules).
 *
 * Order: an exact value first (one map lookup, however many are registered), then the longest
 * matching prefix (at most one lookup per character of the scene, ≤ 64), then the predicates in
 * the order they were added, then the fallback. A pattern that could never match, or one
 * registered twice, throws at registration rather than being silently shadowed.
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { ScanMessage, Scene } from "./events.ts";

/** What matched, and the part of the scene the handler cares about. */
export type SceneMatch<P> = P extends `${infer Prefix}*`
  ? { kind: "prefix"; prefix: Prefix; /** The scene after the prefix: `"42"` for `"poster-42"` under `"poster-*"`. */ rest: string; scene: Scene }
  : P extends number
    ? { kind: "id"; id: number; scene: Scene }
    : { kind: "exact"; value: string; scene: Scene };

export interface PredicateMatch<T> {
  kind: "predicate";
  /** What the predicate returned. */
  value: T;
  scene: Scene;
}

export interface FallbackMatch {
  kind: "fallback";
  scene: Scene;
}

export type SceneHandler<M, R> = (message: ScanMessage, match: M) => R | Promise<R>;

export interface SceneRouter<R> {
  /**
   * `"poster-*"` matches every scene that starts with `poster-` (the `*` must be last, and only
   * there); any other string matches itself; a number matches that scene id.
   */
  on<const P extends string | number>(pattern: P, handler: SceneHandler<SceneMatch<P>, R>): SceneRouter<R>;
  /** Matches a scene that is exactly `value`, even one ending in `*`. */
  onExact(value: string, handler: SceneHandler<SceneMatch<string>, R>): SceneRouter<R>;
  /** Matches when `test` returns anything but `undefined` or `false`; that value reaches the handler. */
  onMatch<T>(test: (scene: Scene, message: ScanMessage) => T | undefined | false, handler: SceneHandler<PredicateMatch<T>, R>): SceneRouter<R>;
  /** Runs when nothing else matched. */
  fallback(handler: SceneHandler<FallbackMatch, R>): SceneRouter<R>;
  /** Runs the handler for the message's scene; `undefined` when nothing matched and there is no fallback. */
  route(message: ScanMessage): Promise<R | undefined>;
}

const SCENE_STR_MAX = 64; // scene_str is 1..64 characters (wechat-api.md §1)
const SCENE_ID_MAX = 4_294_967_295;

type Route<R> = (message: ScanMessage) => R | Promise<R>;

/**
 * @example
 * const router = createSceneRouter<string | undefined>()
 *   .on("poster-*", (message, { rest }) => `Thanks for scanning poster ${rest}`)
 *   .on("vip", () => "Welcome, VIP")
 *   .onMatch((scene) => /^shop-(\d+)$/.exec(scene.str)?.[1], (message, { value }) => `Shop ${value}`)
 *   .fallback(() => undefined);
 * const text = message.kind === "scan" ? await router.route(message) : undefined;
 */
export function createSceneRouter<R = void>(): SceneRouter<R> {
  const exact = new Map<string, Route<R>>();
  const prefixes = new Map<string, Route<R>>();
  let longestPrefix = 0;
  const predicates: Array<(message: ScanMessage) => { run: () => R | Promise<R> } | undefined> = [];
  let fallback: Route<R> | undefined;

  const addExact = (value: string, route: Route<R>): void => {
    if (value.length < 1 || value.length > SCENE_STR_MAX)
      throw new ValidationError("pattern", `a scene is 1 to ${SCENE_STR_MAX} characters; ${JSON.stringify(value)} can never match`);
    if (exact.has(value)) throw new ValidationError("pattern", `${JSON.stringify(value)} already has a handler`);
    exact.set(value, route);
  };

  const router: SceneRouter<R> = {
    on(pattern, handler) {
      const h = handler as SceneHandler<unknown, R>;
      if (typeof pattern === "number") {
        if (!Number.isInteger(pattern) || pattern < 0 || pattern > SCENE_ID_MAX)
          throw new ValidationError("pattern", `a scene id is a whole number from 0 to ${SCENE_ID_MAX}`);
        addExact(String(pattern), (m) => h(m, { kind: "id", id: pattern, scene: m.scene }));
        return router;
      }
      const star = pattern.indexOf("*");
      if (star === -1) {
        addExact(pattern, (m) => h(m, { kind: "exact", value: pattern, scene: m.scene }));
        return router;
      }
      if (star !== pattern.length - 1)
        throw new ValidationError("pattern", `"*" may only end a pattern (a prefix), got ${JSON.stringify(pattern)}; use onExact or onMatch`);
      const prefix = pattern.slice(0, -1);
      if (prefix.length >= SCENE_STR_MAX) throw new ValidationError("pattern", `a prefix must be shorter than ${SCENE_STR_MAX} characters`);
      if (prefixes.has(prefix)) throw new ValidationError("pattern", `${JSON.stringify(pattern)} already has a handler`);
      prefixes.set(prefix, (m) => h(m, { kind: "prefix", prefix, rest: m.scene.str.slice(prefix.length), scene: m.scene }));
      longestPrefix = Math.max(longestPrefix, prefix.length);
      return router;
    },
    onExact(value, handler) {
      addExact(value, (m) => handler(m, { kind: "exact", value, scene: m.scene }));
      return router;
    },
    onMatch(test, handler) {
      predicates.push((m) => {
        const value = test(m.scene, m);
        return value === undefined || value === false ? undefined : { run: () => handler(m, { kind: "predicate", value, scene: m.scene }) };
      });
      return router;
    },
    fallback(handler) {
      if (fallback) throw new ValidationError("fallback", "a fallback is already set");
      fallback = (m) => handler(m, { kind: "fallback", scene: m.scene });
      return router;
    },
    async route(message) {
      const str = message.scene.str;
      const hit = exact.get(str);
      if (hit) return hit(message);
      for (let n = Math.min(longestPrefix, str.length); n >= 0; n--) {
        const byPrefix = prefixes.get(str.slice(0, n));
        if (byPrefix) return byPrefix(message);
      }
      for (const predicate of predicates) {
        const found = predicate(message);
        if (found) return found.run();
      }
      return fallback ? fallback(message) : undefined;
    },
  };
  return router;
}
