// Programmatic entry of @wf/cli: run the `wf` command line in-process.

export { type CliCommand, COMMANDS } from './command-table.js';
export type { CommandContext } from './context.js';
export { describeError, UsageError } from './errors.js';
export { buildProgram, type Io, main, VERSION } from './program.js';
