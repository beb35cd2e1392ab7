// `wf run`: runs a checkpoint on inputs from a safetensors file (or, without one, on a seeded random image
// at --res) and writes the outputs to another (--output, optional), with optional repeated timing of the
// forward pass alone. When the input file also holds reference outputs (logits, features, embed, hidden.i,
// output: the .io.safetensors fixtures), it reports parity with them. The command anyone uses to check
// parity and speed.
import { loadSafetensors, seededRandom, type TensorData, WfError, writeSafetensorsFile } from '@wf/core';
import type { Arch, ForwardOptions } from '@wf/models';
import { Command, CommanderError, Option } from 'commander';
import { createBackend } from '../backends.js';
import type { CliCommand } from '../command-table.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { openModel, warnInapplicable } from '../model-source.js';
import {
  archOption,
  backendOption,
  float,
  headsOption,
  int,
  jsonOption,
  modelOption,
  noProgressOption,
  type Resolution,
  resOption,
  threadsOption,
  variantOption,
} from '../options.js';
import { formatTiming, summarize, type TimingSummary } from '../timing.js';

/** Options of `wf run`. */
export interface RunCommandOptions {
  /** `--model` (old spelling `--weights`). */
  model?: string;
  /** Old spelling of `--model`. */
  weights?: string;
  variant?: string;
  /** Inputs file; without it, a seeded random image at `res`. */
  input?: string;
  /** Outputs file; optional. */
  output?: string;
  res?: Resolution;
  arch?: Arch;
  heads?: number;
  backend: string;
  /** `--threads` of the cpu backend. */
  threads?: number;
  hidden?: boolean;
  repeat?: number;
  json?: boolean;
  cfgScale?: number;
  progress?: boolean;
}

/** Agreement of one output with the reference tensor of the same name in the input file. */
export interface ParityEntry {
  /** Largest absolute difference. */
  maxAbsError: number;
  /** Largest absolute difference over the largest reference magnitude (at least 1). */
  maxRelError: number;
}

/** Result of `wf run` (also printed with --json). */
export interface RunResult {
  /** The outputs file, when --output was given. */
  output?: string;
  backend: string;
  /** What the backend runs (`Backend.runtime()`, e.g. `wasm-simd`; else the backend's name). */
  engine: string;
  /** Threads it runs on (1 where the backend does not say). */
  threads: number;
  /** One line on engine, threads and why (e.g. `wasm-simd x2`), where the backend says. */
  runtime?: string;
  tensors: Record<string, number[]>;
  /** Parity with the reference outputs found in the input file, by output name. */
  parity?: Record<string, ParityEntry>;
  timing?: TimingSummary;
}

function pickInputs(
  file: Record<string, TensorData>,
  names: readonly string[],
  path: string,
): Record<string, TensorData> {
  const missing = names.filter((n) => !file[n]);
  if (missing.length) {
    throw new WfError(
      'E_INPUT',
      `${path} has no tensor ${missing.map((m) => `"${m}"`).join(', ')} (found: ${Object.keys(file).join(', ') || 'none'})`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, file[n]]));
}

/** Max absolute and relative (to the largest reference magnitude, at least 1) differences. */
function parityOf(got: TensorData, ref: TensorData): ParityEntry | string {
  if (got.shape.length !== ref.shape.length || got.shape.some((d, i) => d !== ref.shape[i])) {
    return `shape [${got.shape.join(',')}] differs from the reference [${ref.shape.join(',')}]`;
  }
  let e = 0;
  let m = 0;
  for (let i = 0; i < ref.data.length; i++) {
    e = Math.max(e, Math.abs(got.data[i] - ref.data[i]));
    m = Math.max(m, Math.abs(ref.data[i]));
  }
  return { maxAbsError: e, maxRelError: e / Math.max(1, m) };
}

