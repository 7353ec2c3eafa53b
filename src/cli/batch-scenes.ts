/**
 * The scenes of a `wxqr qr batch`: ids S..S+N-1 or strings `P<i>`, computed one at a time from
 * the index (never a list of N), and validated as a whole before any code is created.
 * @module
 */
import { ValidationError } from "../errors.ts";
import { PERMANENT_SCENE_ID_MAX, SCENE_STR_MAX_CHARS, TEMPORARY_SCENE_ID_MAX, type SceneInput } from "../wechat/qr-ticket.ts";

export type CodeType = "temporary" | "permanent";

export interface ScenePlanOptions {
  type: CodeType;
  count: number;
  /** The first numeric scene; the batch takes `sceneStart` .. `sceneStart + count - 1`. */
  sceneStart?: number;
  /** Scene strings `<prefix><i>`, i from 1, zero-padded to the width of `count`. */
  scenePrefix?: string;
}

export interface ScenePlan {
  readonly count: number;
  /** The scene of the code at `index` (0-based), as `createTemporary` / `createPermanent` take it. */
  sceneAt(index: number): SceneInput;
  /** The scene as it appears in file names and in `codes.ndjson`: the id, or the string. */
  sceneValue(index: number): number | string;
  /** The index whose scene is `value` (as `sceneValue` gives it), or `undefined` when it is not in the batch. */
  indexOf(value: unknown): number | undefined;
  /** "1..30" or "shop-01..shop-30", for messages. */
  readonly range: string;
}

// Scene strings become file names (`<scene>.png`): no path separators, and nothing a terminal
// or file system would read as a control character.
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_FILE_NAME = /[/\\\u0000-\u001f\u007f]/;

/**
 * Checks the whole batch up front, so a bad range fails before the first API call rather than
 * halfway through (and after some of the quota is spent).
 * @example
 * planScenes({ type: "permanent", count: 3, sceneStart: 10 }).sceneAt(2); // { sceneId: 12 }
 * planScenes({ type: "temporary", count: 20, scenePrefix: "poster-" }).sceneAt(0); // { sceneStr: "poster-01" }
 */
export function planScenes(options: ScenePlanOptions): ScenePlan {
  const { type, count, sceneStart, scenePrefix } = options;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new ValidationError("count", `must be a whole number of codes, at least 1, got ${String(count)}`);
  }
  if ((sceneStart === undefined) === (scenePrefix === undefined)) {
    throw new ValidationError("batchScene", "give exactly one of --scene-start or --scene-prefix");
  }

  if (sceneStart !== undefined) {
    const max = type === "temporary" ? TEMPORARY_SCENE_ID_MAX : PERMANENT_SCENE_ID_MAX;
    if (!Number.isSafeInteger(sceneStart) || sceneStart < 1 || sceneStart > max) {
      throw new ValidationError("sceneStart", `a ${type} scene id must be a whole number from 1 to ${max}, got ${String(sceneStart)}`);
    }
    if (count > max) {
      throw new ValidationError("count", `a ${type} batch by scene id holds at most ${max} codes (scene ids 1..${max}), got ${count}`);
    }
    const last = sceneStart + count - 1;
    if (last > max) {
      throw new ValidationError(
        "sceneStart",
        `${count} ${type} codes from ${sceneStart} would end at scene ${last}, past the limit of ${max}: ` +
          `start at ${max - count + 1} at most, or lower --count to ${max - sceneStart + 1}`,
      );
    }
    const at = (index: number): number => sceneStart + index;
    const indexOf = (value: unknown): number | undefined =>
      typeof value === "number" && Number.isSafeInteger(value) && value >= sceneStart && value <= last ? value - sceneStart : undefined;
    return { count, sceneAt: (index) => ({ sceneId: at(index) }), sceneValue: at, indexOf, range: `${sceneStart}..${last}` };
  }

  const prefix = scenePrefix!;
  if (UNSAFE_IN_FILE_NAME.test(prefix)) {
    throw new ValidationError("scenePrefix", `must not contain / or \\ or control characters (the scene names its image file), got ${JSON.stringify(prefix)}`);
  }
  const width = String(count).length;
  const at = (index: number): string => `${prefix}${String(index + 1).padStart(width, "0")}`;
  const chars = [...prefix].length + width;
  if (chars > SCENE_STR_MAX_CHARS) {
    throw new ValidationError(
      "scenePrefix",
      `with --count ${count} the scene strings run to ${JSON.stringify(at(count - 1))}, ${chars} characters; ` +
        `a scene string has at most ${SCENE_STR_MAX_CHARS}, so the prefix may have at most ${SCENE_STR_MAX_CHARS - width}`,
    );
  }
  const indexOf = (value: unknown): number | undefined => {
    if (typeof value !== "string" || !value.startsWith(prefix)) return undefined;
    const index = Number(value.slice(prefix.length)) - 1;
    return Number.isSafeInteger(index) && index >= 0 && index < count && at(index) === value ? index : undefined;
  };
  return { count, sceneAt: (index) => ({ sceneStr: at(index) }), sceneValue: at, indexOf, range: `${at(0)}..${at(count - 1)}` };
}
