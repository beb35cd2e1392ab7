// The `wf` command line: commands, options and the error rule (one line, non-zero exit, stack with
// --verbose). `main` is the testable entry; bin.ts calls it with process.argv.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { classifyCommand } from './commands/classify.js';
import { demoCommand } from './commands/demo.js';
import { registerErfCommands } from './commands/erf-register.js';
import { gradCommand } from './commands/grad.js';
import { infoCommand } from './commands/info.js';
import { runCommand } from './commands/run.js';
import { describeError } from './errors.js';

/** Largest `--threads`: more worker threads than this only exhausts the machine. */
const MAX_THREADS = 256;

/**
 * Parser of a positive integer option. BUG FIX: it accepted 0 (and integers past 2^53), so `--digits 0`
 * printed "accuracy NaN%" and `--heads 0` was taken as given, although the message says "positive".
 */
function int(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) {
      throw new InvalidArgumentError(
        `${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`,
      );
    }
    return n;
  };
}

/** Parser of a finite number option. */
function float(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

/** Parser of `--max-pixels`: a positive integer, also written like 1e8. */
function pixels(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?(e\+?\d+)?$/i.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('--max-pixels must be a positive integer number of pixels, e.g. 1e8');
  }
  return n;
}

const threadsOption = () =>
  new Option('--threads <n>', 'cpu backend: threads for matrix products (default: all cores)').argParser(
    int('--threads', MAX_THREADS),
  );

const archOption = () =>
  new Option('--arch <arch>', 'architecture (default: from metadata/config/shapes)').choices([
    'wfm',
    'vit',
    'wfm-dit',
  ]);

/** I/O used by `main` (replaceable in tests). */
export interface Io {
  /** Writes one line of normal output (stdout by default). */
  out: (line: string) => void;
  /** Writes one line of error output (stderr by default). */
  err: (line: string) => void;
}

const defaultIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Builds the command tree; actions report through `io`. */
export function buildProgram(io: Io): Command {
  const program = new Command('wf')
    .description('WeightFormer.js: linear-time global visual modeling in JavaScript')
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

  program
    .command('run')
    .description('run a checkpoint on inputs from a safetensors file and write the outputs to another')
    .requiredOption('--weights <file>', 'model weights (.safetensors)')
    .requiredOption('--input <file>', 'inputs (.safetensors): "input", or x, t, y for wfm-dit')
    .requiredOption('--output <file>', 'where to write logits/features (or output) as .safetensors')
    .addOption(archOption())
    .option('--heads <n>', 'attention heads (vit)', int('--heads'))
    .option('--backend <name>', 'cpu or gpujs[:mode]', 'cpu')
    .addOption(threadsOption())
    .option('--hidden', 'also write embed and every hidden.i')
    .option(
      '--repeat <k>',
      'time K forward passes (median/min/max ms, loading and compiling excluded)',
      int('--repeat'),
    )
    .option('--cfg-scale <s>', 'wfm-dit: classifier-free guidance scale', float('--cfg-scale'))
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      await runCommand(o, io.out);
    });

  program
    .command('grad')
    .description(
      'forward plus backward pass for the loss sum(output * cotangent): write the output, the input gradient and every parameter gradient',
    )
    .requiredOption('--weights <file>', 'model weights (.safetensors)')
    .requiredOption(
      '--input <file>',
      'inputs (.safetensors): "input" (or x, t, y for wfm-dit) and "cotangent" of the output shape',
    )
    .requiredOption(
      '--output <file>',
      'where to write logits (or output), grad.input (or grad.x), grad.<weight>',
    )
    .addOption(archOption())
    .option('--heads <n>', 'attention heads (vit)', int('--heads'))
    .option('--backend <name>', 'cpu or gpujs[:mode]', 'cpu')
    .addOption(threadsOption())
    .option(
      '--repeat <k>',
      'time K forward + backward passes (median/min/max ms, loading and compiling excluded)',
      int('--repeat'),
    )
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      await gradCommand(o, io.out);
    });

  program
    .command('classify')
    .description('top-k classes of an image file or an MNIST test digit (mnist:<index>)')
    .argument('<source>', 'PNG/JPEG file, or mnist:<test index>')
    .option('--model <name|file>', 'wfm-mnist, vit-mnist, or a classifier .safetensors', 'wfm-mnist')
    .option('--top <k>', 'how many classes to show', int('--top'), 5)
    .option('--heads <n>', 'attention heads (vit checkpoints)', int('--heads'))
    .option('--backend <name>', 'cpu or gpujs[:mode]', 'cpu')
    .addOption(threadsOption())
    .option(
      '--max-pixels <n>',
      'largest image accepted, in pixels, checked before decoding (default: 1e8)',
      pixels,
    )
    .option('--json', 'print the result as JSON')
    .action(async (source, o) => {
      await classifyCommand(source, o, io.out);
    });

  program
    .command('info')
    .description('architecture, configuration, parameters, dynamic blocks and FLOPs of a checkpoint')
    .argument('<weights>', 'model weights (.safetensors)')
    .addOption(archOption())
    .option('--heads <n>', 'attention heads (vit)', int('--heads'))
    .option('--res <px>', 'resolution for the FLOP count (default: the native one)', int('--res'))
    .option('--json', 'print as JSON')
    .action(async (weights, o) => {
      await infoCommand(weights, o, io.out);
    });

  program
    .command('demo')
    .description(
      'MNIST accuracy of the built-in WeightFormer and ViT, then a WeightFormer block vs attention from 196 to 12,544 tokens',
    )
    .option('--backend <name>', 'cpu or gpujs[:mode]', 'cpu')
    .addOption(threadsOption())
    .option('--max-tokens <n>', 'largest token count of the block comparison', int('--max-tokens'), 12544)
    .option('--no-progress', 'no progress bar')
    .addOption(
      new Option('--digits <n>', 'evaluate only the first N test digits')
        .argParser(int('--digits'))
        .hideHelp(),
    )
    .action(async (o) => {
      await demoCommand(o, io.out);
    });

  registerErfCommands(program, io.out);
  return program;
}

/** Commander's exits after it printed help or the version itself: nothing more to say. */
const HELP_EXITS = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version']);

/**
 * Runs the CLI on `argv` (process.argv layout); resolves to the exit code: 0 on success, 2 for a command
 * line that does not parse, 1 for any other failure. A failure prints one line `wf: <what is wrong>` to `io.err`
 * (the stack trace instead with `--verbose`); it never rejects.
 */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      if (!HELP_EXITS.has(err.code)) io.err(describeError(err, verbose));
      return 2;
    }
    io.err(describeError(err, verbose));
    return 1;
  }
}
