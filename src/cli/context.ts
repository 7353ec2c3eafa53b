import type { Deps } from "../deps.ts";

/** What a command may touch; `main.ts` fills it with the real process, tests with their own. */
export interface CliContext {
  env: Record<string, string | undefined>;
  deps: Deps;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Resolves when the user asks a long-running command to stop (Ctrl-C, SIGTERM). */
  untilStopped(): Promise<string>;
}
