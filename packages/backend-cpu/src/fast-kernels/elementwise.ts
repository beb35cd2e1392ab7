// Fast elementwise kernels for dense outputs: binary ops walk runs of the output along which each operand
// is contiguous or broadcast (same shape, scalars, bias rows, [.., 1] columns, middle-axis broadcasts),
// with one written-out loop per op (no call per element); unary ops as flat loops over dense tensors or
// contiguous rows of strided views. An operand that is a transposed view of the output's shape is first
// copied in tiles into scratch memory; other layouts (permuted innermost axes) defer to the plain kernels.
import {
  BINARY_OPS,
  type BinaryOp,
  defineKernels,
  type Kernel,
  type KernelArgs,
  type OpName,
  opTable,
  stridesOf,
  UNARY_OPS,
  type UnaryOp,
  unaryScalar,
} from '@wf/core';
import ndarray from 'ndarray';
import {
  type ElementwiseComposite,
  elementwiseKernels,
  map1,
  unaryFunction,
} from '../kernels/elementwise.js';
import { type CpuTensor, forEachOffset, stridedView } from '../nd.js';
import { fastErf, fastExp, fastTanh } from './fast-math.js';
import { count, isDense, transposedCopy } from './layout.js';

/**
 * The scalar form of each binary op for the loops below, keyed by the op table's binary ops: the table's
 * definitions, except max/min as NaN-propagating compare-and-select (cheaper than Math.max/Math.min; the
 * result can differ only in the sign of a zero).
 */
const BINARY: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a > b || Number.isNaN(a) ? a : b),
  min: (a, b) => (a < b || Number.isNaN(a) ? a : b),
  pow: Math.pow,
  greater: (a, b) => (a > b ? 1 : 0),
};

/**
 * Dense `out = t op s` (or `s op t` when `swapped`) with the loop written out per op, so the hot
 * tensor-with-scalar products of gradient graphs make no call per element.
 */
function scalarLoop(
  op: BinaryOp,
  od: Float32Array | Int32Array,
  oo: number,
  td: Float32Array | Int32Array,
  to: number,
  s: number,
  n: number,
  swapped: boolean,
): void {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) od[oo + i] = td[to + i] + s;
      return;
    case 'mul':
      for (let i = 0; i < n; i++) od[oo + i] = td[to + i] * s;
      return;
    case 'sub':
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = s - td[to + i];
      else for (let i = 0; i < n; i++) od[oo + i] = td[to + i] - s;
      return;
    case 'div':
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = s / td[to + i];
      else for (let i = 0; i < n; i++) od[oo + i] = td[to + i] / s;
      return;
    case 'greater':
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = s > td[to + i] ? 1 : 0;
      else for (let i = 0; i < n; i++) od[oo + i] = td[to + i] > s ? 1 : 0;
      return;
    default: {
      const f = BINARY[op];
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = f(s, td[to + i]);
      else for (let i = 0; i < n; i++) od[oo + i] = f(td[to + i], s);
    }
  }
}

/** Dense `out = a op b` over `n` elements, the loop written out per op. */
function fullLoop(
  op: BinaryOp,
  od: Float32Array | Int32Array,
  oo: number,
  ad: Float32Array | Int32Array,
  ao: number,
  bd: Float32Array | Int32Array,
  bo: number,
  n: number,
): void {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) od[oo + i] = ad[ao + i] + bd[bo + i];
      return;
    case 'mul':
      for (let i = 0; i < n; i++) od[oo + i] = ad[ao + i] * bd[bo + i];
      return;
    case 'sub':
      for (let i = 0; i < n; i++) od[oo + i] = ad[ao + i] - bd[bo + i];
      return;
    case 'div':
      for (let i = 0; i < n; i++) od[oo + i] = ad[ao + i] / bd[bo + i];
      return;
    case 'greater':
      for (let i = 0; i < n; i++) od[oo + i] = ad[ao + i] > bd[bo + i] ? 1 : 0;
      return;
    default: {
      const f = BINARY[op];
      for (let i = 0; i < n; i++) od[oo + i] = f(ad[ao + i], bd[bo + i]);
    }
  }
}

/**
 * How a binary op walks a dense output: runs of `inner` output elements along which each operand steps
 * by 1 (`as`/`bs` = 1) or stays put (0), and the operands' offsets of each run (`outer` runs).
 */
interface RunPlan {
  inner: number;
  as: 0 | 1;
  bs: 0 | 1;
  /** Shape and operand strides of the axes outside the run (output offsets are run index * inner). */
  outerShape: number[];
  aStride: number[];
  bStride: number[];
}

