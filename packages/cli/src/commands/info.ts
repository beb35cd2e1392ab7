// `wf info`: what a checkpoint is: architecture, configuration, parameter count, dynamic blocks, and the
// FLOPs of one forward pass at a resolution.
import { type Arch, loadModel } from '@wf/models';
import { UsageError } from '../errors.js';

/** Options of `wf info`. */
export interface InfoOptions {
  arch?: Arch;
  heads?: number;
  res?: number;
  json?: boolean;
}

/** Executes `wf info`; returns the facts it printed. */
export async function infoCommand(
  weights: string,
  opts: InfoOptions,
  print: (line: string) => void,
): Promise<Record<string, unknown>> {
  const model = await loadModel(weights, { arch: opts.arch, heads: opts.heads });
  const c = model.config;
  const native = c.arch === 'wfm-dit' ? c.inputSize : c.imgSize;
  const res = opts.res ?? native;
  if (!Number.isInteger(res) || res <= 0)
    throw new UsageError(`--res must be a positive integer, got ${opts.res}`);
  if (c.arch === 'wfm-dit' && res !== native)
    throw new UsageError(`wfm-dit runs at its input size ${native} only`);
  const cost = model.cost(c.arch === 'wfm-dit' ? {} : { height: res, width: res });
  const dynamic = c.arch === 'vit' ? [] : [...c.dynamicBlocks];
  const facts = {
    arch: c.arch,
    config: c,
    parameters: model.parameterCount,
    dynamicBlocks: dynamic,
    resolution: res,
    tokens: (res / c.patchSize) ** 2,
    gflops: cost.flops / 1e9,
    metadata: model.metadata,
  };
  if (opts.json) print(JSON.stringify(facts));
  else {
    print(`${weights}: ${model.describe()}`);
    print(`parameters: ${model.parameterCount.toLocaleString('en-US')}`);
    print(`config: ${JSON.stringify(c)}`);
    if (c.arch !== 'vit') print(`dynamic blocks: ${dynamic.length ? dynamic.join(', ') : 'none'}`);
    print(`at ${res}x${res} (${facts.tokens} tokens): ${facts.gflops.toFixed(3)} GFLOP per image`);
  }
  return facts;
}
