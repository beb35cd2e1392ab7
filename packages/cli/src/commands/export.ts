// `wf export`: a checkpoint (or a built-in / named model) to an ONNX file, and optionally a Triton model
// repository entry (`DIR/NAME/config.pbtxt` and `DIR/NAME/1/model.onnx`). Files are written atomically:
// to a temporary name beside the target, then renamed, so a failed export leaves nothing half-written.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WfError } from '@wf/core';
import { type Arch, loadModel, MODEL_VARIANTS, randomModel, type WfModel } from '@wf/models';
import { BUILTIN_MODELS, type BuiltinModel, loadBuiltinModel } from '@wf/models/node';
import {
  checkTritonName,
  DEFAULT_OPSET,
  exportModel,
  type OnnxExport,
  SUPPORTED_OPSETS,
  tritonRepositoryFiles,
} from '@wf/onnx';
import { Command, InvalidArgumentError } from 'commander';
import type { CliCommand } from '../command-table.js';
import { UsageError } from '../errors.js';
import { archOption, headsOption, int, jsonOption } from '../options.js';

/** Options of `wf export`. */
export interface ExportCommandOptions {
  weights?: string;
  model?: string;
  arch?: Arch;
  heads?: number;
  res?: number;
  height?: number;
  width?: number;
  onnx?: string;
  opset?: number;
  triton?: string;
  name?: string;
  maxBatchSize?: number;
  features?: boolean;
  externalData?: boolean;
  staticBatch?: number;
  json?: boolean;
}

/** What `wf export` wrote (also printed with --json). */
export interface ExportResult {
  files: string[];
  opset: number;
  nodes: number;
  inputs: { name: string; dtype: string; shape: (number | string)[] }[];
  outputs: { name: string; dtype: string; shape: (number | string)[] }[];
}

async function openModel(opts: ExportCommandOptions): Promise<{ model: WfModel; label: string }> {
  if (opts.weights && opts.model) throw new UsageError('give --weights or --model, not both');
  if (opts.weights)
    return {
      model: await loadModel(opts.weights, { arch: opts.arch, heads: opts.heads }),
      label: opts.weights,
    };
  if (!opts.model) throw new UsageError('give the model to export: --weights FILE or --model NAME');
  if ((BUILTIN_MODELS as readonly string[]).includes(opts.model)) {
    return { model: await loadBuiltinModel(opts.model as BuiltinModel), label: opts.model };
  }
  if (opts.model in MODEL_VARIANTS) {
    return {
      model: randomModel(opts.model as keyof typeof MODEL_VARIANTS),
      label: `${opts.model} (random weights)`,
    };
  }
  throw new UsageError(
    `unknown --model "${opts.model}" (use ${[...BUILTIN_MODELS, ...Object.keys(MODEL_VARIANTS)].join(', ')}, or --weights FILE)`,
  );
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes files into place atomically: each to a temporary name in the same folder, then renamed. */
async function writeAtomic(files: readonly { path: string; bytes: Uint8Array }[]): Promise<void> {
  const temps: string[] = [];
  try {
    for (const f of files) {
      await mkdir(dirname(f.path), { recursive: true });
      const t = tempName(f.path);
      temps.push(t);
      await writeFile(t, f.bytes);
    }
    for (let i = 0; i < files.length; i++) await rename(temps[i], files[i].path);
  } catch (err) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    throw err;
  }
}