/** Strides of `t` broadcast to `shape` (0 on broadcast axes). */
function broadcastStrides(t: CpuTensor, shape: readonly number[]): number[] {
  const r = shape.length;
  const k = t.shape.length;
  const out = new Array<number>(r).fill(0);
  for (let i = 0; i < k; i++) if (t.shape[i] !== 1) out[r - k + i] = t.stride[i];
  return out;
}

/**
 * The run plan of `a op b` into a dense `shape`, or undefined when an operand's innermost axis is neither
 * contiguous nor broadcast (a permuted view: the plain kernel handles it).
 */
function runPlan(a: CpuTensor, b: CpuTensor, shape: readonly number[]): RunPlan | undefined {
  const sa = broadcastStrides(a, shape);
  const sb = broadcastStrides(b, shape);
  let ax = shape.length - 1;
  while (ax >= 0 && shape[ax] === 1) ax--;
  if (ax < 0) return { inner: 1, as: 0, bs: 0, outerShape: [], aStride: [], bStride: [] };
  const kind = (s: number): 0 | 1 | -1 => (s === 0 ? 0 : s === 1 ? 1 : -1);
  const ka = kind(sa[ax]);
  const kb = kind(sb[ax]);
  if (ka === -1 || kb === -1) return undefined;
  const as = ka;
  const bs = kb;
  let inner = shape[ax];
  ax--;
  for (; ax >= 0; ax--) {
    if (shape[ax] === 1) continue;
    if (sa[ax] !== as * inner || sb[ax] !== bs * inner) break;
    inner *= shape[ax];
  }
  const outerShape: number[] = [];
  const aStride: number[] = [];
  const bStride: number[] = [];
  for (let i = 0; i <= ax; i++)
    if (shape[i] !== 1) {
      outerShape.push(shape[i]);
      aStride.push(sa[i]);
      bStride.push(sb[i]);
    }
  return { inner, as, bs, outerShape, aStride, bStride };
}

/** Scratch of the transposed operands' copies (JavaScript memory, grown on demand, reused). */
let transposeScratch = new Float32Array(0);

/**
 * The fast kernel of a binary op. An operand that is a transposed float32 view with the output's shape (a
 * permute's cotangent, e.g. [B, HW, C] read from [B, C, HW]) is first copied densely, in tiles, into
 * JavaScript scratch memory.
 */
export function fastBinary(op: BinaryOp): Kernel<CpuTensor, BinaryOp> {
  const plain = elementwiseKernels[op];
  return (args) => {
    const [a, b] = args.inputs;
    const o = args.out!;
    if (!isDense(o)) return plain(args);
    const plan = runPlan(a, b, o.shape);
    if (plan) return runBinary(op, a, b, o, plan);
    const ta = isTransposedLike(a, o);
    const tb = isTransposedLike(b, o);
    if ((!ta && !runsAlong(a)) || (!tb && !runsAlong(b))) return plain(args);
    const n = count(o);
    if (transposeScratch.length < 2 * n) transposeScratch = new Float32Array(2 * n);
    const da = ta ? transposedInto(a, transposeScratch.subarray(0, n)) : a;
    const db = tb ? transposedInto(b, transposeScratch.subarray(n, 2 * n)) : b;
    if (!da || !db) return plain(args);
    const dense = runPlan(da, db, o.shape);
    return dense ? runBinary(op, da, db, o, dense) : plain(args);
  };
}

/** Whether `t`'s innermost non-unit axis is contiguous or broadcast (the run plan can walk it). */
function runsAlong(t: CpuTensor): boolean {
  let ax = t.shape.length - 1;
  while (ax >= 0 && t.shape[ax] === 1) ax--;
  return ax < 0 || t.stride[ax] <= 1;
}

/** Whether `t` is a float32 view with `o`'s shape whose innermost axis is strided (a candidate copy). */
function isTransposedLike(t: CpuTensor, o: CpuTensor): boolean {
  return (
    !runsAlong(t) &&
    t.data instanceof Float32Array &&
    t.shape.length === o.shape.length &&
    t.shape.every((d, i) => d === o.shape[i])
  );
}

/** A dense copy of the transposed view `t` in `into`, or undefined when `t` is not transposed. */
function transposedInto(t: CpuTensor, into: Float32Array): CpuTensor | undefined {
  const copy = ndarray(into, [...t.shape], stridesOf(t.shape), 0) as CpuTensor;
  return transposedCopy(copy, t) ? copy : undefined;
}

