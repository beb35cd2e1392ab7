// The table of `wf` commands. Each command lives in its own file under commands/ and exports a
// `CliCommand` that builds its commander `Command` (arguments, options from options.ts, action); adding a
// command is one new file and one line in COMMANDS.
import type { Command } from 'commander';
import { classifyCli } from './commands/classify.js';
import { demoCli } from './commands/demo.js';
import { erfCli, erfFigureCli } from './commands/erf-register.js';
import { exportCli } from './commands/export.js';
import { gradCli } from './commands/grad.js';
import { infoCli } from './commands/info.js';
import { runCli } from './commands/run.js';
import { trainCli } from './commands/train.js';
import type { CommandContext } from './context.js';

/** One `wf` command. */
export interface CliCommand {
  /** The command's name, as typed after `wf`. */
  readonly name: string;
  /** Builds the command (its action reports through `ctx`). */
  build(ctx: CommandContext): Command;
}

/** Every command, in the order `wf --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  runCli,
  classifyCli,
  infoCli,
  gradCli,
  trainCli,
  erfCli,
  erfFigureCli,
  exportCli,
  demoCli,
];