/** Writes a Triton model folder atomically: built under a temporary name, then swapped into place. */
async function writeTritonModel(
  repo: string,
  name: string,
  files: readonly { path: string; bytes: Uint8Array }[],
) {
  const final = join(repo, name);
  const staging = tempName(final);
  const old = `${staging}.old`;
  try {
    for (const f of files) {
      const p = join(staging, f.path.slice(name.length + 1));
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.bytes);
    }
    const existing = await stat(final).catch(() => undefined);
    if (existing && !existing.isDirectory())
      throw new WfError('E_OUTPUT', `${final} exists and is not a folder`);
    if (existing) await rename(final, old);
    await rename(staging, final);
    await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

function fmtDims(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`;
}

/** Executes `wf export`; returns what it wrote. */
export async function exportCommand(
  opts: ExportCommandOptions,
  print: (line: string) => void,
): Promise<ExportResult> {
  if (!opts.onnx && !opts.triton)
    throw new UsageError('nothing to write: give --onnx OUT.onnx and/or --triton DIR');
  if (opts.res !== undefined && (opts.height !== undefined || opts.width !== undefined)) {
    throw new UsageError('give --res, or --height and --width, not both');
  }
  if (opts.width !== undefined && opts.height === undefined) throw new UsageError('--width needs --height');
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset)) {
    throw new UsageError(
      `--opset ${opset} is not supported (use ${SUPPORTED_OPSETS[0]} to ${SUPPORTED_OPSETS.at(-1)})`,
    );
  }
  if (!opts.triton && (opts.name !== undefined || opts.maxBatchSize !== undefined)) {
    throw new UsageError('--name and --max-batch-size apply to --triton');
  }
  const name = opts.name ?? opts.model ?? basename(opts.weights ?? 'model').replace(/\.safetensors$/i, '');
  if (opts.triton) {
    try {
      checkTritonName(name);
    } catch (err) {
      throw new UsageError(`${(err as Error).message} (set it with --name)`);
    }
  }
  if (opts.staticBatch !== undefined && opts.triton && (opts.maxBatchSize ?? 8) > 0) {
    throw new UsageError(
      'a Triton model with --max-batch-size above 0 needs the dynamic batch; drop --static-batch',
    );
  }
  const { model, label } = await openModel(opts);
  const height = opts.height ?? opts.res;
  const exp: OnnxExport = exportModel(model, {
    height,
    width: opts.width ?? height,
    features: opts.features,
    staticBatch: opts.staticBatch,
    opset,
    externalData: opts.externalData ? `${opts.onnx ? basename(opts.onnx) : 'model.onnx'}.data` : undefined,
    docString: `${model.describe()} exported by weightformer.js from ${label}`,
    metadata: { arch: model.config.arch, config: JSON.stringify(model.config) },
  });
  const written: string[] = [];
  if (opts.onnx) {
    const path = resolve(opts.onnx);
    const files = [{ path, bytes: exp.model }];
    if (exp.externalData)
      files.push({ path: join(dirname(path), exp.externalData.location), bytes: exp.externalData.bytes });
    await writeAtomic(files);
    written.push(...files.map((f) => f.path));
  }
  if (opts.triton) {
    // Inside a Triton repository the model file is always 1/model.onnx (and its data model.onnx.data).
    const tritonExp =
      opts.externalData && opts.onnx
        ? exportModel(model, {
            height,
            width: opts.width ?? height,
            features: opts.features,
            staticBatch: opts.staticBatch,
            opset,
            externalData: 'model.onnx.data',
          })
        : exp;
    const files = tritonRepositoryFiles(tritonExp, { name, maxBatchSize: opts.maxBatchSize });
    await writeTritonModel(resolve(opts.triton), name, files);
    written.push(...files.map((f) => join(resolve(opts.triton!), f.path)));
  }
  const result: ExportResult = {
    files: written,
    opset: exp.opset,
    nodes: exp.nodeCount,
    inputs: exp.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: exp.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
  };
  if (opts.json) print(JSON.stringify(result));
  else {
    const io = `${exp.inputs.map((v) => `${v.name} ${fmtDims(v.shape)}`).join(', ')} -> ${exp.outputs
      .map((v) => `${v.name} ${fmtDims(v.shape)}`)
      .join(', ')}`;
    print(`${label}: ONNX opset ${exp.opset}, ${exp.nodeCount} nodes, ${io}`);
    for (const f of written) print(`wrote ${f}`);
  }
  return result;
}

/** The `wf export` command. */
export const exportCli: CliCommand = {
  name: 'export',
  build: (ctx) =>
    new Command('export')
      .description(
        'export a model to ONNX, and optionally a Triton model repository (config.pbtxt + 1/model.onnx)',
      )
      .option('--weights <file>', 'model weights (.safetensors)')
      .option('--model <name>', 'wfm-mnist, vit-mnist, or a variant name with random weights (wfm-tiny, ...)')
      .addOption(archOption())
      .addOption(headsOption())
      .option('--res <px>', 'square input size in pixels (default: the native one)', int('--res'))
      .option('--height <px>', 'input height in pixels', int('--height'))
      .option('--width <px>', 'input width in pixels (default = height)', int('--width'))
      .option('--onnx <file>', 'write the ONNX model here')
      .option('--opset <n>', 'ONNX opset, 13 to 21 (default 18)', int('--opset'))
      .option('--triton <dir>', 'write a Triton model repository entry DIR/NAME')
      .option('--name <name>', 'Triton model name (default: the model or weights file name)')
      .option(
        '--max-batch-size <n>',
        'Triton max_batch_size (default 8; 0 disables batching)',
        (v: string) => {
          if (!/^\d+$/.test(v))
            throw new InvalidArgumentError('--max-batch-size must be a non-negative integer');
          return Number(v);
        },
      )
      .option('--features', 'also output the pooled features (classifiers)')
      .option('--external-data', 'store the weights in a separate OUT.onnx.data file')
      .option(
        '--static-batch <n>',
        'a fixed batch size instead of the symbolic batch dimension',
        int('--static-batch'),
      )
      .addOption(jsonOption())
      .action(async (o: ExportCommandOptions) => {
        await exportCommand(o, ctx.out);
      }),
};
