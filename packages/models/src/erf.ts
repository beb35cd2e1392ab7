// Effective receptive fields (ERF), exactly as the reference's `erf.py` measures them: how much each input
// pixel moves the central output token. The objective is built as a graph (tokens after the final norm ->
// centre token -> relu -> sum), differentiated with respect to the input by the autodiff pass, and
// reduced on the backend to one map per batch (relu of the input gradient, summed over batch and
// channels); it compiles once per batch shape and runs on any backend. Images are streamed in batches.
import {
  type AnyBackend,
  type CompiledGraph,
  compile,
  F,
  fmtShape,
  type Graph,
  gradName,
  runGraph,
  type Tensor,
  type TensorData,
  trace,
  vjpGraph,
} from '@wf/core';
import { ModelError } from './config.js';
import type { WfModel } from './model.js';

/** Progress of an `erf` run, reported after every batch. */
export interface ErfProgress {
  /** Images done so far. */
  readonly done: number;
  /** Total number of images, when known (an array of images, or `options.total`). */
  readonly total?: number;
  /** Batches done so far. */
  readonly batches: number;
}

/** Options of `erf`. */
export interface ErfOptions {
  /** The backend to run on. */
  backend: AnyBackend;
  /** Images per batch when `images` is one `[N, C, H, W]` tensor (default 8). */
  batchSize?: number;
  /** Total image count for progress reports when `images` is an iterable of batches. */
  total?: number;
  /** Called after every batch. */
  onProgress?: (progress: ErfProgress) => void;
  /** Aborts between batches (and between ops inside one): the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What `erf` returns. */
export interface ErfResult {
  /** The ERF `[H, W]`: mean over the images of relu(ds/dinput) summed over channels. */
  readonly erf: TensorData;
  /** `erf^0.2 / max(erf^0.2)` `[H, W]` (all zeros when the ERF is zero everywhere). */
  readonly erfNorm: TensorData;
  /** Number of images averaged. */
  readonly images: number;
}

/** A source of images: one `[N, C, H, W]` tensor, or batches `[b, C, H, W]` (sync or async iterable). */
export type ErfImages = TensorData | Iterable<TensorData> | AsyncIterable<TensorData>;

function isTensorData(v: unknown): v is TensorData {
  return typeof v === 'object' && v !== null && 'data' in v && 'shape' in v && 'dtype' in v;
}

/** The centre token of an `Hg x Wg` grid, as the reference takes it: row `Hg // 2`, column `Wg // 2`. */
export function erfCenterToken(grid: readonly [number, number]): number {
  return Math.floor(grid[0] / 2) * grid[1] + Math.floor(grid[1] / 2);
}

/**
 * The ERF graph of `model` for one batch shape. Input `input [B, C, H, W]`; the weights are the model's
 * parameters (their current values at every run, one copy per backend); output `erf [H, W]`: the sum
 * over batch and channels of relu(∂s/∂input), where `s = relu(tokens[:, centre, :]).sum()` and `tokens`
 * are the tokens after the final norm (class token dropped), i.e. `features[:, :, H//2, W//2]` of the
 * reference's `[B, C, Hg, Wg]` view.
 * @throws {ModelError} for the DiT (it has no image classifier features) or a bad shape.
 */
export function erfGraph(model: WfModel, shape: { batch: number; height: number; width: number }): Graph {
  const c = model.config;
  if (c.arch === 'wfm-dit')
    throw new ModelError('erf: the WeightFormer DiT has no classifier features; use a wfm or vit model');
  const full = model.graph({ ...shape, tokens: true });
  const tokensId = full.outputs.get('tokens');
  if (tokensId === undefined) throw new ModelError('internal: the forward graph has no tokens output');
  // The weights stay the model's parameters (as in WfModel.gradGraph): one copy per backend, and updated
  // weights are measured without recompiling.
  const fwd: Graph = { ...full, outputs: new Map([['tokens', tokensId]]) };
  const grid: [number, number] = [shape.height / c.patchSize, shape.width / c.patchSize];
  const center = erfCenterToken(grid);
  const objective = trace((g) => {
    const ins: Record<string, Tensor> = {
      input: g.input('input', [shape.batch, c.inChans, shape.height, shape.width]),
    };
    const { tokens } = runGraph(g, fwd, ins);
    return { s: F.sum(F.relu(F.sliceAxis(tokens, 1, center, center + 1))) };
  });
  const grads = vjpGraph(objective, ['input'], { seed: 'ones', keepOutputs: false });
  return trace((g) => {
    const ins: Record<string, Tensor> = {};
    for (const [n, id] of grads.inputs)
      ins[n] = g.input(n, grads.nodes[id].type.shape, grads.nodes[id].type.dtype);
    const gi = runGraph(g, grads, ins)[gradName('input')];
    return { erf: F.sum(F.relu(gi), [0, 1]) };
  });
}

/** `erf^0.2 / max(erf^0.2)`, the reference's display normalization (zeros when the map is all zero). */
export function erfNormalize(map: TensorData): TensorData {
  const d = map.data;
  const out = new Float32Array(d.length);
  let mx = 0;
  for (let i = 0; i < d.length; i++) {
    out[i] = Math.max(0, d[i]) ** 0.2;
    if (out[i] > mx) mx = out[i];
  }
  if (mx > 0) for (let i = 0; i < out.length; i++) out[i] /= mx;
  return { dtype: 'float32', shape: [...map.shape], data: out };
}

/**
 * For each share (default 50%, 90%, 99%), the fraction of the image area that holds that share of the ERF
 * mass: the fewest pixels, largest first, whose values sum to at least `share` of the total. A local ERF
 * gives small fractions, a global one large fractions. All zeros for an all-zero map.
 */
export function erfMassArea(map: TensorData, shares: readonly number[] = [0.5, 0.9, 0.99]): number[] {
  const v = Float64Array.from(map.data, (x) => Math.max(0, x))
    .sort()
    .reverse();
  let total = 0;
  for (const x of v) total += x;
  if (!(total > 0)) return shares.map(() => 0);
  return shares.map((share) => {
    let acc = 0;
    for (let i = 0; i < v.length; i++) {
      acc += v[i];
      if (acc >= share * total * (1 - 1e-12)) return (i + 1) / v.length;
    }
    return 1;
  });
}

async function* batchesOf(images: ErfImages, batchSize: number): AsyncGenerator<TensorData> {
  if (isTensorData(images)) {
    if (images.shape.length !== 4)
      throw new ModelError(`erf: images must be [N, C, H, W], got ${fmtShape(images.shape)}`);
    const [n, ch, h, w] = images.shape;
    const per = ch * h * w;
    for (let i = 0; i < n; i += batchSize) {
      const b = Math.min(batchSize, n - i);
      yield {
        dtype: 'float32',
        shape: [b, ch, h, w],
        data: (images.data as Float32Array).slice(i * per, (i + b) * per),
      };
    }
    return;
  }
  yield* images as AsyncIterable<TensorData>;
}

/**
 * The effective receptive field of a WeightFormer or ViT/DeiT classifier over `images`, exactly as the
 * reference's `erf.py`: for each image, `s = relu(features[:, :, H//2, W//2]).sum()` on the tokens after
 * the final norm (class token dropped) viewed as `[B, C, Hg, Wg]`; the ERF is the mean over images of
 * `relu(∂s/∂input)` summed over channels, an `[H, W]` map; `erfNorm = erf^0.2 / max`. Any resolution that
 * is a multiple of the patch size (non-square too), any backend. Images are preprocessed `[N, C, H, W]`
 * float32 (one tensor, split into `batchSize` batches, or an iterable of batches); the gradient graph is
 * compiled once per batch shape and freed at the end.
 * @throws {ModelError} for a DiT, images of the wrong rank, channels or size, mixed sizes, or NaN/Inf.
 */
export async function erf(model: WfModel, images: ErfImages, options: ErfOptions): Promise<ErfResult> {
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ModelError(`erf: batchSize must be a positive integer, got ${batchSize}`);
  if (model.config.arch === 'wfm-dit')
    throw new ModelError('erf: the WeightFormer DiT has no classifier features; use a wfm or vit model');
  const total = isTensorData(images) ? images.shape[0] : options.total;
  const compiled = new Map<string, Promise<CompiledGraph>>();
  let acc: Float64Array | undefined;
  let size: [number, number] | undefined;
  let done = 0;
  let batches = 0;
  try {
    for await (const batch of batchesOf(images, batchSize)) {
      options.signal?.throwIfAborted();
      if (!isTensorData(batch) || batch.shape.length !== 4 || batch.dtype !== 'float32')
        throw new ModelError(
          `erf: each batch must be a float32 [B, C, H, W] tensor, got ${isTensorData(batch) ? `${batch.dtype}${fmtShape(batch.shape)}` : typeof batch}`,
        );
      const [b, ch, h, w] = batch.shape;
      if (b === 0) continue;
      if (ch !== model.config.inChans)
        throw new ModelError(`erf: images have ${ch} channels; this model expects ${model.config.inChans}`);
      if (size && (size[0] !== h || size[1] !== w))
        throw new ModelError(`erf: all images must have one size; got ${h}x${w} after ${size[0]}x${size[1]}`);
      model.inputShapes({ batch: b, height: h, width: w }); // checks multiples of the patch size
      for (let i = 0; i < batch.data.length; i++) {
        if (!Number.isFinite(batch.data[i]))
          throw new ModelError(`erf: image ${done + Math.floor(i / (ch * h * w))} has a non-finite value`);
      }
      size = [h, w];
      const key = fmtShape(batch.shape);
      let p = compiled.get(key);
      if (!p) {
        p = compile(erfGraph(model, { batch: b, height: h, width: w }), options.backend);
        compiled.set(key, p);
      }
      const graph = await p;
      const feed: Record<string, TensorData> = { input: batch };
      const out = await graph.run(feed, { signal: options.signal });
      const map = out.erf.data;
      acc ??= new Float64Array(h * w);
      for (let i = 0; i < map.length; i++) acc[i] += map[i];
      done += b;
      batches++;
      options.onProgress?.({ done, total, batches });
    }
  } finally {
    for (const p of compiled.values()) (await p.catch(() => undefined))?.dispose();
  }
  if (!acc || !size || done === 0) throw new ModelError('erf: no images given');
  const mean = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) mean[i] = acc[i] / done;
  const map: TensorData = { dtype: 'float32', shape: [size[0], size[1]], data: mean };
  return { erf: map, erfNorm: erfNormalize(map), images: done };
}
