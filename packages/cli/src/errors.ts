// User-facing error handling of the CLI: a usage error type, and the rule that every failure prints one
// line naming the problem (the stack only with --verbose) and exits non-zero.
import { WfError } from '@wf/core';

/** A mistake in the command line itself (unknown option value, missing argument). */
export class UsageError extends WfError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/** One line describing `err` for the terminal; with `verbose`, the stack follows. */
export function describeError(err: unknown, verbose: boolean): string {
  if (verbose && err instanceof Error && err.stack) return err.stack;
  if (err instanceof WfError) return `wf: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return `wf: ${code ? `${code}: ` : ''}${err.message.split('\n')[0]}`;
  }
  return `wf: ${String(err)}`;
}
