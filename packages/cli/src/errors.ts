// User-facing error handling of the CLI: a usage error type, and the rule that every failure prints one
// line naming the problem (the stack only with --verbose) and exits non-zero.
import { WfError } from '@wf/core';
import { CommanderError } from 'commander';

/** A mistake in the command line itself (unknown option value, missing argument). */
export class UsageError extends WfError {
  /** @param message - What is wrong, one line. */
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/**
 * `s` on one line and safe for a terminal: line breaks (with the spaces around them) become one space, other
 * control characters `\xNN`. Messages can quote text from the files given (tensor names, chunk types).
 */
function oneLine(s: string): string {
  return s
    .trim()
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * One line describing `err` for the terminal, `wf: <message>`; with `verbose`, the stack trace instead.
 * Command-line parse errors (commander's) get `(add --help for usage)`; other errors that are not WfErrors
 * keep the first line of their message, after their Node error code when they have one.
 */
export function describeError(err: unknown, verbose: boolean): string {
  if (verbose && err instanceof Error && err.stack) return err.stack;
  if (err instanceof CommanderError) {
    return `wf: ${oneLine(err.message.replace(/^error: /, ''))} (add --help for usage)`;
  }
  if (err instanceof WfError) return `wf: ${oneLine(err.message)}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return `wf: ${code ? `${code}: ` : ''}${oneLine(err.message.split('\n')[0])}`;
  }
  return `wf: ${oneLine(String(err))}`;
}

/**
 * `err` as the JSON that `--json` prints: `{ "error": { "code", "message" } }`, the message being the one
 * line of {@link describeError} without its `wf: ` prefix. Codes: a WfError's (`E_IO`, `E_IMAGE`, ...),
 * `E_USAGE` for the command line, a Node error code, or `E_INTERNAL`.
 */
export function errorJson(err: unknown): { error: { code: string; message: string } } {
  const code =
    err instanceof WfError
      ? err.code
      : err instanceof CommanderError
        ? 'E_USAGE'
        : typeof (err as NodeJS.ErrnoException | undefined)?.code === 'string'
          ? String((err as NodeJS.ErrnoException).code)
          : 'E_INTERNAL';
  return { error: { code, message: describeError(err, false).replace(/^wf: /, '') } };
}
