// Programmatic entry of @wf/cli: run the `wf` command line in-process.

export { describeError, UsageError } from './errors.js';
export { buildProgram, type Io, main } from './program.js';
