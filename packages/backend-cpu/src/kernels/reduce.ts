// Reductions over any set of axes (sum, mean, max, L2 norm), accumulating in double precision.
import type { Kernel, ReduceOp } from '@wf/core';
import { defineKernels, normAxes, opTable, REDUCE_OPS } from '@wf/core';
import { type CpuTensor, forEachOffset, reshapeView, stridedView } from '../nd.js';

/** A reduction as a fold: start value, step, and the final map (which also gets the element count). */
interface Fold {
  init: number;
  step: (acc: number, v: number) => number;
  finish: (acc: number, count: number) => number;
}

/** The reduction primitives and the reductions that are composites (mean, l2norm: fused kernels here). */
export type ReduceKernelOp = ReduceOp | 'mean' | 'l2norm';

const FOLDS: Readonly<Record<ReduceKernelOp, Fold>> = {
  sum: { init: 0, step: (a, v) => a + v, finish: (a) => a },
  mean: { init: 0, step: (a, v) => a + v, finish: (a, n) => a / n },
  reduce_max: {
    init: Number.NEGATIVE_INFINITY,
    step: (a, v) => (v > a || Number.isNaN(v) ? v : a),
    finish: (a) => a,
  },
  l2norm: { init: 0, step: (a, v) => a + v * v, finish: (a) => Math.sqrt(a) },
};

/** The kernel of a reduction (a primitive's, or a composite's fused kernel). */
export function reduceKernel(op: ReduceKernelOp): Kernel<CpuTensor, ReduceKernelOp> {
  const { init, step, finish } = FOLDS[op];
  return ({ inputs: [a], out, attrs }) => {
    const axes = normAxes(op, attrs.axes, a.shape.length);
    const kept = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const outer = stridedView(
      a,
      kept.map((i) => a.shape[i]),
      kept.map((i) => a.stride[i]),
      a.offset,
    );
    const innerShape = axes.map((i) => a.shape[i]);
    const innerStrides = axes.map((i) => a.stride[i]);
    const count = innerShape.reduce((n, d) => n * d, 1);
    const dst = reshapeView(out!, outer.shape);
    const ad = a.data;
    const od = dst.data;
    let cell = dst.offset;
    forEachOffset(outer.shape, [outer], (o) => {
      let acc = init;
      forEachOffset(innerShape, [stridedView(a, innerShape, innerStrides, o[0])], (p) => {
        acc = step(acc, ad[p[0]]);
      });
      od[cell++] = finish(acc, count);
    });
    return out!;
  };
}

/** Reduction kernels keyed by op, with the fused kernels of the mean and l2norm composites (one pass each). */
export const reduceKernels = defineKernels<CpuTensor>()({
  ...opTable(REDUCE_OPS, reduceKernel),
  mean: reduceKernel('mean'),
  l2norm: reduceKernel('l2norm'),
});