/** `o = a op b` along the run plan `plan`. */
function runBinary(op: BinaryOp, a: CpuTensor, b: CpuTensor, o: CpuTensor, plan: RunPlan): CpuTensor {
  const { inner, as, bs, outerShape, aStride, bStride } = plan;
  const od = o.data;
  const ad = a.data;
  const bd = b.data;
  const rank = outerShape.length;
  const idx = new Int32Array(rank);
  let ao = a.offset;
  let bo = b.offset;
  let oo = o.offset;
  const runs = outerShape.reduce((p, d) => p * d, 1);
  for (let r = 0; r < runs; r++) {
    if (as === 1 && bs === 1) fullLoop(op, od, oo, ad, ao, bd, bo, inner);
    else if (as === 1) scalarLoop(op, od, oo, ad, ao, bd[bo], inner, false);
    else if (bs === 1) scalarLoop(op, od, oo, bd, bo, ad[ao], inner, true);
    else {
      // both operands broadcast along the run: one value, repeated
      scalarLoop(op, od, oo, ad, ao, bd[bo], 1, false);
      od.fill(od[oo], oo + 1, oo + inner);
    }
    oo += inner;
    for (let k = rank - 1; k >= 0; k--) {
      ao += aStride[k];
      bo += bStride[k];
      if (++idx[k] < outerShape[k]) break;
      ao -= aStride[k] * outerShape[k];
      bo -= bStride[k] * outerShape[k];
      idx[k] = 0;
    }
  }
  return o;
}

/** The unary primitives and the elementwise composites with a fused one-pass kernel here. */
type FastUnaryOp = UnaryOp | ElementwiseComposite;

/** `out[oo + i] = op(a[ao + i])` for `n` elements, the loop written out per op (no call per element). */
function unaryLoop(
  op: FastUnaryOp,
  od: Float32Array | Int32Array,
  oo: number,
  ad: Float32Array | Int32Array,
  ao: number,
  n: number,
): void {
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) od[oo + i] = -ad[ao + i];
      return;
    case 'abs':
      for (let i = 0; i < n; i++) od[oo + i] = Math.abs(ad[ao + i]);
      return;
    case 'exp':
      for (let i = 0; i < n; i++) od[oo + i] = fastExp(ad[ao + i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) od[oo + i] = Math.log(ad[ao + i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) od[oo + i] = Math.sqrt(ad[ao + i]);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) od[oo + i] = fastTanh(ad[ao + i]);
      return;
    case 'erf':
      for (let i = 0; i < n; i++) od[oo + i] = fastErf(ad[ao + i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) od[oo + i] = sigmoidOf(ad[ao + i]);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = ad[ao + i];
        od[oo + i] = v > 0 || Number.isNaN(v) ? v : 0;
      }
      return;
    default: {
      const f = unaryScalar(op);
      for (let i = 0; i < n; i++) od[oo + i] = f(ad[ao + i]);
    }
  }
}

/** Logistic sigmoid, stable for either sign. */
export function sigmoidOf(x: number): number {
  if (x >= 0) return 1 / (1 + fastExp(-x));
  const e = fastExp(x);
  return e / (1 + e);
}

/**
 * A unary kernel over dense tensors, or rows of strided views that are contiguous inside (e.g. a slice
 * of the last axis); other layouts defer to the plain kernel.
 */
function unary(op: FastUnaryOp): Kernel<CpuTensor, FastUnaryOp> {
  const f = unaryFunction(op);
  const plain: Kernel<CpuTensor, FastUnaryOp> = ({ inputs: [a], out }) => {
    map1(out!, a, f);
    return out!;
  };
  return (args) => {
    const [a] = args.inputs;
    const o = args.out!;
    const od = o.data;
    const ad = a.data;
    if (isDense(a) && isDense(o)) {
      unaryLoop(op, od, o.offset, ad, a.offset, count(o));
      return o;
    }
    const r = a.shape.length;
    const d = r ? a.shape[r - 1] : 0;
    if (r < 2 || a.stride[r - 1] !== 1 || o.stride[r - 1] !== 1) return plain(args);
    const lead = a.shape.slice(0, -1);
    const rowsA = stridedView(a, lead, a.stride.slice(0, -1), a.offset);
    const rowsO = stridedView(o, lead, o.stride.slice(0, -1), o.offset);
    forEachOffset(lead, [rowsO, rowsA], (at) => unaryLoop(op, od, at[0], ad, at[1], d));
    return o;
  };
}

/**
 * A dense one-input kernel with the loop written out for `f` (inlined by V8: no call through a shared
 * closure per element), deferring other layouts to `fallback`.
 */
