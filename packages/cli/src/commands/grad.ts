// `wf grad`: forward plus backward pass of a checkpoint for the loss sum(output * cotangent). Reads the
// model inputs exactly as `wf run` does (`input`, or x, t, y for wfm-dit) plus a `cotangent` of the
// output's shape (other tensors in the file are ignored, so a gradient fixture can be passed as it is), and
// writes the output (`logits` or `output`), the input's gradient (`grad.input` or `grad.x`) and
// `grad.<weight name>` for every trainable parameter. `--repeat` times forward plus backward.
import { loadSafetensors, type TensorData, WfError, writeSafetensorsFile } from '@wf/core';
import type { Arch } from '@wf/models';
import { Command, Option } from 'commander';
import { createBackend } from '../backends.js';
import type { CliCommand } from '../command-table.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { openModel, warnInapplicable } from '../model-source.js';
import {
  archOption,
  backendOption,
  headsOption,
  int,
  jsonOption,
  modelOption,
  noProgressOption,
  threadsOption,
  variantOption,
} from '../options.js';
import { formatTiming, summarize, type TimingSummary } from '../timing.js';

/** Options of `wf grad`. */
export interface GradCommandOptions {
  /** `--model`: a built-in name, a .safetensors path or a URL. */
  model?: string;
  /** `--weights`: the old spelling of `--model`. */
  weights?: string;
  variant?: string;
  progress?: boolean;
  input: string;
  output: string;
  arch?: Arch;
  heads?: number;
  backend: string;
  /** `--threads` of the cpu backend. */
  threads?: number;
  repeat?: number;
  json?: boolean;
}

/** Result of `wf grad` (also printed with --json). */
export interface GradCommandResult {
  output: string;
  backend: string;
  /** Number of tensors written (output, input gradient, parameter gradients). */
  tensors: number;
  /** Gradient tensors written, by name, with their shapes. */
  grads: Record<string, number[]>;
  timing?: TimingSummary;
}

/** Executes `wf grad`; returns what it printed as data. */
export async function gradCommand(opts: GradCommandOptions, ctx: CommandContext): Promise<GradCommandResult> {
  const print = ctx.out;
  if (opts.model && opts.weights && opts.model !== opts.weights)
    throw new UsageError('give the model once: --model (or its old spelling --weights), not both');
  const spec = opts.model ?? opts.weights;
  if (!spec) throw new UsageError('give the model: --model <name|file|url>');
  if (opts.repeat !== undefined && (!Number.isInteger(opts.repeat) || opts.repeat < 1)) {
    throw new UsageError(`--repeat must be a positive integer, got ${opts.repeat}`);
  }
  const model = await openModel({ ...opts, model: spec }, ctx);
  warnInapplicable(ctx, model, opts);
  const parsed = await loadSafetensors(opts.input);
  const isDit = model.config.arch === 'wfm-dit';
  const names = [...(isDit ? ['x', 't', 'y'] : ['input']), 'cotangent'];
  const have = new Set(parsed.names());
  const missing = names.filter((n) => !have.has(n));
  if (missing.length) {
    throw new WfError(
      'E_INPUT',
      `${opts.input} has no tensor ${missing.map((m) => `"${m}"`).join(', ')} (found: ${[...have].join(', ') || 'none'})`,
    );
  }
  const inputs: Record<string, TensorData> = {};
  for (const n of names.slice(0, -1)) inputs[n] = parsed.tensor(n);
  const cotangent = parsed.tensor('cotangent');
  if (isDit && inputs.y.dtype !== 'int32')
    throw new WfError('E_INPUT', `"y" must hold integer class labels, got ${inputs.y.dtype}`);
  if (cotangent.dtype !== 'float32')
    throw new WfError('E_INPUT', `"cotangent" must be float32, got ${cotangent.dtype}`);
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  try {
    let res = await model.grad(backend, inputs, cotangent);
    let timing: TimingSummary | undefined;
    if (opts.repeat) {
      const ms: number[] = [];
      for (let i = 0; i < opts.repeat; i++) {
        const t0 = performance.now();
        res = await model.grad(backend, inputs, cotangent);
        ms.push(performance.now() - t0);
      }
      timing = summarize(ms);
    }
    const out: Record<string, TensorData> = { ...res.outputs };
    for (const [name, g] of res.grads) out[`grad.${name}`] = g;
    await writeSafetensorsFile(opts.output, out, {
      producer: '@wf/cli',
      backend: backend.name,
      arch: model.config.arch,
      loss: `sum(${model.outputName} * cotangent)`,
    });
    const result: GradCommandResult = {
      output: opts.output,
      backend: backend.name,
      tensors: Object.keys(out).length,
      grads: Object.fromEntries([...res.grads].map(([k, v]) => [`grad.${k}`, [...v.shape]])),
      timing,
    };
    if (opts.json) print(JSON.stringify(result));
    else {
      print(
        `wrote ${opts.output}: ${model.outputName}, grad.${model.inputName} and ${res.grads.size - 1} parameter gradients (${model.describe()}, backend ${backend.name})`,
      );
      if (timing) print(`forward + backward: ${formatTiming(timing)}`);
    }
    return result;
  } finally {
    await model.dispose();
    backend.dispose();
  }
}

/** The `wf grad` command. */
export const gradCli: CliCommand = {
  name: 'grad',
  build: (ctx) =>
    new Command('grad')
      .description(
        'forward plus backward pass for the loss sum(output * cotangent): write the output, the input gradient and every parameter gradient',
      )
      .addOption(modelOption())
      .addOption(new Option('--weights <file>', 'old spelling of --model').hideHelp())
      .addOption(variantOption())
      .requiredOption(
        '--input <file>',
        'inputs (.safetensors): "input" (or x, t, y for wfm-dit) and "cotangent" of the output shape',
      )
      .requiredOption(
        '--output <file>',
        'where to write logits (or output), grad.input (or grad.x), grad.<weight>',
      )
      .addOption(archOption())
      .addOption(headsOption())
      .addOption(backendOption())
      .addOption(threadsOption())
      .option(
        '--repeat <k>',
        'time K forward + backward passes (median/min/max ms, loading and compiling excluded)',
        int('--repeat'),
      )
      .addOption(noProgressOption())
      .addOption(jsonOption())
      .action(async (o: GradCommandOptions) => {
        await gradCommand(o, ctx);
      }),
};
