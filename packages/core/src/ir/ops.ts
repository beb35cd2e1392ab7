// The op table: the single source of truth for every operator of the IR. Each entry says what kind of op
// it is, how its output type follows from its inputs (shape inference that rejects bad shapes with the
// op and the shapes named), what it costs, and, for composites, how it lowers to primitives. Entries also
// carry the facts other files used to repeat: an elementwise op's float64 scalar function, how a view op
// maps its input's strides, and whether an op absorbs a fused activation. The op lists by kind (`UnaryOp`,
// `BINARY_OPS`, ...) are derived from the table here; nothing else spells them out. Backends implement
// primitives; a composite runs as its lowering unless a backend registers a fused kernel for it.
import { fmtShape, ShapeError } from '../errors.js';
import { lowerAttention, lowerAttentionMlp, lowerDynamicMlp } from '../ops/attention.js';
import {
  lowerAffine,
  lowerDepthwiseWeightGrad,
  lowerGelu,
  lowerGeluGrad,
  lowerL2Norm,
  lowerLayerNorm,
  lowerLayerNormGrad,
  lowerLinear,
  lowerMean,
  lowerRelu,
  lowerSigmoid,
  lowerSilu,
  lowerSoftmax,
} from '../ops/basic-composites.js';
import { lowerDynDWConv } from '../ops/dyn-dwconv.js';
import { lowerDynLinear } from '../ops/dyn-linear.js';
import { lowerDynWeight, lowerDynWeightGrad } from '../ops/dyn-weight.js';
import { DYN_DWCONV_PARAMS, DYN_LINEAR_PARAMS } from './dyn-params.js';
import { erf } from './math.js';
import {
  adaptiveBin,
  broadcastShapes,
  checkPositiveInt,
  convOut,
  normAxes,
  normAxis,
} from './shape-utils.js';
import type { Tensor } from './tensor.js';
import type { DType, Shape, TensorType } from './types.js';
import { isDense, sameShape, sizeOf, stridesOf } from './types.js';

/** An activation fused into a linear layer's output (GELU exact or tanh-approximated). */
export type Activation = 'gelu' | 'gelu_tanh';
/** Activation used by the dynamic MLP composite. */
export type MlpActivation = 'softmax' | 'gelu' | 'relu' | 'silu';
/** Strategies that predict DynLinear's dynamic weight (SPEC sections 3 and 5). */
export type DynLinearStrategy = 'bilateral' | 'gap' | 'linear' | 'nonlinear' | 'deep';
/** Strategies that predict DynDWConv's per-sample kernels (SPEC sections 4 and 5). */
export type DynDWConvStrategy = 'adaptive' | 'gap' | 'ampdir' | 'conv';

/** Attributes of every op, keyed by op name. */
export interface OpAttrMap {
  // elementwise unary
  neg: Record<string, never>;
  abs: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
  sqrt: Record<string, never>;
  tanh: Record<string, never>;
  erf: Record<string, never>;
  sigmoid: Record<string, never>;
  relu: Record<string, never>;
  sin: Record<string, never>;
  cos: Record<string, never>;
  // elementwise binary (broadcasting)
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  div: Record<string, never>;
  max: Record<string, never>;
  min: Record<string, never>;
  pow: Record<string, never>;
  greater: Record<string, never>;
  // reductions
  sum: ReduceAttrs;
  mean: ReduceAttrs;
  reduce_max: ReduceAttrs;
  l2norm: ReduceAttrs;
  // linear algebra, convolution, pooling, normalization
  matmul: { transA?: boolean; transB?: boolean };
  conv2d: { stride: [number, number]; padding: [number, number]; groups: number };
  avg_pool2d: { kernel: [number, number]; stride: [number, number] };
  adaptive_avg_pool2d: { outSize: [number, number] };
  layer_norm: { eps: number };
  softmax: { axis: number };
  gather: Record<string, never>;
  cast: { dtype: DType };
  // views and data movement
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  slice: { begin: number[]; end: number[]; step: number[] };
  concat: { axis: number };
  pad: { pads: [number, number][]; value: number };
  // composites
  linear: { activation?: Activation };
  affine: { activation?: Activation };
  gelu: { approximate: 'none' | 'tanh' };
  gelu_grad: { approximate: 'none' | 'tanh' };
  layer_norm_grad: { eps: number };
  depthwise_weight_grad: { kernel: [number, number]; stride: [number, number]; padding: [number, number] };
  silu: Record<string, never>;
  attention: { heads: number; scale?: number };
  attention_mlp: { heads: number; scale?: number };
  dynamic_mlp: { activation: MlpActivation };
  dyn_weight: { scale: number };
  dyn_weight_grad: { scale: number };
  dyn_linear: { strategy: DynLinearStrategy; grid: [number, number]; activation?: Activation };
  dyn_dwconv: { strategy: DynDWConvStrategy };
}

/** Attributes of a reduction: the axes reduced and whether they are kept with size 1. */
export interface ReduceAttrs {
  /** The axes reduced (non-negative, ascending). */
  axes: number[];
  /** Whether reduced axes stay in the output with size 1. */
  keepDims: boolean;
}

/** The name of an op in the table. */
export type OpName = keyof OpAttrMap;
/** The attributes type of op `K`. */
export type OpAttrs<K extends OpName> = OpAttrMap[K];

/** What an op is, which decides how backends, the planner and the cost model treat it. */
export type OpKind = 'unary' | 'binary' | 'reduce' | 'compute' | 'view' | 'movement' | 'composite';

/** Cost of one node: floating-point operations and bytes read plus written (dense, no reuse). */
export interface NodeCost {
  /** Floating-point operations. */
  flops: number;
  /** Bytes read plus bytes written. */
  bytes: number;
}

