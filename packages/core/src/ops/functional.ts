// The functional op API (`F.add(a, b)`, `F.linear(x, w, b)`, ...): thin typed wrappers that emit one op
// of the table into the tensors' context. Model code uses only these, so it traces, lowers and runs
// eagerly unchanged.
import { ArgumentError, ShapeError } from '../errors.js';
import { DYN_DWCONV_PARAMS, DYN_LINEAR_PARAMS } from '../ir/dyn-params.js';
import type {
  Activation,
  DynDWConvStrategy,
  DynLinearStrategy,
  MlpActivation,
  OpAttrs,
  OpName,
} from '../ir/ops.js';
import { normAxis } from '../ir/shape-utils.js';
import type { Tensor } from '../ir/tensor.js';
import type { DType } from '../ir/types.js';

/** A tensor or a plain number (broadcast as a float32 scalar). */
export type TensorLike = Tensor | number;

const NO_ATTRS = {} as Record<string, never>;

function emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
  if (inputs.length === 0) throw new ArgumentError(`${op}: needs at least one tensor input`);
  return inputs[0].ctx.emit(op, inputs, attrs);
}

/** A float32 scalar constant in the context of `like`. */
export function scalar(like: Tensor, value: number): Tensor {
  return like.ctx.constant({ dtype: 'float32', shape: [], data: Float32Array.of(value) });
}

function pair(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number')
    throw new ArgumentError(`${op}: at least one operand must be a tensor`);
  const ta = typeof a === 'number' ? scalar(b as Tensor, a) : a;
  const tb = typeof b === 'number' ? scalar(ta, b) : b;
  return [ta, tb];
}

// ---- elementwise unary ----
/** -x */ export const neg = (x: Tensor): Tensor => emit('neg', [x], NO_ATTRS);
/** |x| */ export const abs = (x: Tensor): Tensor => emit('abs', [x], NO_ATTRS);
/** e^x */ export const exp = (x: Tensor): Tensor => emit('exp', [x], NO_ATTRS);
/** ln x */ export const log = (x: Tensor): Tensor => emit('log', [x], NO_ATTRS);
/** √x */ export const sqrt = (x: Tensor): Tensor => emit('sqrt', [x], NO_ATTRS);
/** tanh x */ export const tanh = (x: Tensor): Tensor => emit('tanh', [x], NO_ATTRS);
/** erf x */ export const erf = (x: Tensor): Tensor => emit('erf', [x], NO_ATTRS);
/** 1 / (1 + e^-x) */ export const sigmoid = (x: Tensor): Tensor => emit('sigmoid', [x], NO_ATTRS);
/** max(x, 0) */ export const relu = (x: Tensor): Tensor => emit('relu', [x], NO_ATTRS);
/** sin x */ export const sin = (x: Tensor): Tensor => emit('sin', [x], NO_ATTRS);
/** cos x */ export const cos = (x: Tensor): Tensor => emit('cos', [x], NO_ATTRS);

// ---- elementwise binary (broadcasting) ----
/** a + b */ export const add = (a: TensorLike, b: TensorLike): Tensor =>
  emit('add', pair(a, b, 'add'), NO_ATTRS);
/** a - b */ export const sub = (a: TensorLike, b: TensorLike): Tensor =>
  emit('sub', pair(a, b, 'sub'), NO_ATTRS);
/** a * b */ export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  emit('mul', pair(a, b, 'mul'), NO_ATTRS);
/** a / b */ export const div = (a: TensorLike, b: TensorLike): Tensor =>
  emit('div', pair(a, b, 'div'), NO_ATTRS);
/** Elementwise maximum. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => emit('max', pair(a, b, 'max'), NO_ATTRS);
/** Elementwise minimum. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => emit('min', pair(a, b, 'min'), NO_ATTRS);
/** a > b as float32 1 or 0. */
export const greater = (a: TensorLike, b: TensorLike): Tensor =>
  emit('greater', pair(a, b, 'greater'), NO_ATTRS);
