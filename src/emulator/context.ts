import type { Fetch, Logger, Random } from "../deps.ts";
import type { EmulatorState } from "./state.ts";

/** What every route needs: the state, the emulator clock, randomness, HTTP out (pushes) and the event logger. */
export interface EmulatorContext {
  state: EmulatorState;
  /** Epoch ms: the injected clock plus `state.clockOffsetMs`. */
  now: () => number;
  random: Random;
  fetch: Fetch;
  logger: Logger;
}

/** The first string value of a query parameter (a repeated key gives an array). */
export function queryValue(query: unknown, key: string): string | undefined {
  if (typeof query !== "object" || query === null) return undefined;
  const value: unknown = (query as Record<string, unknown>)[key];
  if (typeof value === "string") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

/** The raw request body as text (every content type is read as a string). */
export function rawBody(body: unknown): string {
  return typeof body === "string" ? body : "";
}