/** A unary op's scalar function: the op's mathematical definition, evaluated in float64. */
export type UnaryScalar = (x: number) => number;
/** A binary op's scalar function: the op's mathematical definition, evaluated in float64. */
export type BinaryScalar = (a: number, b: number) => number;

/**
 * A view op's stride rule: the element strides of its output as a view of its input, given the input's
 * shape and strides (in the storage the input lives in) and the output's shape; `undefined` when the
 * output cannot be such a view (a reshape of a strided value) and must be copied.
 */
export type ViewStridesRule<A> = (
  attrs: A,
  inShape: readonly number[],
  inStrides: readonly number[],
  outShape: readonly number[],
) => number[] | undefined;

/**
 * `true` for the ops whose attributes carry an optional fused `activation` (only those may set
 * `absorbsActivation`), `never` otherwise.
 */
type CanAbsorbActivation<K extends OpName> = string extends keyof OpAttrMap[K]
  ? never
  : 'activation' extends keyof OpAttrMap[K]
    ? OpAttrMap[K] extends { activation?: Activation }
      ? true
      : never
    : never;

/** One entry of the op table. */
export interface OpDef<K extends OpName = OpName> {
  /** The op's name (the key in `OPS`). */
  readonly name: K;
  /** What kind of op it is. */
  readonly kind: OpKind;
  /** One-line description for docs and errors. */
  readonly doc: string;
  /** Allowed number of inputs `[min, max]` (max `Infinity` for variadic). */
  readonly arity: readonly [number, number];
  /** Output type from input types and attributes; throws ShapeError on bad shapes. */
  infer(inputs: readonly TensorType[], attrs: OpAttrs<K>): TensorType;
  /**
   * FLOPs of a primitive (bytes are derived from the types). Composites cost their lowering, except those
   * with their own `flops` (a composite that is one fused pass where backends have it: relu, sigmoid, ...),
   * which cost one node like a primitive.
   */
  flops?(inputs: readonly TensorType[], out: TensorType, attrs: OpAttrs<K>): number;
  /** For composites: the same computation written with other ops. */
  lower?(inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor;
  /**
   * For unary and binary ops (and only those): the float64 scalar function, i.e. the op's mathematical
   * definition (a `UnaryScalar` or a `BinaryScalar`; `unaryScalar`/`binaryScalar` give it typed).
   */
  readonly scalar?: UnaryScalar | BinaryScalar;
  /** For view ops (and only those): how the output's strides follow from the input's. */
  readonly viewStrides?: ViewStridesRule<OpAttrs<K>>;
  /**
   * Whether a following activation may fold into this op's `activation` attribute (the graph fusion
   * pass `fuseActivations` folds a single-use GELU into such ops).
   */
  readonly absorbsActivation?: CanAbsorbActivation<K>;
}

type Table = { [K in OpName]: OpDef<K> };

const f32 = (shape: Shape): TensorType => ({ shape: [...shape], dtype: 'float32' });

function requireFloat(op: string, inputs: readonly TensorType[]): void {
  for (const t of inputs) {
    if (t.dtype !== 'float32')
      throw new ShapeError(op, `expects float32 inputs, got ${t.dtype}${fmtShape(t.shape)}`);
  }
}

function requireRank(op: string, t: TensorType, rank: number, what: string): void {
  if (t.shape.length !== rank) {
    throw new ShapeError(op, `${what} must have rank ${rank}, got ${fmtShape(t.shape)}`);
  }
}

/** An entry of a unary op: kind `unary`, with its scalar function. */
type UnaryDef<K extends OpName> = OpDef<K> & { readonly kind: 'unary'; readonly scalar: UnaryScalar };
/** An entry of a binary op: kind `binary`, with its scalar function. */
type BinaryDef<K extends OpName> = OpDef<K> & { readonly kind: 'binary'; readonly scalar: BinaryScalar };
/** An entry of a reduction: kind `reduce`. */
type ReduceDef<K extends OpName> = OpDef<K> & { readonly kind: 'reduce' };

function unary<K extends OpName>(
  name: K,
  doc: string,
  scalar: UnaryScalar,
  flopsPerElement = 1,
): UnaryDef<K> {
  return {
    name,
    kind: 'unary',
    doc,
    scalar,
    arity: [1, 1],
    infer: ([x]) => {
      requireFloat(name, [x]);
      return f32(x.shape);
    },
    flops: (_i, out) => flopsPerElement * sizeOf(out.shape),
  };
}

function binary<K extends OpName>(name: K, doc: string, scalar: BinaryScalar): BinaryDef<K> {
  return {
    name,
    kind: 'binary',
    doc,
    scalar,
    arity: [2, 2],
    infer: ([a, b]) => {
      requireFloat(name, [a, b]);
      return f32(broadcastShapes(name, a.shape, b.shape));
    },
    flops: (_i, out) => sizeOf(out.shape),
  };
}

/** The ops whose attributes are `ReduceAttrs` (those `reduce` can build entries for). */
type ReduceAttrOp = { [K in OpName]: OpAttrMap[K] extends ReduceAttrs ? K : never }[OpName];

function reduce<K extends ReduceAttrOp>(name: K, doc: string, fpe: number): ReduceDef<K> {
  return {
    name,
    kind: 'reduce',
    doc,
    arity: [1, 1],
    infer: ([x], attrs) => {
      requireFloat(name, [x]);
      if (attrs.axes.length === 0) throw new ShapeError(name, 'needs at least one axis');
      const axes = normAxes(name, attrs.axes, x.shape.length, x.shape);
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (attrs.keepDims) shape.push(1);
      });
      return f32(shape);
    },
    flops: ([x]) => fpe * sizeOf(x.shape),
  };
}

/**
 * An entry of a reduction that is a composite (lowered to other reductions; a fused kernel where a backend
 * has one): the reduction's shape rule and FLOPs, kind `composite`.
 */