/** a ** b */ export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  emit('pow', pair(a, b, 'pow'), NO_ATTRS);

// ---- reductions ----
function axesOf(x: Tensor, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  return typeof axes === 'number' ? [axes] : [...axes];
}
/** Sum over `axes` (all when omitted). */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
  emit('sum', [x], { axes: axesOf(x, axes), keepDims });
/** Mean over `axes` (all when omitted). */
export const mean = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
  emit('mean', [x], { axes: axesOf(x, axes), keepDims });
/** Maximum over `axes` (all when omitted). */
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
  emit('reduce_max', [x], { axes: axesOf(x, axes), keepDims });
/** Euclidean norm over `axes` (all when omitted). */
export const l2norm = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
  emit('l2norm', [x], { axes: axesOf(x, axes), keepDims });

// ---- linear algebra, convolution, pooling, normalization ----
/** Batched a @ b over the last two axes; `transA`/`transB` use an operand transposed. */
export const matmul = (a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor =>
  emit('matmul', [a, b], { transA: !!opts.transA, transB: !!opts.transB });

/** Options of conv2d: numbers apply to both spatial axes. */
export interface Conv2dOptions {
  /** Step between windows, one value or `[vertical, horizontal]` (default 1). */
  stride?: number | [number, number];
  /** Zero padding on each side, one value or `[vertical, horizontal]` (default 0). */
  padding?: number | [number, number];
  /** Channel groups: 1 for a dense convolution, the channel count for a depthwise one (default 1). */
  groups?: number;
}
const two = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
/** NCHW convolution (PyTorch semantics). */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor, opts: Conv2dOptions = {}): Tensor {
  const attrs = { stride: two(opts.stride ?? 1), padding: two(opts.padding ?? 0), groups: opts.groups ?? 1 };
  return emit('conv2d', bias ? [x, w, bias] : [x, w], attrs);
}
/** Average pooling (default 2x2, stride = kernel, no padding). */
export const avgPool2d = (
  x: Tensor,
  kernel: number | [number, number] = 2,
  stride?: number | [number, number],
): Tensor => emit('avg_pool2d', [x], { kernel: two(kernel), stride: two(stride ?? kernel) });
/** Adaptive average pooling to `outSize` (SPEC section 4 bins). */
export const adaptiveAvgPool2d = (x: Tensor, outSize: number | [number, number]): Tensor =>
  emit('adaptive_avg_pool2d', [x], { outSize: two(outSize) });
/** Layer norm over the last axis; eps defaults to 1e-6 (the WeightFormer reference's value). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-6): Tensor {
  if (bias && !weight) throw new ArgumentError('layerNorm: a bias needs a weight');
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return emit('layer_norm', inputs, { eps });
}
/**
 * The backward pass of {@link layerNorm} w.r.t. its input: dL/dx for the cotangent `g` (same shape as `x`)
 * and the affine `weight` if the forward pass had one.
 */
export function layerNormGrad(x: Tensor, g: Tensor, weight?: Tensor, eps = 1e-6): Tensor {
  return emit('layer_norm_grad', weight ? [x, g, weight] : [x, g], { eps });
}
/**
 * The weight gradient of a depthwise {@link conv2d} (`groups` = channels, weight [C,1,kh,kw]) for input `x`
 * and the cotangent `g` of its output, summed over the batch.
 */
export const depthwiseWeightGrad = (
  x: Tensor,
  g: Tensor,
  kernel: [number, number],
  options: { stride?: number | [number, number]; padding?: number | [number, number] } = {},
): Tensor =>
  emit('depthwise_weight_grad', [x, g], {
    kernel,
    stride: two(options.stride ?? 1),
    padding: two(options.padding ?? 0),
  });
/** Softmax along `axis` (default last). */
export const softmax = (x: Tensor, axis = -1): Tensor => emit('softmax', [x], { axis });
/** Embedding lookup: rows of `table` at int32 `indices`. */
export const gather = (table: Tensor, indices: Tensor): Tensor => emit('gather', [table, indices], NO_ATTRS);
/** Element type conversion. */
export const cast = (x: Tensor, dtype: DType): Tensor => emit('cast', [x], { dtype });

