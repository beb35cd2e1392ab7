// Fast row kernels for dense tensors: layer norm and softmax over the last axis, and reductions over one
// run of adjacent axes (viewed as [outer, reduced, inner]). Other layouts defer to the plain kernels.
import { type Kernel, normAxes, normAxis, type OpName } from '@wf/core';
import { normKernels } from '../kernels/norm.js';
import { reduceKernels } from '../kernels/reduce.js';
import type { CpuTensor } from '../nd.js';
import { count, isDense } from './layout.js';

const layerNorm: Kernel<CpuTensor> = (args) => {
  const [x, w, b] = args.inputs;
  const y = args.out!;
  if (!isDense(x) || !isDense(y) || (w && !isDense(w)) || (b && !isDense(b)))
    return normKernels.layer_norm!(args);
  const { eps } = args.attrs as { eps: number };
  const d = x.shape[x.shape.length - 1];
  const rows = count(x) / d;
  const xd = x.data;
  const yd = y.data;
  for (let r = 0; r < rows; r++) {
    const xo = x.offset + r * d;
    const yo = y.offset + r * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += xd[xo + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) {
      const t = xd[xo + i] - mean;
      v += t * t;
    }
    const inv = 1 / Math.sqrt(v / d + eps);
    if (w && b) {
      const wd = w.data;
      const bd = b.data;
      for (let i = 0; i < d; i++)
        yd[yo + i] = (xd[xo + i] - mean) * inv * wd[w.offset + i] + bd[b.offset + i];
    } else if (w) {
      for (let i = 0; i < d; i++) yd[yo + i] = (xd[xo + i] - mean) * inv * w.data[w.offset + i];
    } else for (let i = 0; i < d; i++) yd[yo + i] = (xd[xo + i] - mean) * inv;
  }
  return y;
};

const softmax: Kernel<CpuTensor> = (args) => {
  const [x] = args.inputs;
  const y = args.out!;
  const axis = normAxis('softmax', (args.attrs as { axis: number }).axis, x.shape.length);
  if (axis !== x.shape.length - 1 || !isDense(x) || !isDense(y)) return normKernels.softmax!(args);
  const d = x.shape[axis];
  const rows = count(x) / d;
  const xd = x.data;
  const yd = y.data;
  for (let r = 0; r < rows; r++) {
    const xo = x.offset + r * d;
    const yo = y.offset + r * d;
    let mx = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < d; i++) if (xd[xo + i] > mx) mx = xd[xo + i];
    let total = 0;
    for (let i = 0; i < d; i++) {
      const e = Math.exp(xd[xo + i] - mx);
      yd[yo + i] = e;
      total += e;
    }
    const inv = 1 / total;
    for (let i = 0; i < d; i++) yd[yo + i] *= inv;
  }
  return y;
};

type ReduceOp = 'sum' | 'mean' | 'reduce_max' | 'l2norm';

function reduce(op: ReduceOp): Kernel<CpuTensor> {
  const plain = reduceKernels[op]!;
  return (args) => {
    const [x] = args.inputs;
    const y = args.out!;
    const axes = normAxes(op, (args.attrs as { axes: number[] }).axes, x.shape.length);
    const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
    if (!adjacent || !isDense(x) || !isDense(y)) return plain(args);
    const outer = x.shape.slice(0, axes[0]).reduce((p, d) => p * d, 1);
    const red = axes.reduce((p, a) => p * x.shape[a], 1);
    const inner = x.shape.slice(axes[axes.length - 1] + 1).reduce((p, d) => p * d, 1);
    const xd = x.data;
    const yd = y.data;
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(op === 'reduce_max' ? Number.NEGATIVE_INFINITY : 0);
      for (let r = 0; r < red; r++) {
        const base = x.offset + (o * red + r) * inner;
        if (op === 'reduce_max') {
          for (let i = 0; i < inner; i++) {
            const v = xd[base + i];
            if (v > acc[i] || Number.isNaN(v)) acc[i] = v;
          }
        } else if (op === 'l2norm') for (let i = 0; i < inner; i++) acc[i] += xd[base + i] * xd[base + i];
        else for (let i = 0; i < inner; i++) acc[i] += xd[base + i];
      }
      const yo = y.offset + o * inner;
      for (let i = 0; i < inner; i++) {
        yd[yo + i] = op === 'mean' ? acc[i] / red : op === 'l2norm' ? Math.sqrt(acc[i]) : acc[i];
      }
    }
    return y;
  };
}

/** Fast normalization and reduction kernels keyed by op. */
export const fastNormReduceKernels: Partial<Record<OpName, Kernel<CpuTensor>>> = {
  layer_norm: layerNorm,
  softmax,
  sum: reduce('sum'),
  mean: reduce('mean'),
  reduce_max: reduce('reduce_max'),
  l2norm: reduce('l2norm'),
};
