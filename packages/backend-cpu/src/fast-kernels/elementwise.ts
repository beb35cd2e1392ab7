// Fast elementwise kernels for dense tensors: binary ops where the operands have the output's shape, are
// scalars, or broadcast along the leading axes (a bias row); unary ops as flat loops. Other layouts defer
// to the plain kernels. sigmoid and the silu composite (one pass) also take rows of strided views.
import type { Kernel, OpName } from '@wf/core';
import { elementwiseKernels, map1, UNARY_FNS } from '../kernels/elementwise.js';
import { type CpuTensor, forEachOffset, stridedView } from '../nd.js';
import { count, isDense } from './layout.js';

type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'greater';
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

/** How a dense operand of `n` elements maps onto a dense output of `total` elements. */
type Pattern = 'full' | 'scalar' | 'tail' | 'other';

function pattern(t: CpuTensor, out: CpuTensor): Pattern {
  if (!isDense(t)) return 'other';
  const n = count(t);
  const total = count(out);
  if (n === total && t.shape.length <= out.shape.length) return 'full';
  if (n === 1) return 'scalar';
  // broadcast over leading axes only: t's shape (size-1 leading dims dropped) equals out's trailing dims
  const dims = [...t.shape];
  while (dims.length && dims[0] === 1) dims.shift();
  const tail = out.shape.slice(out.shape.length - dims.length);
  if (dims.length && dims.every((d, i) => d === tail[i]) && total % n === 0) return 'tail';
  return 'other';
}

/**
 * Dense `out = t op s` (or `s op t` when `swapped`) with the loop written out per op, so the hot
 * tensor-with-scalar products of gradient graphs make no call per element; false for other ops.
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
): boolean {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) od[oo + i] = td[to + i] + s;
      return true;
    case 'mul':
      for (let i = 0; i < n; i++) od[oo + i] = td[to + i] * s;
      return true;
    case 'sub':
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = s - td[to + i];
      else for (let i = 0; i < n; i++) od[oo + i] = td[to + i] - s;
      return true;
    case 'div':
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = s / td[to + i];
      else for (let i = 0; i < n; i++) od[oo + i] = td[to + i] / s;
      return true;
    case 'greater':
      if (swapped) for (let i = 0; i < n; i++) od[oo + i] = s > td[to + i] ? 1 : 0;
      else for (let i = 0; i < n; i++) od[oo + i] = td[to + i] > s ? 1 : 0;
      return true;
    default:
      return false;
  }
}

function binary(op: BinaryOp): Kernel<CpuTensor> {
  const plain = elementwiseKernels[op]!;
  const f = BINARY[op];
  const isAdd = op === 'add';
  const isMul = op === 'mul';
  return (args) => {
    const [a, b] = args.inputs;
    const o = args.out!;
    if (!isDense(o)) return plain(args);
    const pa = pattern(a, o);
    const pb = pattern(b, o);
    const od = o.data;
    const oo = o.offset;
    const ad = a.data;
    const bd = b.data;
    const total = count(o);
    if (pa === 'full' && pb === 'full') {
      const ao = a.offset;
      const bo = b.offset;
      if (isAdd) for (let i = 0; i < total; i++) od[oo + i] = ad[ao + i] + bd[bo + i];
      else if (isMul) for (let i = 0; i < total; i++) od[oo + i] = ad[ao + i] * bd[bo + i];
      else for (let i = 0; i < total; i++) od[oo + i] = f(ad[ao + i], bd[bo + i]);
      return o;
    }
    if (pa === 'full' && pb === 'scalar' && scalarLoop(op, od, oo, ad, a.offset, bd[b.offset], total, false))
      return o;
    if (pb === 'full' && pa === 'scalar' && scalarLoop(op, od, oo, bd, b.offset, ad[a.offset], total, true))
      return o;
    if (pa === 'full' && (pb === 'scalar' || pb === 'tail')) {
      const n = count(b);
      const ao = a.offset;
      const bo = b.offset;
      for (let base = 0; base < total; base += n)
        for (let j = 0; j < n; j++) od[oo + base + j] = f(ad[ao + base + j], bd[bo + j]);
      return o;
    }
    if (pb === 'full' && (pa === 'scalar' || pa === 'tail')) {
      const n = count(a);
      const ao = a.offset;
      const bo = b.offset;
      for (let base = 0; base < total; base += n)
        for (let j = 0; j < n; j++) od[oo + base + j] = f(ad[ao + j], bd[bo + base + j]);
      return o;
    }
    return plain(args);
  };
}

function unary(op: keyof typeof UNARY_FNS): Kernel<CpuTensor> {
  const plain = elementwiseKernels[op]!;
  const f = UNARY_FNS[op];
  return (args) => {
    const [a] = args.inputs;
    const o = args.out!;
    if (!isDense(a) || !isDense(o)) return plain(args);
    const n = count(o);
    const od = o.data;
    const ad = a.data;
    for (let i = 0; i < n; i++) od[o.offset + i] = f(ad[a.offset + i]);
    return o;
  };
}

/**
 * A dense one-input kernel with the loop written out for `f` (inlined by V8: no call through a shared
 * closure per element), deferring other layouts to `fallback`.
 */
function denseMap(f: (x: number) => number, fallback: Kernel<CpuTensor>): Kernel<CpuTensor> {
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

/**
 * erf from the Numerical Recipes erfc approximation (one exp and a degree-9 polynomial; absolute error
 * below 1.2e-7, under float32 resolution of values near 1): the hot erf of lowered GELUs and their gradients.
 */
export function fastErf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc : erfc - 1;
}

const geluErf = (x: number): number => 0.5 * x * (1 + fastErf(x * Math.SQRT1_2));
const GELU_K = Math.sqrt(2 / Math.PI);
const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));

/** x · sigmoid(x), stable for either sign (the fused form of the `silu` composite). */
const siluOf = (x: number): number => {
  if (x >= 0) return x / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return (x * e) / (1 + e);
};

/** Fast elementwise kernels keyed by op. */
export const fastElementwiseKernels: Partial<Record<OpName, Kernel<CpuTensor>>> = {
  ...Object.fromEntries((Object.keys(BINARY) as BinaryOp[]).map((op) => [op, binary(op)])),
  ...Object.fromEntries((Object.keys(UNARY_FNS) as (keyof typeof UNARY_FNS)[]).map((op) => [op, unary(op)])),
  erf: denseMap(fastErf, elementwiseKernels.erf!),
  exp: denseMap(Math.exp, elementwiseKernels.exp!),
  neg: denseMap((x) => -x, elementwiseKernels.neg!),
  sigmoid: denseMap((x) => {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  }, elementwiseKernels.sigmoid!),
  // the silu composite in one pass (without this kernel it lowers to sigmoid and mul)
  silu: denseMap(siluOf, (args) => {
    const [a] = args.inputs;
    map1(args.out!, a, siluOf);
    return args.out!;
  }),
  // a GELU left standalone (its input is also read elsewhere, e.g. saved for a gradient) in one pass
  gelu: geluKernel,
};

function geluKernel(args: Parameters<Kernel<CpuTensor>>[0]): CpuTensor {
  const tanh = (args.attrs as { approximate?: string }).approximate === 'tanh';
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