/** Executes `wf run`; returns what it printed as data. */
export async function runCommand(opts: RunCommandOptions, ctx: CommandContext): Promise<RunResult> {
  if (opts.repeat !== undefined && (!Number.isInteger(opts.repeat) || opts.repeat < 1)) {
    throw new UsageError(`--repeat must be a positive integer, got ${opts.repeat}`);
  }
  if (opts.model && opts.weights && opts.model !== opts.weights) {
    throw new UsageError('--weights is the old spelling of --model; give one of them');
  }
  const name = opts.model ?? opts.weights;
  if (!name) {
    throw new CommanderError(
      2,
      'commander.missingMandatoryOptionValue',
      "error: required option '--model <name|file|url>' not specified",
    );
  }
  const model = await openModel({ ...opts, model: name }, ctx);
  warnInapplicable(ctx, model, opts);
  const isDit = model.config.arch === 'wfm-dit';
  const file: Record<string, TensorData> = {};
  if (opts.input) {
    const parsed = await loadSafetensors(opts.input);
    for (const n of parsed.names()) file[n] = parsed.tensor(n);
  } else if (isDit) {
    throw new UsageError('wfm-dit needs --input (a safetensors file with x, t and y)');
  } else {
    const c = model.config as { inChans: number };
    const size = opts.res ?? model.inputSize;
    const n = c.inChans * size.height * size.width;
    const rand = seededRandom(0);
    const data = Float32Array.from({ length: n }, () => 2 * rand() - 1);
    file.input = { dtype: 'float32', shape: [1, c.inChans, size.height, size.width], data };
  }
  const where = opts.input ?? 'the random input';
  const inputNames = isDit ? ['x', 't', 'y'] : ['input'];
  const inputs = pickInputs(file, inputNames, where);
  if (isDit && inputs.y.dtype !== 'int32')
    throw new WfError('E_INPUT', `"y" must hold integer class labels, got ${inputs.y.dtype}`);
  const fwd: ForwardOptions = { hidden: opts.hidden, cfgScale: opts.cfgScale };
  if (isDit) fwd.batch = inputs.x.shape[0];
  else {
    const x = inputs.input;
    if (x.shape.length !== 4)
      throw new WfError('E_INPUT', `"input" must be [B, C, H, W], got [${x.shape.join(',')}]`);
    const c = (model.config as { inChans: number }).inChans;
    if (x.shape[1] !== c)
      throw new WfError('E_INPUT', `"input" has ${x.shape[1]} channels; the model expects ${c}`);
    [fwd.batch, , fwd.height, fwd.width] = x.shape;
    if (opts.res && opts.input && (opts.res.width !== fwd.width || opts.res.height !== fwd.height)) {
      throw new UsageError(
        `--res ${opts.res.width}x${opts.res.height} does not match the input's ${fwd.width}x${fwd.height} (WxH); drop --res or --input`,
      );
    }
  }
  // Reference outputs in the input file: compare what the model writes (hidden states only with --hidden).
  const references = Object.keys(file).filter((k) => !inputNames.includes(k));
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  try {
    const compiled = await model.compile(backend, fwd);
    let outputs = await compiled.run(inputs);
    let timing: TimingSummary | undefined;
    if (opts.repeat) {
      const ms: number[] = [];
      for (let i = 0; i < opts.repeat; i++) {
        const t0 = performance.now();
        outputs = await compiled.run(inputs);
        ms.push(performance.now() - t0);
      }
      timing = summarize(ms);
    }
    if (opts.output) {
      await writeSafetensorsFile(opts.output, outputs, {
        producer: '@wf/cli',
        backend: backend.name,
        arch: model.config.arch,
      });
    }
    const checks: Record<string, ParityEntry> = {};
    const mismatched: string[] = [];
    for (const k of references) {
      if (!outputs[k]) continue;
      const p = parityOf(outputs[k], file[k]);
      if (typeof p === 'string') mismatched.push(`${k}: ${p}`);
      else checks[k] = p;
    }
    const parity = Object.keys(checks).length ? checks : undefined;
    if (mismatched.length) throw new WfError('E_INPUT', `parity with ${where}: ${mismatched.join('; ')}`);
    const rt = backend.runtime?.();
    const result: RunResult = {
      output: opts.output,
      backend: backend.name,
      engine: rt?.engine ?? backend.name,
      threads: rt?.threads ?? 1,
      runtime: rt?.summary,
      tensors: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, [...v.shape]])),
      parity,
      timing,
    };
    if (opts.json) ctx.out(JSON.stringify(result));
    else {
      const list = Object.entries(result.tensors)
        .map(([k, s]) => `${k} [${s.join(',')}]`)
        .join(', ');
      const runs = rt ? `, ${rt.summary}` : '';
      const what = `${list} (${model.describe()}, backend ${backend.name}${runs})`;
      ctx.out(opts.output ? `wrote ${opts.output}: ${what}` : `ran ${what}`);
      if (parity) {
        const fmt = (v: number) => v.toExponential(2);
        ctx.out(
          `parity with ${where}: ${Object.entries(parity)
            .map(([k, p]) => `${k} max abs ${fmt(p.maxAbsError)}, rel ${fmt(p.maxRelError)}`)
            .join('; ')}`,
        );
      }
      if (timing) ctx.out(`forward: ${formatTiming(timing)}`);
    }
    compiled.dispose();
    return result;
  } finally {
    backend.dispose();
    await model.dispose();
  }
}

/** The `wf run` command. */
export const runCli: CliCommand = {
  name: 'run',
  build: (ctx) =>
    new Command('run')
      .description(
        'run a checkpoint on inputs from a safetensors file (or a random image at --res); report parity with reference outputs in that file; write the outputs',
      )
      .addOption(modelOption())
      .addOption(new Option('--weights <file>', 'old spelling of --model').hideHelp())
      .addOption(variantOption())
      .option(
        '--input <file>',
        'inputs (.safetensors): "input", or x, t, y for wfm-dit; reference outputs in it are checked',
      )
      .option('--output <file>', 'where to write logits/features (or output) as .safetensors')
      .addOption(
        resOption("without --input: the random input's resolution N or WxH (default: the checkpoint's)"),
      )
      .addOption(archOption())
      .addOption(headsOption())
      .addOption(backendOption())
      .addOption(threadsOption())
      .option('--hidden', 'also write embed and every hidden.i')
      .option(
        '--repeat <k>',
        'time K forward passes (median/min/max ms, loading and compiling excluded)',
        int('--repeat'),
      )
      .option('--cfg-scale <s>', 'wfm-dit: classifier-free guidance scale', float('--cfg-scale'))
      .addOption(noProgressOption())
      .addOption(jsonOption())
      .action(async (o: RunCommandOptions) => {
        await runCommand(o, ctx);
      }),
};