function reduceComposite<K extends ReduceAttrOp>(
  name: K,
  doc: string,
  fpe: number,
  lower: (inputs: readonly Tensor[], attrs: OpAttrs<K>) => Tensor,
): OpDef<K> & { readonly kind: 'composite' } {
  return { ...reduce(name, doc, fpe), kind: 'composite', lower };
}

/** Checks a composite's named parameters against the expected shapes; lists every mismatch at once. */
export function checkParams(
  op: string,
  names: readonly string[],
  actual: readonly TensorType[],
  expected: readonly (readonly number[] | undefined)[],
): void {
  const bad: string[] = [];
  names.forEach((n, i) => {
    const want = expected[i];
    const got = actual[i];
    if (!got) bad.push(`${n} missing`);
    else if (want && (got.shape.length !== want.length || got.shape.some((d, j) => d !== want[j]))) {
      bad.push(`${n} is ${fmtShape(got.shape)}, expected ${fmtShape(want)}`);
    }
  });
  if (bad.length) throw new ShapeError(op, bad.join('; '));
}

function matmulType(op: string, a: TensorType, b: TensorType, transA = false, transB = false): TensorType {
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new ShapeError(op, `operands need rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, ka] = transA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (ka !== kb) {
    throw new ShapeError(
      op,
      `inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} @ ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${ka} vs ${kb})`,
    );
  }
  const batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return f32([...batch, m, n]);
}

function attentionType(op: string, [q, k, v]: readonly TensorType[], heads: number): TensorType {
  requireFloat(op, [q, k, v]);
  requireRank(op, q, 3, 'q');
  requireRank(op, k, 3, 'k');
  requireRank(op, v, 3, 'v');
  checkPositiveInt(op, 'heads', heads);
  const [b, nq, d] = q.shape;
  if (k.shape[0] !== b || v.shape[0] !== b || k.shape[2] !== d || v.shape[1] !== k.shape[1]) {
    throw new ShapeError(
      op,
      `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not agree (want [B,Nq,D], [B,Nk,D], [B,Nk,Dv])`,
    );
  }
  if (d % heads !== 0 || v.shape[2] % heads !== 0) {
    throw new ShapeError(op, `channels ${d} / ${v.shape[2]} not divisible by ${heads} heads`);
  }
  return f32([b, nq, v.shape[2]]);
}

function sliceRange(begin: number, end: number, step: number): number {
  return step > 0 ? Math.max(0, Math.ceil((end - begin) / step)) : 0;
}

/**
 * The table itself, with each entry's literal type kept (`satisfies`), so the op lists by kind and
 * by fact below are derived from it as types.
 */
const TABLE = {
  neg: unary('neg', 'Elementwise negation -x.', (x) => -x),
  abs: unary('abs', 'Elementwise absolute value |x|.', Math.abs),
  exp: unary('exp', 'Elementwise e^x.', Math.exp),
  log: unary('log', 'Elementwise natural logarithm.', Math.log),
  sqrt: unary('sqrt', 'Elementwise square root.', Math.sqrt),
  tanh: unary('tanh', 'Elementwise hyperbolic tangent.', Math.tanh),
  erf: unary('erf', 'Elementwise Gauss error function.', erf),
  sin: unary('sin', 'Elementwise sine.', Math.sin),
  cos: unary('cos', 'Elementwise cosine.', Math.cos),

  add: binary('add', 'a + b with NumPy broadcasting.', (a, b) => a + b),
  sub: binary('sub', 'a - b with NumPy broadcasting.', (a, b) => a - b),
  mul: binary('mul', 'a * b with NumPy broadcasting.', (a, b) => a * b),
  div: binary('div', 'a / b with NumPy broadcasting.', (a, b) => a / b),
  max: binary('max', 'Elementwise maximum with NumPy broadcasting.', Math.max),
  min: binary('min', 'Elementwise minimum with NumPy broadcasting.', Math.min),
  pow: binary('pow', 'a ** b with NumPy broadcasting.', Math.pow),
  greater: binary(
    'greater',
    'Comparison a > b as float32 1 or 0, with NumPy broadcasting (the masks of gradients).',
    (a, b) => (a > b ? 1 : 0),
  ),

  sum: reduce('sum', 'Sum over axes.', 1),
  reduce_max: reduce('reduce_max', 'Maximum over axes.', 1),

  matmul: {
    name: 'matmul',
    kind: 'compute',
    doc: 'Batched matrix product a @ b over the last two axes (either operand optionally transposed); batch axes broadcast.',
    arity: [2, 2],
    infer: ([a, b], { transA, transB }) => {
      requireFloat('matmul', [a, b]);
      return matmulType('matmul', a, b, transA, transB);
    },
    flops: ([a], out, { transA }) => {
      const k = transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
      return 2 * sizeOf(out.shape) * k;
    },
  },

  conv2d: {
    name: 'conv2d',
    kind: 'compute',
    doc: 'NCHW 2-D convolution: x [B,C,H,W], w [O,C/groups,kh,kw], optional bias [O]; stride, zero padding, groups.',
    arity: [2, 3],
    infer: ([x, w, bias], { stride, padding, groups }) => {
      requireFloat('conv2d', [x, w, ...(bias ? [bias] : [])]);
      requireRank('conv2d', x, 4, 'input');
      requireRank('conv2d', w, 4, 'weight');
      checkPositiveInt('conv2d', 'groups', groups);
      for (const s of stride) checkPositiveInt('conv2d', 'stride', s);
      padding.forEach((p) => {
        if (!Number.isInteger(p) || p < 0) throw new ShapeError('conv2d', `padding must be >= 0, got ${p}`);
      });
      const [b, c, h, wd] = x.shape;
      const [o, cg, kh, kw] = w.shape;
      if (c % groups !== 0 || o % groups !== 0 || cg !== c / groups) {
        throw new ShapeError(
          'conv2d',
          `input ${fmtShape(x.shape)} and weight ${fmtShape(w.shape)} do not match groups=${groups} (weight axis 1 must be C/groups = ${c / groups})`,
        );
      }
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== o)) {
        throw new ShapeError('conv2d', `bias ${fmtShape(bias.shape)} must be [${o}]`);
      }
      const oh = convOut(h, kh, stride[0], padding[0]);
      const ow = convOut(wd, kw, stride[1], padding[1]);
      if (oh < 1 || ow < 1) {
        throw new ShapeError(
          'conv2d',
          `kernel ${kh}x${kw} does not fit input ${fmtShape(x.shape)} with padding ${padding}`,
        );
      }
      return f32([b, o, oh, ow]);
    },
    flops: ([, w, bias], out) => {
      const [, cg, kh, kw] = w.shape;
      return sizeOf(out.shape) * (2 * cg * kh * kw + (bias ? 1 : 0));
    },
  },

  avg_pool2d: {
    name: 'avg_pool2d',
    kind: 'compute',
    doc: 'NCHW average pooling with a kh x kw window and stride, no padding (an incomplete last row/column is dropped).',
    arity: [1, 1],
    infer: ([x], { kernel, stride }) => {
      requireFloat('avg_pool2d', [x]);
      requireRank('avg_pool2d', x, 4, 'input');
      for (const v of [...kernel, ...stride]) checkPositiveInt('avg_pool2d', 'kernel/stride', v);
      const oh = convOut(x.shape[2], kernel[0], stride[0], 0);
      const ow = convOut(x.shape[3], kernel[1], stride[1], 0);
      if (oh < 1 || ow < 1)
        throw new ShapeError('avg_pool2d', `window ${kernel} larger than input ${fmtShape(x.shape)}`);
      return f32([x.shape[0], x.shape[1], oh, ow]);
    },
    flops: (_i, out, { kernel }) => sizeOf(out.shape) * kernel[0] * kernel[1],
  },

  adaptive_avg_pool2d: {
    name: 'adaptive_avg_pool2d',
    kind: 'compute',
    doc: 'NCHW adaptive average pooling to oh x ow; cell (i,j) averages rows [floor(iH/oh), ceil((i+1)H/oh)) and likewise columns (bins may overlap).',
    arity: [1, 1],
    infer: ([x], { outSize }) => {
      requireFloat('adaptive_avg_pool2d', [x]);
      requireRank('adaptive_avg_pool2d', x, 4, 'input');
      for (const v of outSize) checkPositiveInt('adaptive_avg_pool2d', 'output size', v);
      if (x.shape[2] < 1 || x.shape[3] < 1)
        throw new ShapeError('adaptive_avg_pool2d', `empty input ${fmtShape(x.shape)}`);
      return f32([x.shape[0], x.shape[1], outSize[0], outSize[1]]);
    },
    flops: ([x], _o, { outSize }) => {
      let cells = 0;
      for (let i = 0; i < outSize[0]; i++) {
        const [r0, r1] = adaptiveBin(i, x.shape[2], outSize[0]);
        for (let j = 0; j < outSize[1]; j++) {
          const [c0, c1] = adaptiveBin(j, x.shape[3], outSize[1]);
          cells += (r1 - r0) * (c1 - c0);
        }
      }
      return x.shape[0] * x.shape[1] * cells;
    },
  },

  gather: {
    name: 'gather',
    kind: 'movement',
    doc: 'Row lookup: table [V, ...], int32 indices [...I] -> [...I, ...] (embedding tables).',
    arity: [2, 2],
    infer: ([table, idx]) => {
      if (table.shape.length < 1) throw new ShapeError('gather', 'table must have rank >= 1');
      if (idx.dtype !== 'int32') throw new ShapeError('gather', `indices must be int32, got ${idx.dtype}`);
      return { shape: [...idx.shape, ...table.shape.slice(1)], dtype: table.dtype };
    },
    flops: () => 0,
  },

  cast: {
    name: 'cast',
    kind: 'movement',
    doc: 'Converts element type (float32 -> int32 truncates toward zero).',
    arity: [1, 1],
    infer: ([x], { dtype }) => {
      if (dtype !== 'float32' && dtype !== 'int32') throw new ShapeError('cast', `unknown dtype ${dtype}`);
      return { shape: [...x.shape], dtype };
    },
    flops: () => 0,
  },

  reshape: {
    name: 'reshape',
    kind: 'view',
    doc: 'Same elements, new shape (one axis may be -1 and is inferred).',
    arity: [1, 1],
    infer: ([x], { shape }) => {
      const n = sizeOf(x.shape);
      const free = shape.filter((d) => d === -1).length;
      if (free > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
        throw new ShapeError('reshape', `invalid target shape ${fmtShape(shape)}`);
      }
      const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
      const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
      if (sizeOf(out) !== n || out.some((d) => !Number.isInteger(d))) {
        throw new ShapeError(
          'reshape',
          `cannot reshape ${fmtShape(x.shape)} (${n} elements) to ${fmtShape(shape)}`,
        );
      }
      return { shape: out, dtype: x.dtype };
    },
    flops: () => 0,
    // a dense input is re-read row-major; a strided one (a permuted or sliced view) must be copied
    viewStrides: (_attrs, inShape, inStrides, outShape) =>
      isDense(inShape, inStrides) ? stridesOf(outShape) : undefined,
  },

  permute: {
    name: 'permute',
    kind: 'view',
    doc: 'Reorders axes: output axis i is input axis perm[i].',
    arity: [1, 1],
    infer: ([x], { perm }) => {
      const r = x.shape.length;
      const ok = perm.length === r && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
      if (!ok)
        throw new ShapeError(
          'permute',
          `perm [${perm}] is not a permutation of ${r} axes of ${fmtShape(x.shape)}`,
        );
      return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
    },
    flops: () => 0,
    viewStrides: ({ perm }, _inShape, inStrides) => perm.map((p) => inStrides[p]),
  },

  expand: {
    name: 'expand',
    kind: 'view',
    doc: 'Broadcasts to a larger shape (NumPy rules: size-1 and missing leading axes repeat) without copying where views are free.',
    arity: [1, 1],
    infer: ([x], { shape }) => {
      const out = broadcastShapes('expand', x.shape, shape);
      if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
        throw new ShapeError('expand', `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
      }
      return { shape: [...shape], dtype: x.dtype };
    },
    flops: () => 0,
    // new leading axes and repeated size-1 axes read the same element: stride 0
    viewStrides: (_attrs, inShape, inStrides, outShape) => {
      const lead = outShape.length - inShape.length;
      return outShape.map((_, i) => (i < lead || inShape[i - lead] === 1 ? 0 : inStrides[i - lead]));
    },
  },

  slice: {
    name: 'slice',
    kind: 'view',
    doc: 'Strided sub-range per axis: [begin, end) with a positive step (all given for every axis, normalized).',
    arity: [1, 1],
    infer: ([x], { begin, end, step }) => {
      const r = x.shape.length;
      if (begin.length !== r || end.length !== r || step.length !== r) {
        throw new ShapeError('slice', `begin/end/step need ${r} entries for ${fmtShape(x.shape)}`);
      }
      const shape = x.shape.map((n, i) => {
        const [b, e, s] = [begin[i], end[i], step[i]];
        if (!Number.isInteger(s) || s <= 0 || b < 0 || e > n || b > e) {
          throw new ShapeError(
            'slice',
            `axis ${i}: range [${b},${e}) step ${s} invalid for size ${n} in ${fmtShape(x.shape)}`,
          );
        }
        return sliceRange(b, e, s);
      });
      return { shape, dtype: x.dtype };
    },
    flops: () => 0,
    // the begin offsets move the view's start, not its strides
    viewStrides: ({ step }, _inShape, inStrides) => step.map((s, i) => s * inStrides[i]),
  },

  concat: {
    name: 'concat',
    kind: 'movement',
    doc: 'Joins tensors along one axis; other axes must match.',
    arity: [1, Number.POSITIVE_INFINITY],
    infer: (inputs, { axis }) => {
      const [first] = inputs;
      const ax = normAxis('concat', axis, first.shape.length, first.shape);
      let total = 0;
      for (const t of inputs) {
        const same =
          t.dtype === first.dtype &&
          t.shape.length === first.shape.length &&
          t.shape.every((d, i) => i === ax || d === first.shape[i]);
        if (!same) {
          throw new ShapeError(
            'concat',
            `shapes ${inputs.map((u) => fmtShape(u.shape)).join(', ')} differ off axis ${ax}`,
          );
        }
        total += t.shape[ax];
      }
      const shape = [...first.shape];
      shape[ax] = total;
      return { shape, dtype: first.dtype };
    },
    flops: () => 0,
  },

  pad: {
    name: 'pad',
    kind: 'movement',
    doc: 'Constant padding: pads[i] = [before, after] elements on axis i.',
    arity: [1, 1],
    infer: ([x], { pads }) => {
      if (pads.length !== x.shape.length || pads.some(([a, b]) => !(a >= 0 && b >= 0))) {
        throw new ShapeError('pad', `pads ${JSON.stringify(pads)} invalid for ${fmtShape(x.shape)}`);
      }
      return { shape: x.shape.map((d, i) => d + pads[i][0] + pads[i][1]), dtype: x.dtype };
    },
    flops: () => 0,
  },

  linear: {
    name: 'linear',
    kind: 'composite',
    doc: 'PyTorch Linear: x [..., in] @ weight[out, in]ᵀ + bias[out], optionally followed by a fused activation.',
    arity: [2, 3],
    infer: ([x, w, b]) => {
      requireFloat('linear', [x, w, ...(b ? [b] : [])]);
      requireRank('linear', w, 2, 'weight');
      if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== w.shape[1]) {
        throw new ShapeError(
          'linear',
          `input ${fmtShape(x.shape)} does not match weight ${fmtShape(w.shape)} ([out, in])`,
        );
      }
      if (b && (b.shape.length !== 1 || b.shape[0] !== w.shape[0])) {
        throw new ShapeError('linear', `bias ${fmtShape(b.shape)} must be [${w.shape[0]}]`);
      }
      return f32([...x.shape.slice(0, -1), w.shape[0]]);
    },
    lower: lowerLinear,
    absorbsActivation: true,
  },

  affine: {
    name: 'affine',
    kind: 'composite',
    doc: 'act(x @ w + bias) with x [..., M, K], w [..., K, N] (batch axes broadcast), bias [N]: a matmul with a fused epilogue.',
    arity: [3, 3],
    infer: ([x, w, b]) => {
      requireFloat('affine', [x, w, b]);
      const out = matmulType('affine', x, w);
      if (b.shape.length !== 1 || b.shape[0] !== out.shape[out.shape.length - 1]) {
        throw new ShapeError(
          'affine',
          `bias ${fmtShape(b.shape)} must be [${out.shape[out.shape.length - 1]}]`,
        );
      }
      return out;
    },
    lower: lowerAffine,
  },

  gelu: {
    name: 'gelu',
    kind: 'composite',
    doc: 'GELU: exact x·Φ(x) via erf, or the tanh approximation.',
    arity: [1, 1],
    infer: ([x]) => {
      requireFloat('gelu', [x]);
      return f32(x.shape);
    },
    lower: lowerGelu,
  },

  gelu_grad: {
    name: 'gelu_grad',
    kind: 'composite',
    doc: "GELU's vector-Jacobian product g · gelu'(x) (the backward pass of gelu, one fused pass where a backend has it).",
    arity: [2, 2],
    infer: ([x, g]) => {
      requireFloat('gelu_grad', [x, g]);
      if (!sameShape(x.shape, g.shape))
        throw new ShapeError(
          'gelu_grad',
          `the cotangent ${fmtShape(g.shape)} must have the input's shape ${fmtShape(x.shape)}`,
        );
      return f32(x.shape);
    },
    lower: lowerGeluGrad,
  },

  layer_norm_grad: {
    name: 'layer_norm_grad',
    kind: 'composite',
    doc: "Layer norm's vector-Jacobian product w.r.t. its input, for the cotangent g and the optional affine weight (the backward pass of layer_norm in one fused pass where a backend has it).",
    arity: [2, 3],
    infer: ([x, g, w], { eps }) => {
      requireFloat('layer_norm_grad', w ? [x, g, w] : [x, g]);
      if (x.shape.length < 1) throw new ShapeError('layer_norm_grad', 'input must have rank >= 1');
      if (!(eps >= 0)) throw new ShapeError('layer_norm_grad', `eps must be >= 0, got ${eps}`);
      if (!sameShape(x.shape, g.shape))
        throw new ShapeError(
          'layer_norm_grad',
          `the cotangent ${fmtShape(g.shape)} must have the input's shape ${fmtShape(x.shape)}`,
        );
      const d = x.shape[x.shape.length - 1];
      if (w && (w.shape.length !== 1 || w.shape[0] !== d))
        throw new ShapeError(
          'layer_norm_grad',
          `weight ${fmtShape(w.shape)} must be [${d}] for input ${fmtShape(x.shape)}`,
        );
      return f32(x.shape);
    },
    lower: lowerLayerNormGrad,
  },

  depthwise_weight_grad: {
    name: 'depthwise_weight_grad',
    kind: 'composite',
    doc: "A depthwise convolution's weight gradient: for x [B,C,H,W] and the cotangent g [B,C,OH,OW] of conv2d(x, w [C,1,kh,kw], groups C), dL/dw [C,1,kh,kw] (summed over the batch; one fused pass where a backend has it).",
    arity: [2, 2],
    infer: ([x, g], { kernel, stride, padding }) => {
      requireFloat('depthwise_weight_grad', [x, g]);
      requireRank('depthwise_weight_grad', x, 4, 'input');
      requireRank('depthwise_weight_grad', g, 4, 'cotangent');
      for (const k of kernel) checkPositiveInt('depthwise_weight_grad', 'kernel', k);
      for (const st of stride) checkPositiveInt('depthwise_weight_grad', 'stride', st);
      const [b, c, h, wd] = x.shape;
      const oh = convOut(h, kernel[0], stride[0], padding[0]);
      const ow = convOut(wd, kernel[1], stride[1], padding[1]);
      if (!sameShape(g.shape, [b, c, oh, ow]))
        throw new ShapeError(
          'depthwise_weight_grad',
          `the cotangent ${fmtShape(g.shape)} must be the convolution's output [${b},${c},${oh},${ow}] for input ${fmtShape(x.shape)}`,
        );
      return f32([c, 1, kernel[0], kernel[1]]);
    },
    lower: lowerDepthwiseWeightGrad,
  },

  mean: reduceComposite(
    'mean',
    'Mean over axes: sum / n (a fused kernel where a backend has one).',
    1,
    lowerMean,
  ),
  l2norm: reduceComposite(
    'l2norm',
    'Euclidean norm sqrt(sum x^2) over axes (a fused kernel where a backend has one).',
    2,
    lowerL2Norm,
  ),

  softmax: {
    name: 'softmax',
    kind: 'composite',
    doc: 'Numerically stable softmax along one axis: exp(x - max) / sum (a fused kernel where a backend has one).',
    arity: [1, 1],
    infer: ([x], { axis }) => {
      requireFloat('softmax', [x]);
      normAxis('softmax', axis, x.shape.length, x.shape);
      return f32(x.shape);
    },
    flops: ([x]) => 5 * sizeOf(x.shape),
    lower: lowerSoftmax,
  },

  layer_norm: {
    name: 'layer_norm',
    kind: 'composite',
    doc: 'Layer normalization over the last axis with eps; optional affine weight and bias: (x - mean) / sqrt(var + eps) · w + b (a fused kernel where a backend has one).',
    arity: [1, 3],
    infer: (inputs, { eps }) => {
      const [x, ...affine] = inputs;
      requireFloat('layer_norm', inputs);
      if (x.shape.length < 1) throw new ShapeError('layer_norm', 'input must have rank >= 1');
      if (!(eps >= 0)) throw new ShapeError('layer_norm', `eps must be >= 0, got ${eps}`);
      const d = x.shape[x.shape.length - 1];
      for (const p of affine) {
        if (p.shape.length !== 1 || p.shape[0] !== d) {
          throw new ShapeError(
            'layer_norm',
            `affine parameter ${fmtShape(p.shape)} must be [${d}] for input ${fmtShape(x.shape)}`,
          );
        }
      }
      return f32(x.shape);
    },
    flops: ([x]) => 8 * sizeOf(x.shape),
    lower: lowerLayerNorm,
  },

  relu: {
    name: 'relu',
    kind: 'composite',
    doc: 'Elementwise max(x, 0) (lowered to max; a fused kernel where a backend has one).',
    arity: [1, 1],
    infer: ([x]) => {
      requireFloat('relu', [x]);
      return f32(x.shape);
    },
    flops: (_i, out) => sizeOf(out.shape),
    lower: lowerRelu,
  },

  sigmoid: {
    name: 'sigmoid',
    kind: 'composite',
    doc: 'Elementwise logistic 1 / (1 + e^-x), lowered stably for large |x| (a fused kernel where a backend has one).',
    arity: [1, 1],
    infer: ([x]) => {
      requireFloat('sigmoid', [x]);
      return f32(x.shape);
    },
    flops: (_i, out) => sizeOf(out.shape),
    lower: lowerSigmoid,
  },

  silu: {
    name: 'silu',
    kind: 'composite',
    doc: 'SiLU: x · sigmoid(x).',
    arity: [1, 1],
    infer: ([x]) => {
      requireFloat('silu', [x]);
      return f32(x.shape);
    },
    lower: lowerSilu,
  },

  attention: {
    name: 'attention',
    kind: 'composite',
    doc: 'Multi-head softmax attention softmax(q kᵀ · scale) v on q [B,Nq,D], k [B,Nk,D], v [B,Nk,Dv]; scale defaults to (D/heads)^-0.5.',
    arity: [3, 3],
    infer: (inputs, { heads }) => attentionType('attention', inputs, heads),
    lower: lowerAttention,
  },

  attention_mlp: {
    name: 'attention_mlp',
    kind: 'composite',
    doc: 'The same attention written as the paper reads it: a per-query MLP whose first-layer weight is Kᵀ, activation softmax, second-layer weight V.',
    arity: [3, 3],
    infer: (inputs, { heads }) => attentionType('attention_mlp', inputs, heads),
    lower: lowerAttentionMlp,
  },

  dynamic_mlp: {
    name: 'dynamic_mlp',
    kind: 'composite',
    doc: 'An MLP with per-sample weights: act(x @ w1) @ w2 with x [..., N, din], w1 [..., din, H], w2 [..., H, dout].',
    arity: [3, 3],
    infer: ([x, w1, w2]) => {
      requireFloat('dynamic_mlp', [x, w1, w2]);
      const h = matmulType('dynamic_mlp', x, w1);
      return matmulType('dynamic_mlp', h, w2);
    },
    lower: lowerDynamicMlp,
  },

  dyn_weight: {
    name: 'dyn_weight',
    kind: 'composite',
    doc: 'The normalized dynamic weight of SPEC section 3 (steps 5-6): w + s·g / (‖s·g‖ + 1) with g [..., Cin, Cout], w [Cin, Cout], the L2 norm taken per output column (over Cin).',
    arity: [2, 2],
    infer: ([g, w], { scale }) => {
      requireFloat('dyn_weight', [g, w]);
      requireRank('dyn_weight', w, 2, 'w');
      if (g.shape.length < 2 || g.shape.at(-2) !== w.shape[0] || g.shape.at(-1) !== w.shape[1]) {
        throw new ShapeError(
          'dyn_weight',
          `dynamic weight ${fmtShape(g.shape)} does not end in the static weight's ${fmtShape(w.shape)}`,
        );
      }
      if (!Number.isFinite(scale)) throw new ShapeError('dyn_weight', `scale must be finite, got ${scale}`);
      return f32(g.shape);
    },
    lower: lowerDynWeight,
  },

  dyn_weight_grad: {
    name: 'dyn_weight_grad',
    kind: 'composite',
    doc: "dyn_weight's vector-Jacobian product w.r.t. the raw generator product g, for the cotangent gy of its output (the backward pass of dyn_weight in one fused pass where a backend has it; the static weight's gradient is gy summed over the batch).",
    arity: [2, 2],
    infer: ([g, gy], { scale }) => {
      requireFloat('dyn_weight_grad', [g, gy]);
      if (g.shape.length < 2)
        throw new ShapeError('dyn_weight_grad', `dynamic weight ${fmtShape(g.shape)} must have rank >= 2`);
      if (!sameShape(g.shape, gy.shape))
        throw new ShapeError(
          'dyn_weight_grad',
          `the cotangent ${fmtShape(gy.shape)} must have the dynamic weight's shape ${fmtShape(g.shape)}`,
        );
      if (!Number.isFinite(scale))
        throw new ShapeError('dyn_weight_grad', `scale must be finite, got ${scale}`);
      return f32(g.shape);
    },
    lower: lowerDynWeightGrad,
  },

  dyn_linear: {
    name: 'dyn_linear',
    kind: 'composite',
    doc: 'DynLinear: x @ (w + normalized dynamic weight predicted from all tokens) + b, linear in N. Inputs: x [B,N,Cin] then the strategy parameters (DYN_LINEAR_PARAMS).',
    arity: [3, 8],
    infer: (inputs, { strategy, grid }) => {
      const [x, w] = inputs;
      const spec = DYN_LINEAR_PARAMS[strategy];
      if (!spec)
        throw new ShapeError(
          'dyn_linear',
          `unknown strategy "${strategy}" (use ${Object.keys(DYN_LINEAR_PARAMS).join(', ')})`,
        );
      requireFloat('dyn_linear', inputs);
      requireRank('dyn_linear', x, 3, 'input');
      requireRank('dyn_linear', w, 2, 'w');
      const [, n, cin] = x.shape;
      for (const g of grid) checkPositiveInt('dyn_linear', 'grid', g);
      if (grid[0] * grid[1] !== n) {
        throw new ShapeError(
          'dyn_linear',
          `grid ${grid[0]}x${grid[1]} does not hold the ${n} tokens of ${fmtShape(x.shape)}`,
        );
      }
      const cout = w.shape[1];
      if (inputs.length !== spec.names.length + 1) {
        throw new ShapeError(
          'dyn_linear',
          `strategy ${strategy} takes x plus ${spec.names.join(', ')}; got ${inputs.length} inputs`,
        );
      }
      checkParams('dyn_linear', spec.names, inputs.slice(1), spec.shapes(cin, cout, inputs.slice(1)));
      return f32([x.shape[0], n, cout]);
    },
    lower: lowerDynLinear,
    absorbsActivation: true,
  },

  dyn_dwconv: {
    name: 'dyn_dwconv',
    kind: 'composite',
    doc: 'DynDWConv: depthwise 3x3 convolution whose per-sample kernel w + normalized prediction comes from pooled context, linear in H·W. Inputs: x [B,D,H,W] then the strategy parameters (DYN_DWCONV_PARAMS).',
    arity: [3, 8],
    infer: (inputs, { strategy }) => {
      const [x] = inputs;
      const spec = DYN_DWCONV_PARAMS[strategy];
      if (!spec)
        throw new ShapeError(
          'dyn_dwconv',
          `unknown strategy "${strategy}" (use ${Object.keys(DYN_DWCONV_PARAMS).join(', ')})`,
        );
      requireFloat('dyn_dwconv', inputs);
      requireRank('dyn_dwconv', x, 4, 'input');
      if (inputs.length !== spec.names.length + 1) {
        throw new ShapeError(
          'dyn_dwconv',
          `strategy ${strategy} takes x plus ${spec.names.join(', ')}; got ${inputs.length} inputs`,
        );
      }
      checkParams('dyn_dwconv', spec.names, inputs.slice(1), spec.shapes(x.shape[1]));
      return f32(x.shape);
    },
    lower: lowerDynDWConv,
  },
} satisfies Table;