function denseMap<K extends OpName>(
  f: (x: number) => number,
  fallback: Kernel<CpuTensor, K>,
): Kernel<CpuTensor, K> {
  return (args) => {
    const [a] = args.inputs;
    const o = args.out!;
    const od = o.data;
    const ad = a.data;
    if (isDense(a) && isDense(o)) {
      const n = count(o);
      const ao = a.offset;
      const oo = o.offset;
      for (let i = 0; i < n; i++) od[oo + i] = f(ad[ao + i]);
      return o;
    }
    // rows of a strided view (e.g. a slice of the last axis) that are contiguous inside
    const r = a.shape.length;
    const d = r ? a.shape[r - 1] : 0;
    if (r < 2 || a.stride[r - 1] !== 1 || o.stride[r - 1] !== 1) return fallback(args);
    const lead = a.shape.slice(0, -1);
    const rowsA = stridedView(a, lead, a.stride.slice(0, -1), a.offset);
    const rowsO = stridedView(o, lead, o.stride.slice(0, -1), o.offset);
    forEachOffset(lead, [rowsO, rowsA], (at) => {
      const oo = at[0];
      const ao = at[1];
      for (let i = 0; i < d; i++) od[oo + i] = f(ad[ao + i]);
    });
    return o;
  };
}

const geluErf = (x: number): number => 0.5 * x * (1 + fastErf(x * Math.SQRT1_2));
const GELU_K = Math.sqrt(2 / Math.PI);
const geluTanh = (x: number): number => 0.5 * x * (1 + fastTanh(GELU_K * (x + 0.044715 * x * x * x)));

/** x · sigmoid(x), stable for either sign (the fused form of the `silu` composite). */
export const siluOf = (x: number): number => {
  if (x >= 0) return x / (1 + fastExp(-x));
  const e = fastExp(x);
  return (x * e) / (1 + e);
};

/** Fast elementwise kernels keyed by op. */
export const fastElementwiseKernels = defineKernels<CpuTensor>()({
  ...opTable(BINARY_OPS, (op) => fastBinary(op)),
  ...opTable(UNARY_OPS, unary),
  // the relu composite in one pass (without this kernel it lowers to max(x, 0))
  relu: unary('relu'),
  // the sigmoid composite in one pass (without this kernel it lowers to exp, abs, greater and div)
  sigmoid: unary('sigmoid'),
  // the silu composite in one pass (without this kernel it lowers to sigmoid and mul)
  silu: denseMap<'silu'>(siluOf, (args) => {
    const [a] = args.inputs;
    map1(args.out!, a, siluOf);
    return args.out!;
  }),
  // a GELU left standalone (its input is also read elsewhere, e.g. saved for a gradient) in one pass
  gelu: geluKernel,
  // GELU's backward pass (g · gelu'(x)) in one pass instead of about ten lowered elementwise ops
  gelu_grad: geluGradKernel,
});

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** g · gelu'(x) for the exact GELU, given erf(x / √2). */
function geluGradFromErf(x: number, erfHalf: number, g: number): number {
  return g * (0.5 * (1 + erfHalf) + x * fastExp(-0.5 * x * x) * INV_SQRT_2PI);
}

/** g · gelu'(x) for the tanh approximation. */
function geluTanhGrad(x: number, g: number): number {
  const x2 = x * x;
  const t = fastTanh(GELU_K * x * (1 + 0.044715 * x2));
  const dt = (1 - t * t) * GELU_K * (1 + 3 * 0.044715 * x2);
  return g * 0.5 * (1 + t + x * dt);
}

function geluGradKernel(args: KernelArgs<CpuTensor, 'gelu_grad'>): CpuTensor {
  const tanh = args.attrs.approximate === 'tanh';
  const [x, g] = args.inputs;
  const o = args.out!;
  const od = o.data;
  const xd = x.data;
  const gd = g.data;
  if (isDense(x) && isDense(g) && isDense(o)) {
    const n = count(o);
    const [oo, xo, go] = [o.offset, x.offset, g.offset];
    if (tanh) for (let i = 0; i < n; i++) od[oo + i] = geluTanhGrad(xd[xo + i], gd[go + i]);
    else
      for (let i = 0; i < n; i++) {
        const v = xd[xo + i];
        od[oo + i] = geluGradFromErf(v, fastErf(v * Math.SQRT1_2), gd[go + i]);
      }
    return o;
  }
  forEachOffset(o.shape, [o, x, g], (at) => {
    const v = xd[at[1]];
    od[at[0]] = tanh ? geluTanhGrad(v, gd[at[2]]) : geluGradFromErf(v, fastErf(v * Math.SQRT1_2), gd[at[2]]);
  });
  return o;
}

function geluKernel(args: KernelArgs<CpuTensor, 'gelu'>): CpuTensor {
  const tanh = args.attrs.approximate === 'tanh';
  const f = tanh ? geluTanh : geluErf;
  const [a] = args.inputs;
  const o = args.out!;
  if (isDense(a) && isDense(o)) {
    const n = count(o);
    const od = o.data;
    const ad = a.data;
    if (tanh) for (let i = 0; i < n; i++) od[o.offset + i] = geluTanh(ad[a.offset + i]);
    else for (let i = 0; i < n; i++) od[o.offset + i] = geluErf(ad[a.offset + i]);
    return o;
  }
  map1(o, a, f);
  return o;
}
