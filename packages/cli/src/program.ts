// The `wf` command line: commands, options and the error rule (one line, non-zero exit, stack with
// --verbose). `main` is the testable entry; bin.ts calls it with process.argv.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { classifyCommand } from './commands/classify.js';
import { demoCommand } from './commands/demo.js';
import { infoCommand } from './commands/info.js';
import { runCommand } from './commands/run.js';
import { describeError } from './errors.js';

function int(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

function float(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

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
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('run')
    .description('run a checkpoint on inputs from a safetensors file and write the outputs to another')
    .requiredOption('--weights <file>', 'model weights (.safetensors)')
    .requiredOption('--input <file>', 'inputs (.safetensors): "input", or x, t, y for wfm-dit')
    .requiredOption('--output <file>', 'where to write logits/features (or output) as .safetensors')
    .addOption(archOption())
    .option('--heads <n>', 'attention heads (vit)', int('--heads'))
    .option('--backend <name>', 'cpu or gpujs[:mode]', 'cpu')
    .option('--hidden', 'also write embed and every hidden.i')
    .option(
      '--repeat <k>',
      'time K forward passes (median/min/max ms, loading and compiling excluded)',
      int('--repeat'),
    )
    .option('--cfg-scale <s>', 'wfm-dit: classifier-free guidance scale', float)
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      await runCommand(o, io.out);
    });

  program
    .command('classify')
    .description('top-k classes of an image file or an MNIST test digit (mnist:<index>)')
    .argument('<source>', 'PNG/JPEG file, or mnist:<test index>')
    .option('--model <name|file>', 'wfm-mnist, vit-mnist, or a classifier .safetensors', 'wfm-mnist')
    .option('--top <k>', 'how many classes to show', int('--top'), 5)
    .option('--heads <n>', 'attention heads (vit checkpoints)', int('--heads'))
    .option('--backend <name>', 'cpu or gpujs[:mode]', 'cpu')
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

  return program;
}

/** Runs the CLI on `argv` (process.argv layout); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(describeError(err, argv.includes('--verbose')));
    return 1;
  }
}