/** The op table. */
export const OPS: Table = TABLE;

/** Every op name in table order. */
export const OP_NAMES = Object.keys(OPS) as OpName[];

/** The ops whose table entry has the properties `P` (a type derived from the table). */
type OpsWhere<P> = { [K in OpName]: (typeof TABLE)[K] extends P ? K : never }[OpName];

/** The elementwise unary ops (kind `unary`), derived from the table. */
export type UnaryOp = OpsWhere<{ readonly kind: 'unary' }>;
/** The elementwise broadcasting binary ops (kind `binary`), derived from the table. */
export type BinaryOp = OpsWhere<{ readonly kind: 'binary' }>;
/** The reductions (kind `reduce`), derived from the table. */
export type ReduceOp = OpsWhere<{ readonly kind: 'reduce' }>;
/** The view ops (kind `view`: each has a `viewStrides` rule), derived from the table. */
export type ViewOp = OpsWhere<{ readonly kind: 'view' }>;
/** The composite ops (kind `composite`: they have a lowering), derived from the table. */
export type CompositeOp = OpsWhere<{ readonly kind: 'composite' }>;
/** The primitive ops of the table: every backend implements them, and each has a gradient rule. */
export type PrimitiveOp = Exclude<OpName, CompositeOp>;
/** The ops that absorb a fused activation (`absorbsActivation: true`), derived from the table. */
export type ActivationOp = OpsWhere<{ readonly absorbsActivation: true }>;

