// The `wf erf` and `wf erf-figure` entries of the command table (their options live next to them).
import { Command, InvalidArgumentError } from 'commander';
import type { CliCommand } from '../command-table.js';
import { erfCommand } from './erf.js';
import { erfFigureCommand } from './erf-figure.js';

function positiveInt(name: string, allowZero = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || (!allowZero && n < 1) || !Number.isSafeInteger(n))
      throw new InvalidArgumentError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
    return n;
  };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The `wf erf` command. */
export const erfCli: CliCommand = {
  name: 'erf',
  build: (ctx) =>
    new Command('erf')
      .description(
        "effective receptive field of a checkpoint over images, as the reference's erf.py: write erf and erf_norm (and a PNG heatmap)",
      )
      .option('--weights <file>', 'model weights (.safetensors)')
      .option(
        '--model <name>',
        'wfm-mnist, vit-mnist, or a variant at seeded random init (wfm-tiny, deit-tiny, ...)',
      )
      .requiredOption(
        '--images <src>',
        'mnist[:N] (first N MNIST test digits, default all), a folder of PNG/JPEG files, or a .safetensors file with inputs [N,C,H,W] used as is',
      )
      .option(
        '--res <px>',
        'image side for mnist and folders (default: the model size)',
        positiveInt('--res'),
      )
      .option('--batch <n>', 'images per batch (default 8)', positiveInt('--batch'))
      .option(
        '--seed <n>',
        'seed of the random init with --model <variant> (default 0)',
        positiveInt('--seed', true),
      )
      .option('--heads <n>', 'attention heads (vit checkpoints)', positiveInt('--heads'))
      .option('--backend <name>', 'cpu[:plain] or gpujs[:mode]', 'cpu')
      .option('--threads <n>', 'cpu backend: threads for matrix products', positiveInt('--threads'))
      .requiredOption('--output <file>', 'where to write erf and erf_norm (.safetensors)')
      .option('--png <file>', 'also write erf_norm as a heatmap PNG with a colour bar')
      .option('--no-progress', 'no progress bar')
      .option('--json', 'print the result as JSON')
      .action(async (o) => {
        await erfCommand(o, ctx.out);
      }),
};

/** The `wf erf-figure` command. */
export const erfFigureCli: CliCommand = {
  name: 'erf-figure',
  build: (ctx) =>
    new Command('erf-figure')
      .description(
        "the paper's Figure 3 in miniature: ERF maps of Static, ViT and every DynLinear / DynDWConv strategy (random init, and trained checkpoints), a table, and WFM-T vs DeiT-T at 448 px",
      )
      .option('--out-dir <dir>', 'where to write the figures and the table', 'erf-figures')
      .option('--images <src>', 'images for the MNIST-size maps', 'mnist:200')
      .option('--seed <n>', 'seed of the random init', positiveInt('--seed', true), 0)
      .option(
        '--checkpoint <column=file>',
        'a trained checkpoint for a column (repeatable), e.g. linear-gap=gap.safetensors',
        collect,
      )
      .option('--no-builtin', 'do not fill ViT / Bilateral / Adaptive with the built-in MNIST models')
      .option(
        '--accuracy-digits <n>',
        'test digits for the trained accuracy (default all; 0 skips)',
        positiveInt('--accuracy-digits', true),
      )
      .option(
        '--big-res <px...>',
        'resolutions of the WFM-T vs DeiT-T figure (default 448)',
        (v: string, p: number[] = []) => [...p, positiveInt('--big-res')(v)],
      )
      .option('--no-big', 'skip the WFM-T vs DeiT-T figure')
      .option('--big-images <src>', 'images of the WFM-T vs DeiT-T figure', 'mnist:2')
      .option('--columns <keys...>', 'only these columns (static, vit, linear-gap, ..., dwconv-conv)')
      .option('--batch <n>', 'images per batch', positiveInt('--batch'))
      .option('--backend <name>', 'cpu[:plain] or gpujs[:mode]', 'cpu')
      .option('--threads <n>', 'cpu backend: threads for matrix products', positiveInt('--threads'))
      .option('--json', 'print the result as JSON')
      .action(async (o) => {
        await erfFigureCommand(
          {
            ...o,
            noBuiltin: o.builtin === false,
            bigRes: o.big === false ? [] : o.bigRes,
          },
          ctx.out,
        );
      }),
};
