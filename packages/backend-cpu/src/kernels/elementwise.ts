// Elementwise kernels: unary math and broadcasting binary ops. Broadcasting is a stride-0 view of each
// operand, so no operand is ever materialized at the output size.
import type { Kernel } from '@wf/core';
import { defineKernels, erf, opsOf, opTable, sigmoid } from '@wf/core';
import ops from 'ndarray-ops';
import { broadcastView, type CpuTensor, forEachOffset } from '../nd.js';

type UnaryOp = 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'erf' | 'sigmoid' | 'relu' | 'sin' | 'cos';
type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'greater';

/** Scalar definition of each unary op. */
export const UNARY_FNS: Readonly<Record<UnaryOp, (x: number) => number>> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  erf,
  sigmoid,
  relu: (x) => Math.max(x, 0),
  sin: Math.sin,
  cos: Math.cos,
};

/** Applies `f` elementwise from `a` into `out` (same shape, any strides). */
export function map1(out: CpuTensor, a: CpuTensor, f: (x: number) => number): void {
  const od = out.data;
  const ad = a.data;
  forEachOffset(out.shape, [out, a], (o) => {
    od[o[0]] = f(ad[o[1]]);
  });
}

function unary(op: UnaryOp): Kernel<CpuTensor, UnaryOp> {
  const f = UNARY_FNS[op];
  return ({ inputs: [a], out }) => {
    map1(out!, a, f);
    return out!;
  };
}

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

/** Unary and binary elementwise kernels keyed by op. */
export const elementwiseKernels = defineKernels<CpuTensor>()({
  ...opTable(opsOf(UNARY_FNS), unary),
  ...opTable(opsOf(NDARRAY_BINARY), binary),
});