function opsOfKind<K extends OpName>(kind: OpKind): readonly K[] {
  // the kind is the table's, so the names found are exactly the ops of type K
  return OP_NAMES.filter((op) => OPS[op].kind === kind) as K[];
}

/** The unary ops in table order. */
export const UNARY_OPS: readonly UnaryOp[] = opsOfKind<UnaryOp>('unary');
/** The binary ops in table order. */
export const BINARY_OPS: readonly BinaryOp[] = opsOfKind<BinaryOp>('binary');
/** The reductions in table order. */
export const REDUCE_OPS: readonly ReduceOp[] = opsOfKind<ReduceOp>('reduce');
/** The view ops in table order. */
export const VIEW_OPS: readonly ViewOp[] = opsOfKind<ViewOp>('view');
/** The composite ops in table order. */
export const COMPOSITE_OPS: readonly CompositeOp[] = opsOfKind<CompositeOp>('composite');
/** The ops that absorb a fused activation, in table order. */
export const ACTIVATION_OPS: readonly ActivationOp[] = OP_NAMES.filter(
  (op) => OPS[op].absorbsActivation === true,
) as ActivationOp[];

/** The float64 scalar function of a unary op (its mathematical definition, from the table). */
export function unaryScalar(op: UnaryOp): UnaryScalar {
  return TABLE[op].scalar;
}

