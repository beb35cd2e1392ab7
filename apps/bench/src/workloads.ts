// The workloads: one dynamic WeightFormer block against one softmax-attention block (D=192, 3 heads),
// and the full WFM-T against DeiT-T, each over a sweep of token counts. Builds our graphs, their inputs,
// and names the ONNX exports of the same networks in `../shared/peers/onnx`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Graph, type TensorData, trace } from '@wf/core';
import {
  attentionBlockGraph,
  randomModel,
  vitForward,
  type WfModel,
  weightFormerBlockGraph,
} from '@wf/models';
import type { Family, ModelId, WorkloadId } from './schema.js';

/** Channels of every workload (WFM-T and DeiT-T width). */
export const DIM = 192;
/** Patch size of the full models. */
export const PATCH = 16;

/** Static description of one network. */
export interface ModelSpec {
  id: ModelId;
  workload: WorkloadId;
  family: Family;
  title: string;
}

/** Every network, by id. */
export const MODELS: Record<ModelId, ModelSpec> = {
  'wfm-block': { id: 'wfm-block', workload: 'blocks', family: 'wfm', title: 'dynamic WeightFormer block' },
  'attn-block': { id: 'attn-block', workload: 'blocks', family: 'attn', title: 'softmax-attention block' },
  'wfm-tiny': { id: 'wfm-tiny', workload: 'models', family: 'wfm', title: 'WFM-T' },
  'deit-tiny': { id: 'deit-tiny', workload: 'models', family: 'attn', title: 'DeiT-T' },
};

/** Titles of the workloads. */
export const WORKLOAD_TITLES: Record<WorkloadId, string> = {
  blocks: 'One block: dynamic WeightFormer vs softmax attention (D=192, 3 heads)',
  models: 'Full networks: WFM-T vs DeiT-T',
};

/** The networks of a workload, WeightFormer first. */
export function modelsOf(workload: WorkloadId): ModelId[] {
  return workload === 'blocks' ? ['wfm-block', 'attn-block'] : ['wfm-tiny', 'deit-tiny'];
}

/** Image side in pixels for a token count of the full models (`(px / 16)^2` tokens), or null. */
export function pxOfTokens(tokens: number): number | null {
  const side = Math.round(Math.sqrt(tokens));
  return side * side === tokens ? side * PATCH : null;
}

/** Tokens of a square image of `px` pixels. */
export function tokensOfPx(px: number): number {
  return (px / PATCH) ** 2;
}

/** Square grid side of a token count, or throws. */
export function gridSide(tokens: number): number {
  const side = Math.round(Math.sqrt(tokens));
  if (side * side !== tokens) throw new RangeError(`token count ${tokens} is not a square grid`);
  return side;
}

let models: { wfm: WfModel; deit: WfModel } | undefined;

/** WFM-T and DeiT-T with seeded random weights (timing does not depend on the values). */
export function fullModels(): { wfm: WfModel; deit: WfModel } {
  models ??= { wfm: randomModel('wfm-tiny'), deit: randomModel('deit-tiny') };
  return models;
}

/** Our graph of a network at a token count and batch (input `x [B,N,192]` or `input [B,3,px,px]`). */
export function buildGraph(model: ModelId, tokens: number, batch: number): Graph {
  const side = gridSide(tokens);
  if (model === 'wfm-block') return weightFormerBlockGraph([side, side], { batch, dim: DIM, heads: 3 });
  if (model === 'attn-block') return attentionBlockGraph(tokens, { batch, dim: DIM, heads: 3 });
  const px = side * PATCH;
  const m = model === 'wfm-tiny' ? fullModels().wfm : fullModels().deit;
  return m.graph({ batch, height: px, width: px });
}

/** The name and shape of a network's input. */
export function inputSpec(model: ModelId, tokens: number, batch: number): { name: string; shape: number[] } {
  if (MODELS[model].workload === 'blocks') return { name: 'x', shape: [batch, tokens, DIM] };
  const px = gridSide(tokens) * PATCH;
  return { name: 'input', shape: [batch, 3, px, px] };
}

/** Deterministic input data of a shape: O(1) values, the same for every engine. */
export function inputData(shape: readonly number[]): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * 0.9 + 0.05 * Math.cos(i * 0.011);
  return { dtype: 'float32', shape: [...shape], data };
}

/** An ONNX export of a network: the model file and the external data file beside it (if any). */
export interface OnnxFile {
  model: string;
  data: string | null;
}

/** The ONNX export of a network at a token count in `<shared>/peers/onnx`, or null when there is none. */
export function onnxFile(sharedDir: string | null, model: ModelId, tokens: number): OnnxFile | null {
  if (!sharedDir) return null;
  const dir = join(sharedDir, 'peers', 'onnx');
  const px = pxOfTokens(tokens);
  let file: OnnxFile;
  if (model === 'wfm-block') {
    file = {
      model: join(dir, 'blocks', `wfm-dynblock-192-N${tokens}.onnx`),
      data: join(dir, 'blocks', 'wfm-dynblock-192.onnx.data'),
    };
  } else if (model === 'attn-block') {
    file = {
      model: join(dir, 'blocks', `attn-block-192-N${tokens}.onnx`),
      data: join(dir, 'blocks', 'attn-block-192.onnx.data'),
    };
  } else if (model === 'wfm-tiny') {
    file = {
      model: join(dir, 'wfm-tiny', `wfm-tiny-${px}.onnx`),
      data: join(dir, 'wfm-tiny', 'wfm-tiny.onnx.data'),
    };
  } else {
    file = { model: join(dir, `deit-tiny-${px}.onnx`), data: null };
  }
  if (!existsSync(file.model) || (file.data && !existsSync(file.data))) return null;
  return file;
}

/**
 * A graph with DeiT-T's cost at any size, for the analytic curve: the resized position table is replaced
 * by a zero table of the right shape (it only feeds one add), so no bicubic resize of a million rows runs.
 */
export function deitCostGraph(tokens: number): Graph {
  const { deit } = fullModels();
  const c = deit.config;
  if (c.arch !== 'vit') throw new Error('internal: deit-tiny is not a vit');
  const px = gridSide(tokens) * PATCH;
  return trace((g) => {
    const consts = new Map<string, ReturnType<typeof g.constant>>();
    const w = (name: string) => {
      let t = consts.get(name);
      if (!t) {
        t = g.constant(deit.weights.get(name)!, name);
        consts.set(name, t);
      }
      return t;
    };
    const x = g.input('input', [1, 3, px, px]);
    const pos = g.constant(
      {
        dtype: 'float32',
        shape: [1, tokens + 1, c.embedDim],
        data: new Float32Array((tokens + 1) * c.embedDim),
      },
      'pos_embed@zero',
    );
    return vitForward(c, w, x, false, pos);
  });
}
