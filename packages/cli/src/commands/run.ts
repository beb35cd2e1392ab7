// `wf run`: runs a checkpoint on inputs from a safetensors file and writes the outputs to another, with
// optional repeated timing of the forward pass alone. The command anyone uses to check parity and speed.
import { loadSafetensors, type TensorData, WfError, writeSafetensorsFile } from '@wf/core';
import { type Arch, type ForwardOptions, loadModel } from '@wf/models';
import { createBackend } from '../backends.js';
import { UsageError } from '../errors.js';
import { formatTiming, summarize, type TimingSummary } from '../timing.js';

/** Options of `wf run`. */
export interface RunCommandOptions {
  weights: string;
  input: string;
  output: string;
  arch?: Arch;
  heads?: number;
  backend: string;
  /** `--threads` of the cpu backend. */
  threads?: number;
  hidden?: boolean;
  repeat?: number;
  json?: boolean;
  cfgScale?: number;
}

/** Result of `wf run` (also printed with --json). */
export interface RunResult {
  output: string;
  backend: string;
  /** What the backend runs (`Backend.runtime()`, e.g. `wasm-simd`; else the backend's name). */
  engine: string;
  /** Threads it runs on (1 where the backend does not say). */
  threads: number;
  /** One line on engine, threads and why (e.g. `wasm-simd x2`), where the backend says. */
  runtime?: string;
  tensors: Record<string, number[]>;
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

/** Executes `wf run`; returns what it printed as data. */
export async function runCommand(opts: RunCommandOptions, print: (line: string) => void): Promise<RunResult> {
  if (opts.repeat !== undefined && (!Number.isInteger(opts.repeat) || opts.repeat < 1)) {
    throw new UsageError(`--repeat must be a positive integer, got ${opts.repeat}`);
  }
  const model = await loadModel(opts.weights, { arch: opts.arch, heads: opts.heads });
  const parsed = await loadSafetensors(opts.input);
  const file: Record<string, TensorData> = {};
  for (const n of parsed.names()) file[n] = parsed.tensor(n);
  const isDit = model.config.arch === 'wfm-dit';
  const inputs = pickInputs(file, isDit ? ['x', 't', 'y'] : ['input'], opts.input);
  if (isDit && inputs.y.dtype !== 'int32')
    throw new WfError('E_INPUT', `"y" must hold integer class labels, got ${inputs.y.dtype}`);
  const backend = await createBackend(opts.backend, { threads: opts.threads });
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
  }
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
  await writeSafetensorsFile(opts.output, outputs, {
    producer: '@wf/cli',
    backend: backend.name,
    arch: model.config.arch,
  });
  const rt = backend.runtime?.();
  const result: RunResult = {
    output: opts.output,
    backend: backend.name,
    engine: rt?.engine ?? backend.name,
    threads: rt?.threads ?? 1,
    runtime: rt?.summary,
    tensors: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, [...v.shape]])),
    timing,
  };
  if (opts.json) print(JSON.stringify(result));
  else {
    const list = Object.entries(result.tensors)
      .map(([k, s]) => `${k} [${s.join(',')}]`)
      .join(', ');
    const runs = rt ? `, ${rt.summary}` : '';
    print(`wrote ${opts.output}: ${list} (${model.describe()}, backend ${backend.name}${runs})`);
    if (timing) print(`forward: ${formatTiming(timing)}`);
  }
  compiled.dispose();
  backend.dispose();
  return result;
}