/** The float64 scalar function of a binary op (its mathematical definition, from the table). */
export function binaryScalar(op: BinaryOp): BinaryScalar {
  return TABLE[op].scalar;
}

/**
 * The element strides of `op`'s output as a view of its input (the op's `viewStrides` rule), or
 * `undefined` when `op` is no view op or this output cannot view this input and must be copied.
 */
export function viewStridesOf<K extends OpName>(
  op: K,
  attrs: OpAttrs<K>,
  inShape: readonly number[],
  inStrides: readonly number[],
  outShape: readonly number[],
): number[] | undefined {
  const def: OpDef<K> = OPS[op];
  return def.viewStrides?.(attrs, inShape, inStrides, outShape);
}

/** Whether a following activation may fold into `op`'s `activation` attribute. */
export function absorbsActivation(op: string): op is ActivationOp {
  return op in OPS && OPS[op as OpName].absorbsActivation === true;
}

/** The table entry of `op`; throws for an unknown name. */
export function opDef<K extends OpName>(op: K): OpDef<K> {
  const def = OPS[op];
  if (!def) throw new ShapeError(String(op), 'unknown op');
  return def;
}

/** Whether `op` is a composite (lowered to primitives unless a backend fuses it). */
export function isComposite(op: OpName): boolean {
  return OPS[op].kind === 'composite';
}

/** Checks arity and infers the output type of one op application. */
export function inferType<K extends OpName>(
  op: K,
  inputs: readonly TensorType[],
  attrs: OpAttrs<K>,
): TensorType {
  const def = opDef(op);
  const [lo, hi] = def.arity;
  if (inputs.length < lo || inputs.length > hi) {
    const want = lo === hi ? `${lo}` : hi === Number.POSITIVE_INFINITY ? `at least ${lo}` : `${lo} to ${hi}`;
    throw new ShapeError(op, `takes ${want} inputs, got ${inputs.length}`);
  }
  return def.infer(inputs, attrs);
}
