/** The field a `ValidationError` names when `fn` throws one; undefined when `fn` passes; any other error is rethrown. */
import { ValidationError } from "../../src/errors.ts";

export function validationFieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}
