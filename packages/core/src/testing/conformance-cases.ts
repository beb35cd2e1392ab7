// The backend conformance suite without a test framework: the seeded cases (every primitive op of the table
// on many random shapes: odd sizes, size-1 axes, broadcasting, batches, transposed and strided operands;
// every composite with and without fused kernels; attention against its MLP reading; the DynLinear /
// DynDWConv layers of wfm-micro against the float64 PyTorch fixtures; shape errors; the memory plan;
// parameters shared by two compiled graphs and updated between runs), each a
// plain async function checked against the float64 reference interpreter (`evaluateF64`).
// `conformanceCases` lists them, `runConformance` runs them on a backend and reports what failed (usable in
// a browser page); `describeConformance` (conformance.ts) registers the same cases as vitest tests. A
// primitive op added to the table without a case here makes the suite fail.
import { type AnyBackend, opTable } from '../backend.js';
import { fmtShape, ShapeError } from '../errors.js';
import { compile } from '../graph/compile.js';
import { eager } from '../graph/eager.js';
import { type Graph, trace } from '../graph/graph.js';
import { lowerGraph } from '../graph/lower.js';
import { residentParameters } from '../graph/parameter-storage.js';
import { parseSafetensors } from '../io/safetensors.js';
import {
  BINARY_OPS,
  type BinaryOp,
  type DynDWConvStrategy,
  type DynLinearStrategy,
  OP_NAMES,
  OPS,
  type OpName,
  REDUCE_OPS,
  type ReduceOp,
  UNARY_OPS,
  type UnaryOp,
} from '../ir/ops.js';
import { Parameter } from '../ir/parameter.js';
import type { Tensor } from '../ir/tensor.js';
import type { DType, TensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { expectClose, type Rng, randomInt, randomTensor, rng, seedOf } from './compare.js';
import { checkGradients } from './grad-check.js';
import { evaluateF64 } from './reference-kernels.js';

/** The wfm-micro reference fixtures, as bytes (reading files stays in each backend's own test file). */
export interface MicroFixtures {
  /** `wfm-micro.safetensors`: the model weights. */
  weights: Uint8Array;
  /** Run name (`wfm-micro-64`, `wfm-micro-80`) -> bytes of its `.io.safetensors` (inputs and outputs). */
  runs: Record<string, Uint8Array>;
}

/** Options of `describeConformance` and `runConformance`. */
export interface ConformanceOptions {
  /** The wfm-micro fixtures for the DynLinear / DynDWConv parity tests. */
  fixtures: MicroFixtures;
  /**
   * Relative tolerance for reductions, matmul, convolutions and composites (default 1e-4, for float32
   * backends); elementwise ops and views are held to a tenth of it.
   */
  tolerance?: number;
  /** Ops the backend truly lacks (default none): cases that need them are skipped, not failed. */
  skip?: OpName[];
}

/** One test case: named inputs, and the model code applied to them. */
interface OpCase {
  /** Short description of the case (shapes, attributes). */
  readonly label: string;
  /** Inputs, named `in0`, `in1`, ... in order. */
  readonly inputs: readonly TensorData[];
  /** Builds the output from the input tensors (traced, or run eagerly). */
  readonly build: (ts: readonly Tensor[]) => Tensor;
}

/** A family of cases, generated from a seeded random stream. */
type CaseGen = (g: Gen) => OpCase[];

/** Random data helpers bound to one stream. */
interface Gen {
  /** Uniform float32 tensor in [lo, hi) (default [-1, 1)). */
  t(shape: number[], lo?: number, hi?: number): TensorData;
  /** Float32 tensor with magnitudes in [lo, hi) and random signs. */
  signed(shape: number[], lo: number, hi: number): TensorData;
  /** Int32 tensor uniform in [lo, hi). */
  int(shape: number[], lo: number, hi: number): TensorData;
}

function makeGen(r: Rng): Gen {
  return {
    t: (shape, lo = -1, hi = 1) => randomTensor(shape, r, { lo, hi }),
    signed: (shape, lo, hi) => {
      const t = randomTensor(shape, r, { lo, hi });
      for (let i = 0; i < t.data.length; i++) if (r() < 0.5) t.data[i] = -t.data[i];
      return t;
    },
    int: (shape, lo, hi) => randomInt(shape, r, lo, hi),
  };
}

function mk(label: string, inputs: TensorData[], build: (ts: readonly Tensor[]) => Tensor): OpCase {
  return { label, inputs, build };
}

const names = (c: OpCase): string[] => c.inputs.map((_, i) => `in${i}`);

function traceCase(c: OpCase): Graph {
  return trace((g) => c.build(c.inputs.map((d, i) => g.input(`in${i}`, d.shape, d.dtype))));
}

function inputRecord(c: OpCase): Record<string, TensorData> {
  const rec: Record<string, TensorData> = {};
  names(c).forEach((n, i) => {
    rec[n] = c.inputs[i];
  });
  return rec;
}

// ---------------------------------------------------------------------------------------------------------
// cases for every primitive

/**
 * The elementwise composites that were unary primitives (their fused kernels are checked against the
 * float64 evaluation of their lowerings with the same cases).
 */
const ELEMENTWISE_COMPOSITES = ['relu', 'sigmoid'] as const;
type ElementwiseComposite = (typeof ELEMENTWISE_COMPOSITES)[number];

const UNARY: Record<UnaryOp | ElementwiseComposite, { fn: (x: Tensor) => Tensor; range: [number, number] }> =
  {
    neg: { fn: F.neg, range: [-3, 3] },
    abs: { fn: F.abs, range: [-3, 3] },
    exp: { fn: F.exp, range: [-4, 4] },
    log: { fn: F.log, range: [0.05, 5] },
    sqrt: { fn: F.sqrt, range: [0, 5] },
    tanh: { fn: F.tanh, range: [-5, 5] },
    erf: { fn: F.erf, range: [-4, 4] },
    sigmoid: { fn: F.sigmoid, range: [-10, 10] },
    relu: { fn: F.relu, range: [-1, 1] },
    sin: { fn: F.sin, range: [-10, 10] },
    cos: { fn: F.cos, range: [-10, 10] },
  };

function unaryCases(op: UnaryOp | ElementwiseComposite): CaseGen {
  const { fn, range } = UNARY[op];
  const [lo, hi] = range;
  return (g) => [
    mk('[3,5,7]', [g.t([3, 5, 7], lo, hi)], ([x]) => fn(x)),
    mk('[1,1,4] size-1 axes', [g.t([1, 1, 4], lo, hi)], ([x]) => fn(x)),
    mk('scalar []', [g.t([], lo, hi)], ([x]) => fn(x)),
    mk('[33] odd length', [g.t([33], lo, hi)], ([x]) => fn(x)),
    mk('permuted [4,6] -> [6,4]', [g.t([4, 6], lo, hi)], ([x]) => fn(F.permute(x, [1, 0]))),
    mk('sliced [5,8] step 2 on axis 1', [g.t([5, 8], lo, hi)], ([x]) => fn(F.sliceAxis(x, 1, 1, 8, 2))),
  ];
}

const BINARY: Record<BinaryOp, (a: F.TensorLike, b: F.TensorLike) => Tensor> = {
  add: F.add,
  sub: F.sub,
  mul: F.mul,
  div: F.div,
  max: F.maximum,
  min: F.minimum,
  pow: F.pow,
  greater: F.greater,
};

function binaryCases(op: BinaryOp): CaseGen {
  const fn = BINARY[op];
  // Left operands: pow needs a positive base; right operands: div needs magnitudes away from 0.
  const left = (g: Gen, s: number[]) => (op === 'pow' ? g.t(s, 0.5, 2) : g.t(s, -2, 2));
  const right = (g: Gen, s: number[]) =>
    op === 'div' ? g.signed(s, 0.5, 2) : op === 'pow' ? g.t(s, -2, 2) : g.t(s, -2, 2);
  const k = op === 'div' ? -0.75 : 0.75;
  return (g) => [
    mk('[4,5] with [4,5]', [left(g, [4, 5]), right(g, [4, 5])], ([a, b]) => fn(a, b)),
    mk('[2,3,4] with [4]', [left(g, [2, 3, 4]), right(g, [4])], ([a, b]) => fn(a, b)),
    mk('[2,1,4] with [1,3,1]', [left(g, [2, 1, 4]), right(g, [1, 3, 1])], ([a, b]) => fn(a, b)),
    mk('[3,1] with [1,4]', [left(g, [3, 1]), right(g, [1, 4])], ([a, b]) => fn(a, b)),
    mk('[2,3,1,5] with [3,4,1]', [left(g, [2, 3, 1, 5]), right(g, [3, 4, 1])], ([a, b]) => fn(a, b)),
    mk('[5] with scalar []', [left(g, [5]), right(g, [])], ([a, b]) => fn(a, b)),
    mk('scalar [] with [5]', [left(g, []), right(g, [5])], ([a, b]) => fn(a, b)),
    mk('[7] with a constant', [left(g, [7])], ([a]) => fn(a, k)),
    mk('[13,3] with itself', [op === 'pow' ? g.t([13, 3], 0.5, 2) : right(g, [13, 3])], ([a]) => fn(a, a)),
    mk('permuted [4,3] -> [3,4] with [3,4]', [left(g, [4, 3]), right(g, [3, 4])], ([a, b]) =>
      fn(F.permute(a, [1, 0]), b),
    ),
    mk('[3,4] with sliced [3,8] step 2', [left(g, [3, 4]), right(g, [3, 8])], ([a, b]) =>
      fn(a, F.sliceAxis(b, 1, 0, 8, 2)),
    ),
    mk('permuted [2,5,3] -> [3,2,5] with broadcast [2,1]', [left(g, [2, 5, 3]), right(g, [2, 1])], ([a, b]) =>
      fn(F.permute(a, [2, 0, 1]), b),
    ),
  ];
}

/** The reductions that are composites (their fused kernels checked with the reductions' cases). */
type ReduceComposite = 'mean' | 'l2norm';

const REDUCE: Record<ReduceOp | ReduceComposite, typeof F.sum> = {
  sum: F.sum,
  mean: F.mean,
  reduce_max: F.max,
  l2norm: F.l2norm,
};

function reduceCases(op: ReduceOp | ReduceComposite): CaseGen {
  const fn = REDUCE[op];
  return (g) => [
    mk('[3,4,5] axis 1', [g.t([3, 4, 5])], ([x]) => fn(x, 1)),
    mk('[3,4,5] axes [0,2] keepDims', [g.t([3, 4, 5])], ([x]) => fn(x, [0, 2], true)),
    mk('[3,4,5] all axes', [g.t([3, 4, 5])], ([x]) => fn(x)),
    mk('[2,7] axis -1 keepDims', [g.t([2, 7])], ([x]) => fn(x, -1, true)),
    mk('[1,6,1] axes [0,2]', [g.t([1, 6, 1])], ([x]) => fn(x, [0, 2])),
    mk('[2,3,4,5] axes [2,3] keepDims', [g.t([2, 3, 4, 5])], ([x]) => fn(x, [2, 3], true)),
    mk('[300] long axis', [g.t([300])], ([x]) => fn(x, 0)),
    mk('negative values [4,9] axis 1', [g.t([4, 9], -5, -1)], ([x]) => fn(x, 1)),
    mk('permuted [4,5,3] -> [3,4,5] axis 2', [g.t([4, 5, 3])], ([x]) => fn(F.permute(x, [2, 0, 1]), 2)),
    mk('sliced [6,10] axis 0', [g.t([6, 10])], ([x]) => fn(F.sliceAxis(x, 1, 1, 10, 3), 0)),
  ];
}

const matmulCases: CaseGen = (g) => [
  mk('[2,3] @ [3,4]', [g.t([2, 3]), g.t([3, 4])], ([a, b]) => F.matmul(a, b)),
  mk('[17,33] @ [33,19]', [g.t([17, 33]), g.t([33, 19])], ([a, b]) => F.matmul(a, b)),
  mk('[8,130] @ [130,9] long inner axis', [g.t([8, 130]), g.t([130, 9])], ([a, b]) => F.matmul(a, b)),
  mk('batch [2,5,3] @ [2,3,4]', [g.t([2, 5, 3]), g.t([2, 3, 4])], ([a, b]) => F.matmul(a, b)),
  mk('broadcast batch [2,1,4,3] @ [3,3,5]', [g.t([2, 1, 4, 3]), g.t([3, 3, 5])], ([a, b]) => F.matmul(a, b)),
  mk('rank mismatch [4,5] @ [2,5,3]', [g.t([4, 5]), g.t([2, 5, 3])], ([a, b]) => F.matmul(a, b)),
  mk('rank mismatch [2,4,5] @ [5,3]', [g.t([2, 4, 5]), g.t([5, 3])], ([a, b]) => F.matmul(a, b)),
  mk('transA [3,5]ᵀ @ [3,4]', [g.t([3, 5]), g.t([3, 4])], ([a, b]) => F.matmul(a, b, { transA: true })),
  mk('transB [2,4,6] @ [2,5,6]ᵀ', [g.t([2, 4, 6]), g.t([2, 5, 6])], ([a, b]) =>
    F.matmul(a, b, { transB: true }),
  ),
  mk('transA transB [6,4]ᵀ @ [5,6]ᵀ', [g.t([6, 4]), g.t([5, 6])], ([a, b]) =>
    F.matmul(a, b, { transA: true, transB: true }),
  ),
  mk('transA batch [2,7,3]ᵀ @ [1,7,2]', [g.t([2, 7, 3]), g.t([1, 7, 2])], ([a, b]) =>
    F.matmul(a, b, { transA: true }),
  ),
  mk('row x column [1,7] @ [7,1]', [g.t([1, 7]), g.t([7, 1])], ([a, b]) => F.matmul(a, b)),
  mk('outer product k=1 [4,1] @ [1,3]', [g.t([4, 1]), g.t([1, 3])], ([a, b]) => F.matmul(a, b)),
  mk('permuted operand [5,4] -> [4,5] @ [5,3]', [g.t([5, 4]), g.t([5, 3])], ([a, b]) =>
    F.matmul(F.permute(a, [1, 0]), b),
  ),
  mk(
    'head-split operands [2,6,2,3] permuted to [2,2,6,3] @ transB',
    [g.t([2, 6, 2, 3]), g.t([2, 5, 2, 3])],
    ([a, b]) => F.matmul(F.permute(a, [0, 2, 1, 3]), F.permute(b, [0, 2, 1, 3]), { transB: true }),
  ),
  mk('sliced operand [3,8] step 2 @ [4,2]', [g.t([3, 8]), g.t([4, 2])], ([a, b]) =>
    F.matmul(F.sliceAxis(a, 1, 0, 8, 2), b),
  ),
];

const conv2dCases: CaseGen = (g) => [
  mk('[2,3,7,6] * [4,3,3,3] padding 1, bias', [g.t([2, 3, 7, 6]), g.t([4, 3, 3, 3]), g.t([4])], ([x, w, b]) =>
    F.conv2d(x, w, b, { padding: 1 }),
  ),
  mk('[1,3,9,8] * [5,3,3,3] stride 2 padding 1', [g.t([1, 3, 9, 8]), g.t([5, 3, 3, 3])], ([x, w]) =>
    F.conv2d(x, w, undefined, { stride: 2, padding: 1 }),
  ),
  mk('[1,3,6,6] * [2,3,5,5] padding 2', [g.t([1, 3, 6, 6]), g.t([2, 3, 5, 5])], ([x, w]) =>
    F.conv2d(x, w, undefined, { padding: 2 }),
  ),
  mk(
    'groups 2: [2,4,6,5] * [6,2,3,3] padding 1, bias',
    [g.t([2, 4, 6, 5]), g.t([6, 2, 3, 3]), g.t([6])],
    ([x, w, b]) => F.conv2d(x, w, b, { padding: 1, groups: 2 }),
  ),
  mk(
    'depthwise 3x3: [2,5,7,7] * [5,1,3,3] padding 1, bias',
    [g.t([2, 5, 7, 7]), g.t([5, 1, 3, 3]), g.t([5])],
    ([x, w, b]) => F.conv2d(x, w, b, { padding: 1, groups: 5 }),
  ),
  mk('depthwise 3x3 stride 2: [1,4,9,6] * [4,1,3,3]', [g.t([1, 4, 9, 6]), g.t([4, 1, 3, 3])], ([x, w]) =>
    F.conv2d(x, w, undefined, { padding: 1, stride: 2, groups: 4 }),
  ),
  mk(
    'depthwise channel multiplier 2: [1,3,5,5] * [6,1,3,3]',
    [g.t([1, 3, 5, 5]), g.t([6, 1, 3, 3])],
    ([x, w]) => F.conv2d(x, w, undefined, { padding: 1, groups: 3 }),
  ),
  mk(
    'patch embedding kernel = stride 4: [2,3,8,12] * [6,3,4,4], bias',
    [g.t([2, 3, 8, 12]), g.t([6, 3, 4, 4]), g.t([6])],
    ([x, w, b]) => F.conv2d(x, w, b, { stride: 4 }),
  ),
  mk('1x1: [2,6,5,4] * [3,6,1,1], bias', [g.t([2, 6, 5, 4]), g.t([3, 6, 1, 1]), g.t([3])], ([x, w, b]) =>
    F.conv2d(x, w, b),
  ),
  mk(
    '1x1 on 1x1 maps: [2,5,1,1] * [7,5,1,1], bias',
    [g.t([2, 5, 1, 1]), g.t([7, 5, 1, 1]), g.t([7])],
    ([x, w, b]) => F.conv2d(x, w, b),
  ),
  mk('asymmetric 1x3 stride [1,2] padding [0,1]', [g.t([1, 2, 5, 7]), g.t([3, 2, 1, 3])], ([x, w]) =>
    F.conv2d(x, w, undefined, { stride: [1, 2], padding: [0, 1] }),
  ),
  mk(
    'NHWC input permuted to NCHW: [1,6,5,3] -> [1,3,6,5] * [4,3,3,3]',
    [g.t([1, 6, 5, 3]), g.t([4, 3, 3, 3])],
    ([x, w]) => F.conv2d(F.permute(x, [0, 3, 1, 2]), w, undefined, { padding: 1 }),
  ),
];

const avgPoolCases: CaseGen = (g) => [
  mk('[2,3,8,8] 2x2', [g.t([2, 3, 8, 8])], ([x]) => F.avgPool2d(x, 2)),
  mk('[1,2,7,5] 2x2 (odd sizes drop the last row/column)', [g.t([1, 2, 7, 5])], ([x]) => F.avgPool2d(x, 2)),
  mk('[1,2,7,7] 3x3 stride 2', [g.t([1, 2, 7, 7])], ([x]) => F.avgPool2d(x, 3, 2)),
  mk('[2,1,6,9] kernel [2,3] stride [1,2]', [g.t([2, 1, 6, 9])], ([x]) => F.avgPool2d(x, [2, 3], [1, 2])),
  mk('NHWC input permuted: [1,6,6,3] -> [1,3,6,6] 2x2', [g.t([1, 6, 6, 3])], ([x]) =>
    F.avgPool2d(F.permute(x, [0, 3, 1, 2]), 2),
  ),
];

const adaptivePoolCases: CaseGen = (g) => [
  mk('[2,3,10,10] -> 3x3 (overlapping bins)', [g.t([2, 3, 10, 10])], ([x]) => F.adaptiveAvgPool2d(x, 3)),
  mk('[1,2,14,14] -> 3x3 (overlapping bins)', [g.t([1, 2, 14, 14])], ([x]) => F.adaptiveAvgPool2d(x, 3)),
  mk('[1,2,8,8] -> 3x3', [g.t([1, 2, 8, 8])], ([x]) => F.adaptiveAvgPool2d(x, 3)),
  mk('[2,2,9,9] -> 3x3 (exact bins)', [g.t([2, 2, 9, 9])], ([x]) => F.adaptiveAvgPool2d(x, 3)),
  mk('[1,3,7,5] -> 1x1 (global)', [g.t([1, 3, 7, 5])], ([x]) => F.adaptiveAvgPool2d(x, 1)),
  mk('[1,2,6,10] -> [3,2]', [g.t([1, 2, 6, 10])], ([x]) => F.adaptiveAvgPool2d(x, [3, 2])),
  mk('[1,2,3,3] -> 5x5 (more cells than inputs)', [g.t([1, 2, 3, 3])], ([x]) => F.adaptiveAvgPool2d(x, 5)),
  mk('NHWC input permuted: [1,10,10,2] -> [1,2,10,10] -> 3x3', [g.t([1, 10, 10, 2])], ([x]) =>
    F.adaptiveAvgPool2d(F.permute(x, [0, 3, 1, 2]), 3),
  ),
];

const layerNormCases: CaseGen = (g) => [
  mk('[2,5,8] without affine', [g.t([2, 5, 8])], ([x]) => F.layerNorm(x)),
  mk('[2,5,8] with weight and bias', [g.t([2, 5, 8]), g.t([8]), g.t([8])], ([x, w, b]) =>
    F.layerNorm(x, w, b),
  ),
  mk('[3,7] weight only', [g.t([3, 7]), g.t([7])], ([x, w]) => F.layerNorm(x, w)),
  mk('[3,8] weight only', [g.t([3, 8]), g.t([8])], ([x, w]) => F.layerNorm(x, w)),
  mk('[4,64] eps 1e-5, offset mean', [g.t([4, 64], 3, 5), g.t([64]), g.t([64])], ([x, w, b]) =>
    F.layerNorm(x, w, b, 1e-5),
  ),
  mk('[3,1] size-1 axis', [g.t([3, 1]), g.t([1]), g.t([1])], ([x, w, b]) => F.layerNorm(x, w, b)),
  mk('[65] rank 1', [g.t([65])], ([x]) => F.layerNorm(x)),
  mk('permuted [8,3] -> [3,8]', [g.t([8, 3]), g.t([8]), g.t([8])], ([x, w, b]) =>
    F.layerNorm(F.permute(x, [1, 0]), w, b),
  ),
];

const softmaxCases: CaseGen = (g) => [
  mk('[2,7] axis -1', [g.t([2, 7], -3, 3)], ([x]) => F.softmax(x)),
  mk('[3,4,5] axis 1', [g.t([3, 4, 5], -3, 3)], ([x]) => F.softmax(x, 1)),
  mk('[4,3] axis 0', [g.t([4, 3], -3, 3)], ([x]) => F.softmax(x, 0)),
  mk('[2,1,6] large logits in [-100,100] (stability)', [g.t([2, 1, 6], -100, 100)], ([x]) => F.softmax(x)),
  mk('[3,1] single element per row', [g.t([3, 1], -3, 3)], ([x]) => F.softmax(x)),
  mk('[1,257] long row', [g.t([1, 257], -5, 5)], ([x]) => F.softmax(x)),
  mk('permuted [5,2,3] -> [2,3,5] axis -1', [g.t([5, 2, 3], -3, 3)], ([x]) =>
    F.softmax(F.permute(x, [1, 2, 0])),
  ),
];

const gatherCases: CaseGen = (g) => [
  mk('table [10,4], indices [3]', [g.t([10, 4]), g.int([3], 0, 10)], ([t, i]) => F.gather(t, i)),
  mk('table [7,2,3], indices [2,2]', [g.t([7, 2, 3]), g.int([2, 2], 0, 7)], ([t, i]) => F.gather(t, i)),
  mk(
    'table [5], indices [6] with first/last rows',
    [g.t([5]), { dtype: 'int32', shape: [6], data: Int32Array.of(0, 4, 4, 2, 0, 1) }],
    ([t, i]) => F.gather(t, i),
  ),
  mk(
    'table [4,3], scalar index []',
    [g.t([4, 3]), { dtype: 'int32', shape: [], data: Int32Array.of(3) }],
    ([t, i]) => F.gather(t, i),
  ),
];

const castCases: CaseGen = (g) => [
  mk('float32 -> int32 truncates toward zero [3,4]', [g.t([3, 4], -5, 5)], ([x]) => F.cast(x, 'int32')),
  mk(
    'float32 -> int32 of halves',
    [{ dtype: 'float32', shape: [6], data: Float32Array.of(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5) }],
    ([x]) => F.cast(x, 'int32'),
  ),
  mk('int32 -> float32 [2,5]', [g.int([2, 5], -1000, 1000)], ([x]) => F.cast(x, 'float32')),
  mk('float32 -> float32 [4]', [g.t([4])], ([x]) => F.cast(x, 'float32')),
  mk('int32 -> int32 [3]', [g.int([3], -9, 9)], ([x]) => F.cast(x, 'int32')),
  mk('permuted float32 [3,2] -> [2,3] -> int32', [g.t([3, 2], -9, 9)], ([x]) =>
    F.cast(F.permute(x, [1, 0]), 'int32'),
  ),
];

const reshapeCases: CaseGen = (g) => [
  mk('[2,3,4] -> [6,4]', [g.t([2, 3, 4])], ([x]) => F.reshape(x, [6, 4])),
  mk('[2,3,4] -> [4,-1]', [g.t([2, 3, 4])], ([x]) => F.reshape(x, [4, -1])),
  mk('[1,5,1] -> [5]', [g.t([1, 5, 1])], ([x]) => F.reshape(x, [5])),
  mk('[1,1] -> [] scalar', [g.t([1, 1])], ([x]) => F.reshape(x, [])),
  mk('permuted [3,4] -> [4,3] -> [12]', [g.t([3, 4])], ([x]) => F.reshape(F.permute(x, [1, 0]), [12])),
  mk('permuted [2,3,4] -> [2,4,3] -> [8,3]', [g.t([2, 3, 4])], ([x]) =>
    F.reshape(F.permute(x, [0, 2, 1]), [8, 3]),
  ),
  mk('sliced [4,6] step 2 -> [4,3] -> [3,4]', [g.t([4, 6])], ([x]) =>
    F.reshape(F.sliceAxis(x, 1, 0, 6, 2), [3, 4]),
  ),
  mk('reshape then permute [24] -> [2,3,4] -> [4,2,3]', [g.t([24])], ([x]) =>
    F.permute(F.reshape(x, [2, 3, 4]), [2, 0, 1]),
  ),
];

const permuteCases: CaseGen = (g) => [
  mk('[2,3,4] perm [2,0,1]', [g.t([2, 3, 4])], ([x]) => F.permute(x, [2, 0, 1])),
  mk('[2,3,4,5] perm [0,2,1,3]', [g.t([2, 3, 4, 5])], ([x]) => F.permute(x, [0, 2, 1, 3])),
  mk('[2,3,4,5] perm [3,1,0,2]', [g.t([2, 3, 4, 5])], ([x]) => F.permute(x, [3, 1, 0, 2])),
  mk('[1,5] perm [1,0]', [g.t([1, 5])], ([x]) => F.permute(x, [1, 0])),
  mk('[3,4] identity perm', [g.t([3, 4])], ([x]) => F.permute(x, [0, 1])),
  mk('permute of a permute [2,3,4]', [g.t([2, 3, 4])], ([x]) =>
    F.permute(F.permute(x, [1, 2, 0]), [1, 2, 0]),
  ),
  mk('permute of a slice [4,6]', [g.t([4, 6])], ([x]) => F.permute(F.sliceAxis(x, 1, 1, 6, 2), [1, 0])),
];

const expandCases: CaseGen = (g) => [
  mk('[3,1] -> [3,4]', [g.t([3, 1])], ([x]) => F.expand(x, [3, 4])),
  mk('[4] -> [2,3,4] (new leading axes)', [g.t([4])], ([x]) => F.expand(x, [2, 3, 4])),
  mk('scalar [] -> [2,2]', [g.t([])], ([x]) => F.expand(x, [2, 2])),
  mk('[2,1,3] -> [2,1,3] (no-op)', [g.t([2, 1, 3])], ([x]) => F.expand(x, [2, 1, 3])),
  mk('[1,3,1] -> [2,3,5], then added to [2,3,5]', [g.t([1, 3, 1]), g.t([2, 3, 5])], ([x, y]) =>
    F.add(F.expand(x, [2, 3, 5]), y),
  ),
  mk('[1,4,3] -> [2,4,3], then a batched matmul with [2,3,2]', [g.t([1, 4, 3]), g.t([2, 3, 2])], ([x, y]) =>
    F.matmul(F.expand(x, [2, 4, 3]), y),
  ),
  mk('[3,1] -> [3,4], then reshaped to [12]', [g.t([3, 1])], ([x]) => F.reshape(F.expand(x, [3, 4]), [12])),
  mk('permuted [1,3] -> [3,1] -> [3,5]', [g.t([1, 3])], ([x]) => F.expand(F.permute(x, [1, 0]), [3, 5])),
  mk('[2,1] -> [2,3], then a softmax over axis 0', [g.t([2, 1])], ([x]) => F.softmax(F.expand(x, [2, 3]), 0)),
];

const sliceCases: CaseGen = (g) => [
  mk('[6,7] rows 1..5, step 2 on columns', [g.t([6, 7])], ([x]) =>
    x.ctx.emit('slice', [x], { begin: [1, 0], end: [5, 7], step: [1, 2] }),
  ),
  mk('[3,8,5] begin [0,1,1] step [1,3,2]', [g.t([3, 8, 5])], ([x]) =>
    x.ctx.emit('slice', [x], { begin: [0, 1, 1], end: [3, 8, 5], step: [1, 3, 2] }),
  ),
  mk('[4,4] whole tensor', [g.t([4, 4])], ([x]) =>
    x.ctx.emit('slice', [x], { begin: [0, 0], end: [4, 4], step: [1, 1] }),
  ),
  mk('[2,9] last column only', [g.t([2, 9])], ([x]) => F.sliceAxis(x, 1, -1)),
  mk('slice of a permute [5,4] -> [4,5]', [g.t([5, 4])], ([x]) =>
    F.sliceAxis(F.permute(x, [1, 0]), 1, 1, 5, 3),
  ),
  mk('slice of a slice [10,3]', [g.t([10, 3])], ([x]) =>
    F.sliceAxis(F.sliceAxis(x, 0, 1, 10, 2), 0, 1, 5, 2),
  ),
  mk('split the last axis [2,3,12] into 4 + 8', [g.t([2, 3, 12])], ([x]) => {
    const [a, b] = F.splitLast(x, [4, 8]);
    return F.add(F.reshape(F.concat([a, a], -1), [2, 3, 8]), b);
  }),
];

const concatCases: CaseGen = (g) => [
  mk('two [2,3] on axis 0', [g.t([2, 3]), g.t([2, 3])], ([a, b]) => F.concat([a, b], 0)),
  mk('[2,1,4] [2,3,4] [2,2,4] on axis 1', [g.t([2, 1, 4]), g.t([2, 3, 4]), g.t([2, 2, 4])], ([a, b, c]) =>
    F.concat([a, b, c], 1),
  ),
  mk('[3,2] [3,5] on axis -1', [g.t([3, 2]), g.t([3, 5])], ([a, b]) => F.concat([a, b], -1)),
  mk('a single input [4,2]', [g.t([4, 2])], ([a]) => F.concat([a], 0)),
  mk('the same input twice [3] on axis 0', [g.t([3])], ([a]) => F.concat([a, a], 0)),
  mk('permuted [3,2] -> [2,3] with [2,4] on axis 1', [g.t([3, 2]), g.t([2, 4])], ([a, b]) =>
    F.concat([F.permute(a, [1, 0]), b], 1),
  ),
];

const padCases: CaseGen = (g) => [
  mk('[2,3] pads [[1,2],[0,1]] value 0', [g.t([2, 3])], ([x]) =>
    F.pad(x, [
      [1, 2],
      [0, 1],
    ]),
  ),
  mk('[1,2,3,3] spatial pads value -1.5', [g.t([1, 2, 3, 3])], ([x]) =>
    F.pad(
      x,
      [
        [0, 0],
        [0, 0],
        [1, 1],
        [2, 0],
      ],
      -1.5,
    ),
  ),
  mk('[4] no padding', [g.t([4])], ([x]) => F.pad(x, [[0, 0]])),
  mk('[1] pads [3,3] value 2', [g.t([1])], ([x]) => F.pad(x, [[3, 3]], 2)),
  mk('permuted [3,2] -> [2,3] pads [[0,1],[1,0]]', [g.t([3, 2])], ([x]) =>
    F.pad(F.permute(x, [1, 0]), [
      [0, 1],
      [1, 0],
    ]),
  ),
];

/** Cases for every primitive; a primitive missing here fails the suite. */
const PRIMITIVE_CASES: { readonly [K in OpName]?: CaseGen } = {
  ...opTable(UNARY_OPS, unaryCases),
  ...opTable(BINARY_OPS, binaryCases),
  ...opTable(REDUCE_OPS, reduceCases),
  matmul: matmulCases,
  conv2d: conv2dCases,
  avg_pool2d: avgPoolCases,
  adaptive_avg_pool2d: adaptivePoolCases,
  gather: gatherCases,
  cast: castCases,
  reshape: reshapeCases,
  permute: permuteCases,
  expand: expandCases,
  slice: sliceCases,
  concat: concatCases,
  pad: padCases,
};

// ---------------------------------------------------------------------------------------------------------
// cases for every composite

function dynLinearCase(
  g: Gen,
  strategy: DynLinearStrategy,
  b: number,
  grid: [number, number],
  cin: number,
  cout: number,
): OpCase {
  const x = g.t([b, grid[0] * grid[1], cin]);
  const w = g.t([cin, cout], -0.5, 0.5);
  const bias = g.t([cout]);
  let params: [string, TensorData][];
  if (strategy === 'bilateral') {
    const z = cin / 4 + cout / 4;
    params = [
      ['wfm_weight', g.t([z, cin])],
      ['wfm_bias', g.t([z])],
      ['w1', g.t([cin / 4, cin])],
      ['w2', g.t([cout / 4, cout])],
    ];
  } else if (strategy === 'deep') {
    const h = 6;
    params = [
      ['g_weight', g.t([h, cin])],
      ['g_bias', g.t([h])],
      ['a', g.t([h, cin])],
      ['c', g.t([h, cout])],
    ];
  } else {
    params = [
      ['a', g.t([cin, cin])],
      ['c', g.t([cin, cout])],
    ];
  }
  return mk(
    `${strategy}: x [${b},${grid[0] * grid[1]},${cin}] on a ${grid[0]}x${grid[1]} grid -> ${cout}`,
    [x, w, bias, ...params.map(([, d]) => d)],
    ([xt, wt, bt, ...rest]) => {
      const p: Record<string, Tensor> = { w: wt, b: bt };
      params.forEach(([n], i) => {
        p[n] = rest[i];
      });
      return F.dynLinear(xt, p, { grid, strategy });
    },
  );
}

function dynDWConvCase(g: Gen, strategy: DynDWConvStrategy, shape: [number, number, number, number]): OpCase {
  const d = shape[1];
  const base: [string, TensorData][] = [
    ['w', g.t([d, 1, 3, 3])],
    ['b', g.t([d])],
    ['wfm0_weight', g.t([d, d, 1, 1])],
    ['wfm0_bias', g.t([d])],
  ];
  const extra: [string, TensorData][] =
    strategy === 'adaptive'
      ? [['wfm2_weight', g.t([d, d, 1, 1])]]
      : strategy === 'gap'
        ? [['wfm2_weight', g.t([9 * d, d, 1, 1])]]
        : strategy === 'ampdir'
          ? [
              ['wfm2_weight', g.t([d, d, 1, 1])],
              ['amp_weight', g.t([d, d])],
              ['amp_bias', g.t([d])],
            ]
          : [['kernel', g.t([d, 1, 3, 3])]];
  const params = [...base, ...extra];
  return mk(`${strategy}: x [${shape}]`, [g.t(shape), ...params.map(([, t]) => t)], ([xt, ...rest]) => {
    const p: Record<string, Tensor> = {};
    params.forEach(([n], i) => {
      p[n] = rest[i];
    });
    return F.dynDWConv(xt, p, { strategy });
  });
}

interface AttnShape {
  b: number;
  nq: number;
  nk: number;
  d: number;
  dv: number;
  heads: number;
  scale?: number;
}

const ATTN_SHAPES: readonly AttnShape[] = [
  { b: 2, nq: 5, nk: 7, d: 8, dv: 6, heads: 2 },
  { b: 1, nq: 9, nk: 9, d: 12, dv: 12, heads: 3 },
  { b: 2, nq: 4, nk: 4, d: 4, dv: 4, heads: 1, scale: 0.3 },
  { b: 1, nq: 1, nk: 3, d: 4, dv: 8, heads: 4 },
  { b: 1, nq: 17, nk: 17, d: 16, dv: 16, heads: 2 },
];

const attnLabel = (s: AttnShape) =>
  `q [${s.b},${s.nq},${s.d}], k [${s.b},${s.nk},${s.d}], v [${s.b},${s.nk},${s.dv}], ${s.heads} heads` +
  (s.scale === undefined ? '' : `, scale ${s.scale}`);

function attentionCase(g: Gen, op: 'attention' | 'attention_mlp', s: AttnShape): OpCase {
  const fn = op === 'attention' ? F.attention : F.attentionMlp;
  return mk(
    attnLabel(s),
    [g.t([s.b, s.nq, s.d], -2, 2), g.t([s.b, s.nk, s.d], -2, 2), g.t([s.b, s.nk, s.dv])],
    ([q, k, v]) => fn(q, k, v, { heads: s.heads, scale: s.scale }),
  );
}

/** `t` (last axis `n` wide) with column `col` set to zero everywhere. */
function zeroColumn(t: TensorData, col: number): TensorData {
  const n = t.shape[t.shape.length - 1];
  for (let i = col; i < t.data.length; i += n) t.data[i] = 0;
  return t;
}

/** Cases for every composite; a composite missing here fails the suite. */
const COMPOSITE_CASES: { readonly [K in OpName]?: CaseGen } = {
  relu: unaryCases('relu'),
  sigmoid: unaryCases('sigmoid'),
  mean: reduceCases('mean'),
  l2norm: reduceCases('l2norm'),
  softmax: softmaxCases,
  layer_norm: layerNormCases,
  linear: (g) => [
    mk('x [2,3,5], weight [4,5], bias', [g.t([2, 3, 5]), g.t([4, 5]), g.t([4])], ([x, w, b]) =>
      F.linear(x, w, b),
    ),
    mk('x [5] rank 1, weight [4,5], no bias', [g.t([5]), g.t([4, 5])], ([x, w]) => F.linear(x, w)),
    mk('x [7,6], weight [3,6], bias', [g.t([7, 6]), g.t([3, 6]), g.t([3])], ([x, w, b]) => F.linear(x, w, b)),
    mk('x [2,9,8] fused gelu', [g.t([2, 9, 8]), g.t([12, 8]), g.t([12])], ([x, w, b]) =>
      F.linear(x, w, b, 'gelu'),
    ),
    mk(
      'x [5,4] fused gelu_tanh, permuted input and weight',
      [g.t([4, 5]), g.t([4, 3]), g.t([3])],
      ([x, w, b]) => F.linear(F.permute(x, [1, 0]), F.permute(w, [1, 0]), b, 'gelu_tanh'),
    ),
  ],
  affine: (g) => [
    mk(
      'x [2,5,6] @ w [2,6,7] + bias (per-sample weights)',
      [g.t([2, 5, 6]), g.t([2, 6, 7]), g.t([7])],
      ([x, w, b]) => F.affine(x, w, b),
    ),
    mk('x [3,4] @ w [4,9] + bias, gelu', [g.t([3, 4]), g.t([4, 9]), g.t([9])], ([x, w, b]) =>
      F.affine(x, w, b, 'gelu'),
    ),
    mk(
      'x [2,1,3,4] @ w [5,4,2] broadcast batch, gelu_tanh',
      [g.t([2, 1, 3, 4]), g.t([5, 4, 2]), g.t([2])],
      ([x, w, b]) => F.affine(x, w, b, 'gelu_tanh'),
    ),
  ],
  gelu: (g) => [
    mk('exact (erf) [3,9]', [g.t([3, 9], -5, 5)], ([x]) => F.gelu(x)),
    mk('tanh approximation [3,9]', [g.t([3, 9], -5, 5)], ([x]) => F.gelu(x, 'tanh')),
    mk('exact (erf) permuted [4,3] -> [3,4]', [g.t([4, 3], -3, 3)], ([x]) => F.gelu(F.permute(x, [1, 0]))),
  ],
  gelu_grad: (g) => [
    mk('exact (erf) [3,9]', [g.t([3, 9], -5, 5), g.t([3, 9])], ([x, c]) => F.geluGrad(x, c)),
    mk('tanh approximation [3,9]', [g.t([3, 9], -5, 5), g.t([3, 9])], ([x, c]) => F.geluGrad(x, c, 'tanh')),
    mk('exact (erf) permuted [4,3] -> [3,4]', [g.t([4, 3], -3, 3), g.t([3, 4])], ([x, c]) =>
      F.geluGrad(F.permute(x, [1, 0]), c),
    ),
  ],
  layer_norm_grad: (g) => [
    mk('[2,5,8] with weight', [g.t([2, 5, 8]), g.t([2, 5, 8]), g.t([8])], ([x, c, w]) =>
      F.layerNormGrad(x, c, w),
    ),
    mk('[3,7] without weight, eps 1e-5', [g.t([3, 7]), g.t([3, 7])], ([x, c]) =>
      F.layerNormGrad(x, c, undefined, 1e-5),
    ),
    mk('[2,8] without weight', [g.t([2, 8]), g.t([2, 8])], ([x, c]) => F.layerNormGrad(x, c)),
    mk('[4,64] offset mean', [g.t([4, 64], 3, 5), g.t([4, 64]), g.t([64])], ([x, c, w]) =>
      F.layerNormGrad(x, c, w),
    ),
    mk('[3,1] size-1 axis', [g.t([3, 1]), g.t([3, 1]), g.t([1])], ([x, c, w]) => F.layerNormGrad(x, c, w)),
    mk('permuted [8,3] -> [3,8], broadcast cotangent view', [g.t([8, 3]), g.t([8]), g.t([8])], ([x, c, w]) =>
      F.layerNormGrad(F.permute(x, [1, 0]), F.expand(c, [3, 8]), w),
    ),
  ],
  depthwise_weight_grad: (g) => [
    mk('3x3 padding 1: x [2,5,7,6], g [2,5,7,6]', [g.t([2, 5, 7, 6]), g.t([2, 5, 7, 6])], ([x, c]) =>
      F.depthwiseWeightGrad(x, c, [3, 3], { padding: 1 }),
    ),
    mk('3x3 stride 2 padding 1: x [1,4,9,6], g [1,4,5,3]', [g.t([1, 4, 9, 6]), g.t([1, 4, 5, 3])], ([x, c]) =>
      F.depthwiseWeightGrad(x, c, [3, 3], { stride: 2, padding: 1 }),
    ),
    mk('2x3 no padding: x [3,2,4,5], g [3,2,3,3]', [g.t([3, 2, 4, 5]), g.t([3, 2, 3, 3])], ([x, c]) =>
      F.depthwiseWeightGrad(x, c, [2, 3]),
    ),
    mk(
      'permuted input [5,7,1,3] -> [1,3,5,7], 3x3 padding 1',
      [g.t([5, 7, 1, 3]), g.t([1, 3, 5, 7])],
      ([x, c]) => F.depthwiseWeightGrad(F.permute(x, [2, 3, 0, 1]), c, [3, 3], { padding: 1 }),
    ),
  ],
  silu: (g) => [
    mk('[4,5]', [g.t([4, 5], -6, 6)], ([x]) => F.silu(x)),
    mk('[1]', [g.t([1], -6, 6)], ([x]) => F.silu(x)),
  ],
  attention: (g) => ATTN_SHAPES.map((s) => attentionCase(g, 'attention', s)),
  attention_mlp: (g) => ATTN_SHAPES.map((s) => attentionCase(g, 'attention_mlp', s)),
  dynamic_mlp: (g) => [
    ...(['softmax', 'gelu', 'relu', 'silu'] as const).map((act) =>
      mk(
        `${act}: x [2,5,4], w1 [2,4,6], w2 [2,6,3]`,
        [g.t([2, 5, 4]), g.t([2, 4, 6]), g.t([2, 6, 3])],
        ([x, a, b]) => F.dynamicMlp(x, a, b, act),
      ),
    ),
    mk(
      'relu: shared weights x [2,5,4], w1 [4,6], w2 [6,3]',
      [g.t([2, 5, 4]), g.t([4, 6]), g.t([6, 3])],
      ([x, a, b]) => F.dynamicMlp(x, a, b, 'relu'),
    ),
  ],
  dyn_weight: (g) => [
    mk('g [2,6,5], w [6,5], scale 0.3', [g.t([2, 6, 5]), g.t([6, 5])], ([d, w]) => F.dynWeight(d, w, 0.3)),
    mk('g [8,12] unbatched, scale 1/49', [g.t([8, 12], -4, 4), g.t([8, 12])], ([d, w]) =>
      F.dynWeight(d, w, 1 / 49),
    ),
    mk('g [1,3,4] with a zero column', [zeroColumn(g.t([1, 3, 4]), 1), g.t([3, 4])], ([d, w]) =>
      F.dynWeight(d, w, 2),
    ),
  ],
  dyn_weight_grad: (g) => [
    mk('g [2,6,5], scale 0.3', [g.t([2, 6, 5]), g.t([2, 6, 5])], ([d, c]) => F.dynWeightGrad(d, c, 0.3)),
    mk('g [8,12] unbatched, scale -1/49', [g.t([8, 12], -4, 4), g.t([8, 12])], ([d, c]) =>
      F.dynWeightGrad(d, c, -1 / 49),
    ),
    mk('permuted g [5,4] -> [4,5], broadcast cotangent view', [g.t([5, 4]), g.t([5])], ([d, c]) =>
      F.dynWeightGrad(F.permute(d, [1, 0]), F.expand(c, [4, 5]), 2),
    ),
    mk('g [1,3,4] with a zero column', [zeroColumn(g.t([1, 3, 4]), 1), g.t([1, 3, 4])], ([d, c]) =>
      F.dynWeightGrad(d, c, 2),
    ),
  ],
  dyn_linear: (g) => [
    ...(['bilateral', 'gap', 'linear', 'nonlinear', 'deep'] as const).flatMap((s) => [
      dynLinearCase(g, s, 2, [4, 4], 8, 12),
      dynLinearCase(g, s, 1, [5, 3], 8, 4),
    ]),
    dynLinearCase(g, 'bilateral', 1, [1, 6], 4, 8),
    dynLinearCase(g, 'bilateral', 1, [7, 7], 12, 16),
  ],
  dyn_dwconv: (g) =>
    (['adaptive', 'gap', 'ampdir', 'conv'] as const).flatMap((s) => [
      dynDWConvCase(g, s, [2, 4, 7, 5]),
      dynDWConvCase(g, s, [1, 3, 14, 14]),
    ]),
};

// ---------------------------------------------------------------------------------------------------------
// the suite

/** Which cases of an op the gradient group runs (default the first three): one per strategy. */
const GRAD_PICKS: { readonly [K in OpName]?: readonly number[] } = {
  conv2d: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  avg_pool2d: [0, 1, 2, 3],
  adaptive_avg_pool2d: [0, 1, 4, 5, 6],
  slice: [0, 1, 3, 4],
  concat: [0, 1, 4],
  gather: [0, 1],
  dyn_linear: [0, 2, 4, 6, 8, 10],
  dyn_dwconv: [0, 2, 4, 6],
  attention: [0, 1],
  attention_mlp: [0],
};

/**
 * Cases of the gradient group rerun with every input but the first as a graph constant (weights baked into
 * the graph, as `vjpGraph` allows): the backward graph then reads the same constant with another layout
 * than the forward (a `linear` weight transposed there, untransposed in the backward `matmul`), which
 * catches kernels that cache derived copies of constants under too coarse a key.
 */
const CONST_GRAD_PICKS: { readonly [K in OpName]?: readonly number[] } = {
  matmul: [0, 1, 6, 7, 9, 13],
  linear: [0, 1, 2, 3, 4],
  affine: [0, 1, 2],
  conv2d: [0, 1, 2, 3, 8],
  layer_norm: [0, 1],
  attention: [0],
};

/** Traces `c` with input 0 as graph input `in0` and the others as graph constants. */
function traceWithConstants(c: OpCase): Graph {
  return trace((g) =>
    c.build(c.inputs.map((d, i) => (i === 0 ? g.input('in0', d.shape, d.dtype) : g.constant(d)))),
  );
}

/** Primitive ops of the table (every backend must implement these). */
const PRIMITIVES = OP_NAMES.filter((op) => OPS[op].kind !== 'composite');
/** Composite ops of the table. */
const COMPOSITES = OP_NAMES.filter((op) => OPS[op].kind === 'composite');

/** Per-test timeout of small cases (ms): generous for backends that compile shaders. */
export const CASE_TIMEOUT = 30_000;
/** Timeout of backend creation, composites and fixture runs (ms). */
export const SLOW_TIMEOUT = 120_000;

/** Relative bound of the fixture parity tests (SPEC section 8). */
const FIXTURE_BOUND = 1e-4;

/** Primitive ops a graph needs once lowered. */
function primitivesOf(graph: Graph): Set<OpName> {
  const ops = new Set<OpName>();
  for (const n of lowerGraph(graph).nodes) if (n.op !== 'input' && n.op !== 'const') ops.add(n.op);
  return ops;
}

function dtypesOf(graph: Graph): Set<DType> {
  return new Set(lowerGraph(graph).nodes.map((n) => n.type.dtype));
}

function generate(op: OpName, gen: CaseGen | undefined): OpCase[] {
  return gen ? gen(makeGen(rng(seedOf(op)))) : [];
}

/** Throws `message` unless `cond` holds (the suite's assertion, framework-free). */
function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** How a case reports that it does not apply to the backend (vitest's `ctx.skip`, or the runner's). */
export interface CaseContext {
  /** Ends the case as skipped, with a note saying why. */
  skip(note?: string): never;
}

/** One test of the conformance suite. */
export interface ConformanceCase {
  /** The group it belongs to (a vitest `describe` block); empty for the suite-level checks. */
  readonly group: string;
  /** The test's name. */
  readonly label: string;
  /** Timeout in ms. */
  readonly timeout: number;
  /** Runs the case on `backend`; throws when the backend fails it. */
  run(backend: AnyBackend, ctx: CaseContext): Promise<void>;
}

/** Every case of the suite, in order, for a backend described by `options`. */
export function conformanceCases(options: ConformanceOptions): ConformanceCase[] {
  const tol = options.tolerance ?? 1e-4;
  const light = tol / 10;
  const skip = new Set<OpName>(options.skip ?? []);
  const cases: ConformanceCase[] = [];
  let group = '';
  const add = (label: string, timeout: number, run: ConformanceCase['run']) => {
    cases.push({ group, label, timeout, run });
  };

  /** Skips the current test when the graph needs an op in `skip` or a dtype the backend lacks. */
  const skipIfUnsupported = (graph: Graph, be: AnyBackend, ctx: CaseContext) => {
    const blocked = [...primitivesOf(graph)].filter((op) => skip.has(op));
    if (blocked.length) ctx.skip(`needs skipped op(s) ${blocked.join(', ')}`);
    const dtypes = [...dtypesOf(graph)].filter((d) => !be.capabilities.dtypes.includes(d));
    if (dtypes.length) ctx.skip(`backend does not store ${dtypes.join(', ')}`);
  };

  /** Compiles and runs `c` (and runs it eagerly), comparing both with the float64 reference. */
  async function checkCase(
    be: AnyBackend,
    c: OpCase,
    rel: number,
    label: string,
    fuseModes: readonly boolean[],
    eagerToo: boolean,
  ) {
    const graph = traceCase(c);
    const inputs = inputRecord(c);
    const ref = evaluateF64(graph, inputs).output;
    // Probabilities are small by nature (a softmax over 257 values peaks near 4e-2): bound the error
    // relative to the output's own scale there, or the bound would be an absolute 1e-4.
    const scale = graph.nodes[graph.outputs.get('output')!].op === 'softmax' ? 'output' : 'unit';
    for (const fuse of fuseModes) {
      const compiled = await compile(graph, be, { fuse });
      try {
        const out = await compiled.run(inputs);
        const want = graph.nodes[graph.outputs.get('output')!].type.dtype;
        check(out.output.dtype === want, `${label}: dtype: expected ${want}, got ${out.output.dtype}`);
        expectClose(out.output, ref, rel, `${label} (compiled, fuse ${fuse})`, scale);
      } finally {
        compiled.dispose();
      }
    }
    if (eagerToo) {
      const session = eager(be);
      try {
        const out = c.build(c.inputs.map((d) => session.tensor(d)));
        expectClose(await session.read(out), ref, rel, `${label} (eager)`, scale);
      } finally {
        session.dispose();
      }
    }
  }

  add('the suite has cases for every primitive and composite of the op table', CASE_TIMEOUT, async () => {
    const bare = [
      ...PRIMITIVES.filter((op) => generate(op, PRIMITIVE_CASES[op]).length === 0),
      ...COMPOSITES.filter((op) => generate(op, COMPOSITE_CASES[op]).length === 0),
    ];
    check(bare.length === 0, `ops without conformance cases: ${bare.join(', ')}`);
  });

  add('the backend has a kernel for every primitive (except the skipped ones)', CASE_TIMEOUT, async (be) => {
    const missing = PRIMITIVES.filter((op) => !skip.has(op) && !be.kernels[op]);
    check(missing.length === 0, `backend ${be.name} lacks kernels: ${missing.join(', ')}`);
  });

  group = 'primitives vs the float64 reference';
  for (const op of PRIMITIVES) {
    const kind = OPS[op].kind;
    const rel = kind === 'reduce' || kind === 'compute' ? tol : light;
    for (const c of generate(op, PRIMITIVE_CASES[op])) {
      const label = `${op}: ${c.label}`;
      add(label, CASE_TIMEOUT, async (be, ctx) => {
        skipIfUnsupported(traceCase(c), be, ctx);
        await checkCase(be, c, rel, label, [true], true);
      });
    }
  }

  group = 'composites vs the float64 reference (fused and lowered)';
  for (const op of COMPOSITES) {
    // the elementwise composites keep the elementwise bound they had as primitives
    const rel = (ELEMENTWISE_COMPOSITES as readonly string[]).includes(op) ? light : tol;
    for (const c of generate(op, COMPOSITE_CASES[op])) {
      const label = `${op}: ${c.label}`;
      add(label, SLOW_TIMEOUT, async (be, ctx) => {
        skipIfUnsupported(traceCase(c), be, ctx);
        await checkCase(be, c, rel, label, [true, false], true);
      });
    }
  }

  group = 'gradients: VJP rules vs central differences (float64), backend vs float64';
  for (const op of [...PRIMITIVES, ...COMPOSITES]) {
    const all = generate(op, PRIMITIVE_CASES[op] ?? COMPOSITE_CASES[op]);
    const picks = GRAD_PICKS[op] ?? [0, 1, 2];
    const r = rng(seedOf(`grad ${op}`));
    picks
      .filter((i) => i < all.length)
      .forEach((i, k) => {
        const c = all[i];
        const label = `${op}: ${c.label}`;
        add(label, SLOW_TIMEOUT, async (be, ctx) => {
          const graph = traceCase(c);
          skipIfUnsupported(graph, be, ctx);
          await checkGradients(be, graph, inputRecord(c), label, { rng: r, rel: tol, eagerToo: k === 0 });
        });
      });
  }

  group = 'gradients with constant weights: backend vs float64 (input 0 varies, the others are constants)';
  for (const [op, picks] of Object.entries(CONST_GRAD_PICKS) as [OpName, readonly number[]][]) {
    const all = generate(op, PRIMITIVE_CASES[op] ?? COMPOSITE_CASES[op]);
    const r = rng(seedOf(`const grad ${op}`));
    for (const i of picks.filter((j) => j < all.length)) {
      const c = all[i];
      const label = `${op}: ${c.label}`;
      add(label, SLOW_TIMEOUT, async (be, ctx) => {
        const graph = traceWithConstants(c);
        skipIfUnsupported(graph, be, ctx);
        await checkGradients(be, graph, { in0: c.inputs[0] }, label, { rng: r, rel: tol });
      });
    }
  }
  {
    // one constant read with four layouts in one graph, forward and backward
    const g = makeGen(rng(seedOf('const grad shared weight')));
    const [x, w, bias] = [g.t([2, 3, 6]), g.t([6, 6]), g.t([6])];
    const label = 'one constant [6,6] as linear weight, matmul B, transB and permuted B';
    add(label, SLOW_TIMEOUT, async (be, ctx) => {
      const graph = trace((t) => {
        const xi = t.input('in0', x.shape);
        const c = t.constant(w);
        const h = F.linear(xi, c, t.constant(bias), 'gelu');
        const m = F.add(F.matmul(h, c), F.matmul(h, c, { transB: true }));
        return F.add(m, F.matmul(xi, F.permute(c, [1, 0])));
      });
      skipIfUnsupported(graph, be, ctx);
      await checkGradients(be, graph, { in0: x }, label, {
        rng: rng(seedOf(label)),
        rel: tol,
        eagerToo: true,
      });
    });
  }

  group = 'attention agrees with its MLP reading';
  {
    const g = makeGen(rng(seedOf('attention vs attention_mlp')));
    for (const s of ATTN_SHAPES) {
      const data = [g.t([s.b, s.nq, s.d], -2, 2), g.t([s.b, s.nk, s.d], -2, 2), g.t([s.b, s.nk, s.dv])];
      for (const fuse of [true, false]) {
        add(`${attnLabel(s)}, fuse ${fuse}`, CASE_TIMEOUT, async (be, ctx) => {
          const graph = trace((gb) => {
            const [q, k, v] = data.map((d, i) => gb.input(`in${i}`, d.shape));
            const opts = { heads: s.heads, scale: s.scale };
            return { attn: F.attention(q, k, v, opts), mlp: F.attentionMlp(q, k, v, opts) };
          });
          skipIfUnsupported(graph, be, ctx);
          const compiled = await compile(graph, be, { fuse });
          try {
            const out = await compiled.run({ in0: data[0], in1: data[1], in2: data[2] });
            expectClose(out.mlp, out.attn, 1e-5, `attention_mlp vs attention, ${attnLabel(s)}`);
          } finally {
            compiled.dispose();
          }
        });
      }
    }
  }

  group = 'wfm-micro DynLinear / DynDWConv against the float64 PyTorch fixtures';
  {
    let weights: ReturnType<typeof parseSafetensors> | undefined;
    const w = (n: string): TensorData => {
      weights ??= parseSafetensors(options.fixtures.weights);
      return weights.tensor(`blocks.1.${n}`);
    };
    for (const run of ['wfm-micro-64', 'wfm-micro-80']) {
      const bytes = options.fixtures.runs[run];
      for (const fuse of [true, false]) {
        add(
          `${run}: dynlinear.input -> dynlinear.output (bilateral), fuse ${fuse}`,
          SLOW_TIMEOUT,
          async (be, ctx) => {
            if (!bytes) throw new Error(`conformance ${be.name}: fixtures.runs is missing "${run}"`);
            const io = parseSafetensors(bytes);
            const x = io.tensor('dynlinear.input');
            const s = Math.floor(Math.sqrt(x.shape[1]));
            const graph = trace((g) =>
              F.dynLinear(
                g.input('x', x.shape),
                {
                  w: g.constant(w('linear1.w'), 'w'),
                  b: g.constant(w('linear1.b'), 'b'),
                  wfm_weight: g.constant(w('linear1.wfm.weight'), 'wfm_weight'),
                  wfm_bias: g.constant(w('linear1.wfm.bias'), 'wfm_bias'),
                  w1: g.constant(w('linear1.w1'), 'w1'),
                  w2: g.constant(w('linear1.w2'), 'w2'),
                },
                { grid: [s, s] },
              ),
            );
            skipIfUnsupported(graph, be, ctx);
            const compiled = await compile(graph, be, { fuse });
            try {
              const out = await compiled.run({ x });
              expectClose(
                out.output,
                io.tensor('dynlinear.output'),
                FIXTURE_BOUND,
                `${run} dynlinear (fuse ${fuse})`,
              );
            } finally {
              compiled.dispose();
            }
          },
        );
        add(
          `${run}: dyndwc.input -> dyndwc.output (adaptive), fuse ${fuse}`,
          SLOW_TIMEOUT,
          async (be, ctx) => {
            if (!bytes) throw new Error(`conformance ${be.name}: fixtures.runs is missing "${run}"`);
            const io = parseSafetensors(bytes);
            const x = io.tensor('dyndwc.input');
            const graph = trace((g) =>
              F.dynDWConv(g.input('x', x.shape), {
                w: g.constant(w('dwc.w'), 'w'),
                b: g.constant(w('dwc.b'), 'b'),
                wfm0_weight: g.constant(w('dwc.wfm.0.weight'), 'wfm0_weight'),
                wfm0_bias: g.constant(w('dwc.wfm.0.bias'), 'wfm0_bias'),
                wfm2_weight: g.constant(w('dwc.wfm.2.weight'), 'wfm2_weight'),
              }),
            );
            skipIfUnsupported(graph, be, ctx);
            const compiled = await compile(graph, be, { fuse });
            try {
              const out = await compiled.run({ x });
              expectClose(
                out.output,
                io.tensor('dyndwc.output'),
                FIXTURE_BOUND,
                `${run} dyndwc (fuse ${fuse})`,
              );
            } finally {
              compiled.dispose();
            }
          },
        );
      }
    }
  }

  group = 'shape errors name the op and the shapes';
  {
    const zeros = (shape: number[]): TensorData => randomTensor(shape, () => 0.5);
    interface BadCall {
      label: string;
      op: string;
      /** Input shapes. */
      shapes: number[][];
      /** How many of the input shapes (from the first) the message must show. */
      named: number;
      build: (ts: readonly Tensor[]) => Tensor;
    }
    const bad: BadCall[] = [
      {
        label: 'matmul inner mismatch',
        op: 'matmul',
        shapes: [
          [2, 3],
          [4, 5],
        ],
        named: 2,
        build: ([a, b]) => F.matmul(a, b),
      },
      {
        label: 'conv2d groups mismatch',
        op: 'conv2d',
        shapes: [
          [1, 4, 5, 5],
          [6, 3, 3, 3],
        ],
        named: 2,
        build: ([x, w]) => F.conv2d(x, w, undefined, { groups: 2 }),
      },
      {
        label: 'broadcasting failure',
        op: 'add',
        shapes: [[2, 3], [4]],
        named: 2,
        build: ([a, b]) => F.add(a, b),
      },
      {
        label: 'reshape size mismatch',
        op: 'reshape',
        shapes: [[2, 3]],
        named: 1,
        build: ([a]) => F.reshape(a, [4, 2]),
      },
      {
        label: 'dyn_linear wrong grid',
        op: 'dyn_linear',
        shapes: [[1, 12, 8], [8, 8], [8], [4, 8], [4], [2, 8], [2, 8]],
        named: 1,
        build: ([x, w, b, ww, wb, w1, w2]) =>
          F.dynLinear(x, { w, b, wfm_weight: ww, wfm_bias: wb, w1, w2 }, { grid: [3, 3] }),
      },
    ];
    const checkError = (fn: () => unknown, op: string, shapes: number[][]) => {
      let error: unknown;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      check(error instanceof ShapeError, `${op} should throw a ShapeError, got ${String(error)}`);
      const message = error.message;
      check(message.includes(op), `the message "${message}" should name ${op}`);
      for (const shape of shapes) {
        check(message.includes(fmtShape(shape)), `the message "${message}" should show ${fmtShape(shape)}`);
      }
      check(error.op === op, `ShapeError.op should be ${op}, got ${error.op}`);
    };
    for (const b of bad) {
      add(`${b.label}: traced`, CASE_TIMEOUT, async () => {
        checkError(
          () => trace((g) => b.build(b.shapes.map((s, i) => g.input(`in${i}`, s)))),
          b.op,
          b.shapes.slice(0, b.named),
        );
      });
      add(`${b.label}: eager`, CASE_TIMEOUT, async (be) => {
        const session = eager(be);
        try {
          checkError(
            () => b.build(b.shapes.map((s) => session.tensor(zeros(s)))),
            b.op,
            b.shapes.slice(0, b.named),
          );
        } finally {
          session.dispose();
        }
      });
    }
  }

  group = 'memory plan and repeated runs';
  add(
    'a chain graph plans near its live set and runs many times with fresh inputs',
    CASE_TIMEOUT,
    async (be, ctx) => {
      const graph = trace((g) => {
        let x = g.input('x', [48, 64]);
        x = F.tanh(F.add(F.mul(x, 2), 1));
        x = F.exp(F.neg(x));
        x = F.reshape(x, [64, 48]);
        x = F.sigmoid(F.sub(x, 0.5));
        x = F.permute(F.reshape(x, [8, 8, 48]), [2, 0, 1]);
        x = F.relu(F.mul(x, x));
        return F.sum(F.sqrt(x), -1);
      });
      skipIfUnsupported(graph, be, ctx);
      const compiled = await compile(graph, be);
      try {
        const { peakBytes, maxLiveBytes } = compiled.plan;
        if (maxLiveBytes > 0) {
          check(
            peakBytes <= 1.2 * maxLiveBytes,
            `the plan takes ${peakBytes} bytes, more than 1.2 x the ${maxLiveBytes} bytes live at once`,
          );
        }
        const g = makeGen(rng(seedOf('memory plan')));
        for (let i = 0; i < 3; i++) {
          const x = g.t([48, 64], -2, 2);
          const out = await compiled.run({ x });
          expectClose(out.output, evaluateF64(graph, { x }).output, tol, `chain graph, run ${i + 1}`);
        }
      } finally {
        compiled.dispose();
      }
    },
  );

  add(
    'outputs read into caller buffers: the same values in the buffers given, every run; a wrong buffer is refused',
    CASE_TIMEOUT,
    async (be, ctx) => {
      // a transposed view and a reduction: the buffers take dense row-major data of any layout
      const graph = trace((t) => {
        const x = t.input('x', [6, 10]);
        return { t: F.transpose(F.tanh(x)), s: F.sum(x, 1) };
      });
      skipIfUnsupported(graph, be, ctx);
      const compiled = await compile(graph, be);
      try {
        const g = makeGen(rng(seedOf('output buffers')));
        const bufT = { dtype: 'float32' as const, shape: [10, 6], data: new Float32Array(60) };
        for (let i = 0; i < 2; i++) {
          const x = g.t([6, 10], -2, 2);
          const plain = await compiled.run({ x });
          const out = await compiled.run({ x }, { outputs: { t: bufT } });
          check(out.t === bufT, `run ${i + 1}: the output "t" is not the buffer given`);
          check(
            out.t.data.every((v, j) => v === plain.t.data[j]),
            `run ${i + 1}: the buffer holds other values than a plain run`,
          );
          expectClose(out.t, evaluateF64(graph, { x }).t, tol, `transposed output, run ${i + 1}`);
          expectClose(out.s, plain.s, 0, `the output without a buffer, run ${i + 1}`);
        }
        const kept = Float32Array.from(bufT.data);
        const x = g.t([6, 10], -2, 2);
        let message = '';
        try {
          await compiled.run({ x }, { outputs: { t: { ...bufT, shape: [6, 10] }, u: bufT } });
        } catch (e) {
          message = (e as Error).message;
        }
        check(
          /output buffer "t" is float32\[6,10\], the output is float32\[10,6\]; no output named "u"/.test(
            message,
          ),
          `a wrong buffer should be refused naming both problems, got: ${message || 'no error'}`,
        );
        check(
          bufT.data.every((v, j) => v === kept[j]),
          'a refused run changed the buffer',
        );
      } finally {
        compiled.dispose();
      }
    },
  );
  add(
    'borrowed outputs: the same values; writing to them leaves parameters and later runs intact',
    CASE_TIMEOUT,
    async (be, ctx) => {
      const g = makeGen(rng(seedOf('borrowed outputs')));
      const w = new Parameter('w', g.t([4, 10], -1, 1));
      // y: a planned intermediate (a backend may lend it), y2 a view of it (not lent as well: no two
      // outputs share memory); p: a view of the parameter (never lent)
      const graph = trace((t) => {
        const x = t.input('x', [6, 10]);
        const y = F.exp(F.mul(x, 0.5));
        return { y, y2: F.reshape(y, [60]), p: F.reshape(t.parameter(w), [40]) };
      });
      skipIfUnsupported(graph, be, ctx);
      const compiled = await compile(graph, be);
      try {
        for (let i = 0; i < 2; i++) {
          const x = g.t([6, 10], -2, 2);
          const out = await compiled.run({ x }, { borrow: true });
          const ref = evaluateF64(graph, { x });
          expectClose(out.y, ref.y, tol, `borrowed y, run ${i + 1}`);
          expectClose(out.p, ref.p, 0, `borrowed p, run ${i + 1}`);
          out.y.data.fill(Number.NaN);
          expectClose(out.y2, ref.y2, tol, `y2 after writing to the borrowed y, run ${i + 1}`);
          out.p.data.fill(Number.NaN);
          const again = await compiled.run({ x });
          expectClose(again.y, ref.y, tol, `y after writing to the borrowed outputs, run ${i + 1}`);
          expectClose(again.p, ref.p, 0, `the parameter after writing to the borrowed outputs, run ${i + 1}`);
        }
      } finally {
        compiled.dispose();
      }
    },
  );

  group = 'parameters';
  add(
    'two graphs read one copy of a parameter and see every update without recompiling',
    CASE_TIMEOUT,
    async (be) => {
      const g = makeGen(rng(seedOf('parameters')));
      const w = new Parameter('w', g.t([40, 48], -1, 1));
      const bias = new Parameter('b', g.t([40], -1, 1));
      // Two shapes and two layouts of the weight (linear reads it transposed, the matmul as stored), so
      // that a backend's packed copies of both layouts must follow the updates.
      const one = trace((t) => ({
        y: F.gelu(F.linear(t.input('x', [5, 48]), t.parameter(w), t.parameter(bias))),
      }));
      const two = trace((t) => {
        const x = t.input('x', [9, 40]);
        return { y: F.add(F.matmul(x, t.parameter(w)), F.sum(t.parameter(bias))) };
      });
      const x1 = g.t([5, 48], -1, 1);
      const x2 = g.t([9, 40], -1, 1);
      const a = await compile(one, be);
      const b = await compile(two, be);
      const whole = !!be.compileGraph;
      try {
        if (!whole) {
          const held = residentParameters(be);
          check(held.count >= 2, `the backend should hold the 2 parameters, holds ${held.count}`);
        }
        const runBoth = async (label: string) => {
          // evaluateF64 reads the parameters' current values
          const [ra, rb] = [await a.run({ x: x1 }), await b.run({ x: x2 })];
          expectClose(ra.y, evaluateF64(one, { x: x1 }).y, tol, `linear graph, ${label}`);
          expectClose(rb.y, evaluateF64(two, { x: x2 }).y, tol, `matmul graph, ${label}`);
          return [ra.y, rb.y];
        };
        const [before] = await runBoth('first run');
        await runBoth('second run (cached copies)');
        w.set(g.t([40, 48], -1, 1));
        const [after] = await runBoth('after w.set');
        check(
          after.data.some((v, i) => v !== before.data[i]),
          'the output did not change after the weight was updated',
        );
        for (let i = 0; i < bias.value.data.length; i++) bias.value.data[i] *= -2;
        bias.touch();
        await runBoth('after an in-place update of b and touch()');
        await runBoth('again at the same versions');
      } finally {
        a.dispose();
        b.dispose();
      }
      if (!whole) {
        const held = residentParameters(be);
        check(held.count === 0, `disposing both graphs should free the parameters, ${held.count} held`);
      }
    },
  );

  return cases;
}

/** Thrown by the runner's `ctx.skip`. */
class SkipCase extends Error {}

/** Outcome of `runConformance`. */
export interface ConformanceReport {
  /** The backend's name. */
  readonly backend: string;
  /** Number of cases run, and how they ended. */
  readonly total: number;
  /** Number of cases that passed. */
  readonly passed: number;
  /** Cases that did not apply to the backend, with the reason each gave. */
  readonly skipped: readonly { label: string; reason: string }[];
  /** Cases that failed, with their error messages. */
  readonly failed: readonly { label: string; message: string }[];
  /** Wall time of the whole run (ms). */
  readonly ms: number;
}

/** Options of `runConformance`: the suite's options plus case selection and progress. */
export interface RunConformanceOptions extends ConformanceOptions {
  /** Runs only the cases this accepts (default all). */
  filter?: (c: ConformanceCase) => boolean;
  /** Called after each case. */
  onCase?: (c: ConformanceCase, outcome: 'passed' | 'skipped' | 'failed', detail?: string) => void;
}

/**
 * Runs the conformance suite on `backend` without a test framework (in Node or a browser page) and
 * reports what passed, was skipped and failed. Each case runs under its timeout; the backend is not
 * disposed.
 */
export async function runConformance(
  backend: AnyBackend,
  options: RunConformanceOptions,
): Promise<ConformanceReport> {
  const start = Date.now();
  const all = conformanceCases(options).filter((c) => options.filter?.(c) ?? true);
  let passed = 0;
  const skipped: { label: string; reason: string }[] = [];
  const failed: { label: string; message: string }[] = [];
  const ctx: CaseContext = {
    skip(note?: string): never {
      throw new SkipCase(note ?? 'skipped');
    },
  };
  for (const c of all) {
    const label = c.group ? `${c.group} > ${c.label}` : c.label;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        c.run(backend, ctx),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${c.timeout} ms`)), c.timeout);
        }),
      ]);
      passed++;
      options.onCase?.(c, 'passed');
    } catch (e) {
      if (e instanceof SkipCase) {
        skipped.push({ label, reason: e.message });
        options.onCase?.(c, 'skipped', e.message);
      } else {
        const message = e instanceof Error ? e.message : String(e);
        failed.push({ label, message });
        options.onCase?.(c, 'failed', message);
      }
    } finally {
      clearTimeout(timer);
    }
  }
  return { backend: backend.name, total: all.length, passed, skipped, failed, ms: Date.now() - start };
}
