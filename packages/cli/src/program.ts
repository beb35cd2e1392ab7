// The `wf` command line: the root program (--version, --verbose), the commands of the command table, and
// the error rule (one line, non-zero exit, stack with --verbose; a JSON object with --json). `main` is the
// testable entry; bin.ts calls it with process.argv.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './command-table.js';
import type { CommandContext } from './context.js';
import { describeError, errorJson } from './errors.js';

/** I/O used by `main` (replaceable in tests). */
export interface Io {
  /** Writes one line of normal output (stdout by default). */
  out: (line: string) => void;
  /** Writes one line of error output (stderr by default). */
  err: (line: string) => void;
  /** True when progress bars may be drawn on stderr (default: stderr is a terminal). */
  interactive?: boolean;
}

const defaultIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  interactive: !!process.stderr.isTTY,
};

/** The version of @wf/cli. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;

/** Builds the command tree; actions report through `io`. */
export function buildProgram(io: Io): Command {
  const ctx: CommandContext = {
    out: io.out,
    err: io.err,
    warn: (text) => io.err(`wf: warning: ${text}`),
    interactive: io.interactive ?? false,
  };
  const program = new Command('wf')
    .description('WeightFormer.js: linear-time global visual modeling in JavaScript')
    .version(VERSION, '-V, --version', 'print the version of wf')
    .option('--verbose', 'show stack traces on errors')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // BUG FIX: commander printed its parse errors itself, as "error: ..." plus a "(Did you mean ...)" line
      // plus an "(add --help for usage)" line, and never a stack with --verbose. `main` prints them now, by
      // the same one-line rule as every other error (see describeError).
      outputError: () => {},
    });
  for (const c of COMMANDS) {
    // Subcommands inherit the root's error handling and output.
    const cmd = c
      .build(ctx)
      .exitOverride()
      .configureOutput({
        writeOut: (s) => io.out(s.trimEnd()),
        writeErr: (s) => io.err(s.trimEnd()),
        outputError: () => {},
      });
    program.addCommand(cmd);
  }
  return program;
}

/** Commander's exits after it printed help or the version itself: nothing more to say. */
const HELP_EXITS = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version']);

/**
 * Runs the CLI on `argv` (process.argv layout); resolves to the exit code: 0 on success, 2 for a command
 * line that does not parse, 1 for any other failure. A failure prints one line `wf: <what is wrong>` to `io.err`
 * (the stack trace instead with `--verbose`), or with `--json` one line `{"error":{"code","message"}}` to
 * `io.out`; it never rejects.
 */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  const report = (err: unknown) => {
    if (json) io.out(JSON.stringify(errorJson(err)));
    if (!json || verbose) io.err(describeError(err, verbose));
  };
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      if (!HELP_EXITS.has(err.code)) report(err);
      return 2;
    }
    report(err);
    return 1;
  }
}