// ---- views and data movement ----
/** Same elements in a new shape (one axis may be -1). */
export const reshape = (x: Tensor, shape: readonly number[]): Tensor =>
  emit('reshape', [x], { shape: [...shape] });
/** Reorders axes. */
export const permute = (x: Tensor, perm: readonly number[]): Tensor =>
  emit('permute', [x], { perm: [...perm] });
/** Broadcasts to `shape` (size-1 and missing leading axes repeat). */
export const expand = (x: Tensor, shape: readonly number[]): Tensor =>
  emit('expand', [x], { shape: [...shape] });
/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i = normAxis('transpose', a, x.rank, x.shape);
  const j = normAxis('transpose', b, x.rank, x.shape);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}
/** Collapses axes `[start, end]` (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  const s = normAxis('flatten', start, x.rank, x.shape);
  const e = normAxis('flatten', end, x.rank, x.shape);
  const mid = x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1);
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}
/**
 * Python-style slice of one axis: `start`/`end` may be negative and are clamped; `step` > 0.
 */
export function sliceAxis(x: Tensor, axis: number, start = 0, end?: number, step = 1): Tensor {
  const ax = normAxis('slice', axis, x.rank, x.shape);
  const n = x.shape[ax];
  const clamp = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const begin = x.shape.map(() => 0);
  const stop = [...x.shape];
  const steps = x.shape.map(() => 1);
  begin[ax] = clamp(start);
  stop[ax] = Math.max(begin[ax], clamp(end ?? n));
  steps[ax] = step;
  if (!Number.isInteger(step) || step <= 0)
    throw new ShapeError('slice', `step must be a positive integer, got ${step}`);
  return emit('slice', [x], { begin, end: stop, step: steps });
}
/** Strided sub-range of every axis: `[begin[i], end[i])` with `step[i]` (default 1); all in range. */
export const slice = (
  x: Tensor,
  begin: readonly number[],
  end: readonly number[],
  step: readonly number[] = begin.map(() => 1),
): Tensor => emit('slice', [x], { begin: [...begin], end: [...end], step: [...step] });
/** Joins tensors along `axis`. */
export const concat = (xs: readonly Tensor[], axis = 0): Tensor => emit('concat', xs, { axis });
/** Constant padding; `pads[i] = [before, after]` for every axis. */
export const pad = (x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor =>
  emit('pad', [x], { pads: pads.map(([a, b]) => [a, b] as [number, number]), value });
/** Splits the last axis into pieces of the given sizes. */
export function splitLast(x: Tensor, sizes: readonly number[]): Tensor[] {
  let at = 0;
  return sizes.map((s) => {
    const part = sliceAxis(x, -1, at, at + s);
    at += s;
    return part;
  });
}

// ---- composites ----
/** PyTorch Linear: x @ weightᵀ + bias, weight `[out, in]`; `activation` fuses a GELU onto the output. */
export const linear = (x: Tensor, weight: Tensor, bias?: Tensor, activation?: Activation): Tensor =>
  emit('linear', bias ? [x, weight, bias] : [x, weight], activation ? { activation } : {});
/** act(x @ w + bias) with a `[..., K, N]` weight (batch axes broadcast): a matmul with a fused epilogue. */
export const affine = (x: Tensor, w: Tensor, bias: Tensor, activation?: Activation): Tensor =>
  emit('affine', [x, w, bias], activation ? { activation } : {});
/** GELU, exact (erf) by default or the tanh approximation. */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor =>
  emit('gelu', [x], { approximate });
/** g · gelu'(x): the backward pass of {@link gelu} for the cotangent `g` (same shape as `x`). */
export const geluGrad = (x: Tensor, g: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor =>
  emit('gelu_grad', [x, g], { approximate });
/** x · sigmoid(x). */
export const silu = (x: Tensor): Tensor => emit('silu', [x], NO_ATTRS);
/** Multi-head softmax attention on `[B, N, D]` q, k, v. */
export const attention = (q: Tensor, k: Tensor, v: Tensor, opts: { heads: number; scale?: number }): Tensor =>
  emit('attention', [q, k, v], { heads: opts.heads, scale: opts.scale });
/** Attention computed as the paper's dynamic MLP (first layer Kᵀ, softmax, second layer V). */
export const attentionMlp = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { heads: number; scale?: number },
): Tensor => emit('attention_mlp', [q, k, v], { heads: opts.heads, scale: opts.scale });
/** act(x @ w1) @ w2 with per-sample weights. */
export const dynamicMlp = (x: Tensor, w1: Tensor, w2: Tensor, activation: MlpActivation): Tensor =>
  emit('dynamic_mlp', [x, w1, w2], { activation });

/**
 * DynLinear's normalized dynamic weight: `w + s·g / (‖s·g‖ + 1)` for a raw generator product
 * `g [..., Cin, Cout]` and the static `w [Cin, Cout]`, the norm per output column (over Cin).
 */
export const dynWeight = (g: Tensor, w: Tensor, scale: number): Tensor =>
  emit('dyn_weight', [g, w], { scale });
/**
 * The backward pass of {@link dynWeight} w.r.t. the raw product `g`: dL/dg for the cotangent `gy` of its
 * output (same shape as `g`).
 */
export const dynWeightGrad = (g: Tensor, gy: Tensor, scale: number): Tensor =>
  emit('dyn_weight_grad', [g, gy], { scale });

/** Parameters of DynLinear by name (see DYN_LINEAR_PARAMS for each strategy's list and shapes). */
export type DynLinearParams = Record<string, Tensor>;
/** Parameters of DynDWConv by name (see DYN_DWCONV_PARAMS). */
export type DynDWConvParams = Record<string, Tensor>;

/**
 * DynLinear on tokens `x [B, N, Cin]` laid out on a `grid = [Hg, Wg]` token grid.
 * `params` holds the strategy's tensors by name (bilateral: w, b, wfm_weight, wfm_bias, w1, w2).
 */
export function dynLinear(
  x: Tensor,
  params: DynLinearParams,
  opts: { grid: [number, number]; strategy?: DynLinearStrategy },
): Tensor {
  const strategy = opts.strategy ?? 'bilateral';
  return emit('dyn_linear', [x, ...orderedParams('dyn_linear', strategy, params)], {
    strategy,
    grid: opts.grid,
  });
}

/** DynDWConv on an image `x [B, D, H, W]`; `params` holds the strategy's tensors by name. */
export function dynDWConv(
  x: Tensor,
  params: DynDWConvParams,
  opts: { strategy?: DynDWConvStrategy } = {},
): Tensor {
  const strategy = opts.strategy ?? 'adaptive';
  return emit('dyn_dwconv', [x, ...orderedParams('dyn_dwconv', strategy, params)], { strategy });
}

function orderedParams(
  op: 'dyn_linear' | 'dyn_dwconv',
  strategy: string,
  params: Record<string, Tensor>,
): Tensor[] {
  const table: Record<string, { names: readonly string[] }> =
    op === 'dyn_linear' ? DYN_LINEAR_PARAMS : DYN_DWCONV_PARAMS;
  const spec = table[strategy];
  if (!spec)
    throw new ShapeError(op, `unknown strategy "${strategy}" (use ${Object.keys(table).join(', ')})`);
  const missing = spec.names.filter((n) => !params[n]);
  const extra = Object.keys(params).filter((n) => !spec.names.includes(n));
  if (missing.length || extra.length) {
    const parts = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      extra.length ? `unexpected ${extra.join(', ')}` : '',
    ].filter(Boolean);
    throw new ShapeError(op, `strategy ${strategy} parameters: ${parts.join('; ')}`);
  }
  return spec.names.map((n) => params[n]);
}
