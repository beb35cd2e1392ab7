// `wf info`: what a checkpoint is: architecture, configuration, parameter count, dynamic blocks, input size,
// labels, and the FLOPs of one forward pass at a resolution (N or WxH).
import type { Arch } from '@wf/models';
import { Command, CommanderError } from 'commander';
import type { CliCommand } from '../command-table.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { openModel, warnInapplicable } from '../model-source.js';
import {
  archOption,
  headsOption,
  jsonOption,
  modelOption,
  noProgressOption,
  type Resolution,
  resOption,
  variantOption,
} from '../options.js';

/** Options of `wf info`. */
export interface InfoOptions {
  model?: string;
  variant?: string;
  arch?: Arch;
  heads?: number;
  res?: Resolution;
  json?: boolean;
  progress?: boolean;
}

/** Executes `wf info`; returns the facts it printed. */
export async function infoCommand(
  positional: string | undefined,
  opts: InfoOptions,
  ctx: CommandContext,
): Promise<Record<string, unknown>> {
  if (positional && opts.model && positional !== opts.model) {
    throw new UsageError(`give the model once: --model ${opts.model} or ${positional}, not both`);
  }
  const name = opts.model ?? positional;
  if (!name) {
    throw new CommanderError(
      2,
      'commander.missingMandatoryOptionValue',
      "error: required option '--model <name|file|url>' (or the checkpoint as an argument) not specified",
    );
  }
  const model = await openModel({ ...opts, model: name }, ctx);
  warnInapplicable(ctx, model, opts);
  const c = model.config;
  const native = model.inputSize;
  const res = opts.res ?? { width: native.width, height: native.height };
  if (c.arch === 'wfm-dit' && (res.width !== native.width || res.height !== native.height))
    throw new UsageError(`wfm-dit runs at its input size ${native.width} only`);
  const cost = model.cost(c.arch === 'wfm-dit' ? {} : { height: res.height, width: res.width });
  const dynamic = c.arch === 'vit' ? [] : [...c.dynamicBlocks];
  const tokens = (res.height / c.patchSize) * (res.width / c.patchSize);
  const labels = model.labels;
  const facts = {
    arch: c.arch,
    config: c,
    parameters: model.parameterCount,
    dynamicBlocks: dynamic,
    inputSize: native,
    preprocessing: c.arch === 'wfm-dit' ? undefined : model.preprocessing,
    labels: labels ? { count: labels.length, first: labels.slice(0, 5) } : undefined,
    // `resolution` stays a number for square inputs (as before); width/height are always given.
    resolution: res.width === res.height ? res.width : `${res.width}x${res.height}`,
    width: res.width,
    height: res.height,
    tokens,
    gflops: cost.flops / 1e9,
    metadata: model.metadata,
  };
  if (opts.json) ctx.out(JSON.stringify(facts));
  else {
    ctx.out(`${name}: ${model.describe()}`);
    ctx.out(`parameters: ${model.parameterCount.toLocaleString('en-US')}`);
    ctx.out(`config: ${JSON.stringify(c)}`);
    if (c.arch !== 'vit') ctx.out(`dynamic blocks: ${dynamic.length ? dynamic.join(', ') : 'none'}`);
    ctx.out(`input: ${native.channels}x${native.height}x${native.width} (CxHxW)`);
    if (labels) ctx.out(`labels: ${labels.length} (${labels.slice(0, 3).join(', ')}, ...)`);
    ctx.out(`at ${res.width}x${res.height} (${tokens} tokens): ${facts.gflops.toFixed(3)} GFLOP per image`);
  }
  await model.dispose();
  return facts;
}

/** The `wf info` command. */
export const infoCli: CliCommand = {
  name: 'info',
  build: (ctx) =>
    new Command('info')
      .description('architecture, configuration, parameters, input size, labels and FLOPs of a checkpoint')
      .argument('[model]', 'the same as --model')
      .addOption(modelOption())
      .addOption(variantOption())
      .addOption(archOption())
      .addOption(headsOption())
      .addOption(resOption('resolution N or WxH for the FLOP count (default: the native one)'))
      .addOption(noProgressOption())
      .addOption(jsonOption())
      .action(async (positional: string | undefined, o: InfoOptions) => {
        await infoCommand(positional, o, ctx);
      }),
};
