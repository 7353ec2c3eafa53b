/**
 * Turns any failure into one line on stderr and an exit code; never a stack trace
 * (a stack is printed only with WXQR_DEBUG=1, for bug reports).
 */
import { BatchDirectoryError, ConfigError, QrError, ValidationError } from "../errors.ts";
import { flagFor } from "./parse.ts";

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/**
 * A command ran but did not get what it asked for (the emulator refused a scan, a push was not
 * delivered): its message is the whole line, and the exit code is 1.
 * @example
 * throw new CommandFailure("scan refused: the code has expired (expired)");
 */
export class CommandFailure extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILURE) {
    super(message);
    this.name = "CommandFailure";
    this.exitCode = exitCode;
  }
}

export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CommandFailure) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof ValidationError) {
    const detail = err.message.slice(err.field.length + 2);
    return { line: `${flagFor(err.field)}: ${detail}`, exitCode: EXIT_USAGE };
  }
  if (err instanceof ConfigError) {
    return { line: `configuration: ${err.problems.map((p) => `${flagFor(p.key)} ${p.message}`).join("; ")}`, exitCode: EXIT_USAGE };
  }
  // The arguments do not fit the directory: a usage error, like a bad flag.
  if (err instanceof BatchDirectoryError) return { line: `${err.message} [${err.code}]`, exitCode: EXIT_USAGE };
  if (err instanceof QrError) return { line: `${err.message} [${err.code}]`, exitCode: EXIT_FAILURE };
  if (err instanceof Error) return { line: `unexpected error: ${err.message}`, exitCode: EXIT_FAILURE };
  return { line: `unexpected error: ${String(err)}`, exitCode: EXIT_FAILURE };
}
