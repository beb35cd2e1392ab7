// Elementwise kernels: unary math (each op's scalar function from the op table) and broadcasting binary
// ops (ndarray-ops loops). Broadcasting is a stride-0 view of each operand, so no operand is ever
// materialized at the output size.
import type { BinaryOp, Kernel, UnaryOp } from '@wf/core';
import { BINARY_OPS, defineKernels, opTable, sigmoid, UNARY_OPS, unaryScalar } from '@wf/core';
import ops from 'ndarray-ops';
import { broadcastView, type CpuTensor, forEachOffset } from '../nd.js';

/** Applies `f` elementwise from `a` into `out` (same shape, any strides). */
export function map1(out: CpuTensor, a: CpuTensor, f: (x: number) => number): void {
  const od = out.data;
  const ad = a.data;
  forEachOffset(out.shape, [out, a], (o) => {
    od[o[0]] = f(ad[o[1]]);
  });
}

function unary(op: UnaryOp): Kernel<CpuTensor, UnaryOp> {
  const f = unaryScalar(op);
  return ({ inputs: [a], out }) => {
    map1(out!, a, f);
    return out!;
  };
}

/** The ndarray-ops loop of each binary op (keyed by the op table's binary ops). */
const NDARRAY_BINARY: Readonly<Record<BinaryOp, (o: CpuTensor, a: CpuTensor, b: CpuTensor) => unknown>> = {
  add: ops.add,
  sub: ops.sub,
  mul: ops.mul,
  div: ops.div,
  max: ops.max,
  min: ops.min,
  pow: ops.pow,
  greater: ops.gt,
};

function binary(op: BinaryOp): Kernel<CpuTensor, BinaryOp> {
  const f = NDARRAY_BINARY[op];
  return ({ inputs: [a, b], out }) => {
    f(out!, broadcastView(a, out!.shape), broadcastView(b, out!.shape));
    return out!;
  };
}

/** The elementwise composites with a one-pass kernel here (their lowerings use several primitives). */
export type ElementwiseComposite = 'relu' | 'sigmoid';

/** The float64 definition of each elementwise composite, which its fused kernel computes. */
const COMPOSITE_SCALAR: Readonly<Record<ElementwiseComposite, (x: number) => number>> = {
  relu: (x) => Math.max(x, 0),
  sigmoid,
};

/** The scalar function of a unary primitive (the op table's) or of an elementwise composite. */
export function unaryFunction(op: UnaryOp | ElementwiseComposite): (x: number) => number {
  return op === 'relu' || op === 'sigmoid' ? COMPOSITE_SCALAR[op] : unaryScalar(op);
}

/** A one-input elementwise kernel computing `f` (the fused kernels of the elementwise composites). */
function mapKernel<K extends ElementwiseComposite>(op: K): Kernel<CpuTensor, K> {
  const f = COMPOSITE_SCALAR[op];
  return ({ inputs: [a], out }) => {
    map1(out!, a, f);
    return out!;
  };
}

/**
 * Unary and binary elementwise kernels keyed by op, and the fused kernels of the elementwise composites
 * (relu, sigmoid: one pass instead of their lowerings).
 */
export const elementwiseKernels = defineKernels<CpuTensor>()({
  ...opTable(UNARY_OPS, unary),
  ...opTable(BINARY_OPS, binary),
  relu: mapKernel('relu'),
  sigmoid: mapKernel('sigmoid'),
});
