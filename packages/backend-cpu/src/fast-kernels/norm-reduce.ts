// Fast row kernels for dense tensors: layer norm and softmax over the last axis, and reductions over one
// run of adjacent axes (viewed as [outer, reduced, inner]). Other layouts defer to the plain kernels.
import { defineKernels, type Kernel, normAxes, normAxis, opTable, REDUCE_OPS } from '@wf/core';
import { normKernels } from '../kernels/norm.js';
import { type ReduceKernelOp, reduceKernel } from '../kernels/reduce.js';
import { type CpuTensor, forEachOffset, stridedView } from '../nd.js';
import { fastExp } from './fast-math.js';
import { count, isDense } from './layout.js';

/** Mean of the `d` values of a row at `xo`. */
function rowMean(xd: ArrayLike<number>, xo: number, d: number): number {
  let mean = 0;
  for (let i = 0; i < d; i++) mean += xd[xo + i];
  return mean / d;
}

/** 1/√(var + eps) of the row at `xo` with mean `mean` (the population variance, as layer norm uses). */
function rowInvStd(xd: ArrayLike<number>, xo: number, d: number, mean: number, eps: number): number {
  let v = 0;
  for (let i = 0; i < d; i++) {
    const t = xd[xo + i] - mean;
    v += t * t;
  }
  return 1 / Math.sqrt(v / d + eps);
}

const layerNorm: Kernel<CpuTensor, 'layer_norm'> = (args) => {
  const [x, w, b] = args.inputs;
  const y = args.out!;
  if (!isDense(x) || !isDense(y) || (w && !isDense(w)) || (b && !isDense(b)))
    return normKernels.layer_norm(args);
  const { eps } = args.attrs;
  const d = x.shape[x.shape.length - 1];
  const rows = count(x) / d;
  const xd = x.data;
  const yd = y.data;
  for (let r = 0; r < rows; r++) {
    const xo = x.offset + r * d;
    const yo = y.offset + r * d;
    const mean = rowMean(xd, xo, d);
    const inv = rowInvStd(xd, xo, d, mean, eps);
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

/** One dense row of {@link layerNormGrad}: x, g and the output contiguous, w contiguous (or absent). */
function layerNormGradRow(
  xd: Float32Array,
  gd: Float32Array,
  wd: Float32Array | undefined,
  od: Float32Array,
  xo: number,
  go: number,
  wo: number,
  oo: number,
  d: number,
  eps: number,
): void {
  const mean = rowMean(xd, xo, d);
  const rstd = rowInvStd(xd, xo, d, mean, eps);
  let m1 = 0;
  let m2 = 0;
  if (wd) {
    for (let i = 0; i < d; i++) {
      const gw = gd[go + i] * wd[wo + i];
      m1 += gw;
      m2 += gw * (xd[xo + i] - mean);
    }
  } else {
    for (let i = 0; i < d; i++) {
      const gw = gd[go + i];
      m1 += gw;
      m2 += gw * (xd[xo + i] - mean);
    }
  }
  m1 /= d;
  // mean(gw · x̂) · rstd, folded: x̂ · m2 = (x - mean) · rstd² · mean(gw · (x - mean))
  const k = (m2 / d) * rstd * rstd;
  if (wd)
    for (let i = 0; i < d; i++) od[oo + i] = rstd * (gd[go + i] * wd[wo + i] - m1 - (xd[xo + i] - mean) * k);
  else for (let i = 0; i < d; i++) od[oo + i] = rstd * (gd[go + i] - m1 - (xd[xo + i] - mean) * k);
}

/**
 * Layer norm's input gradient (the `layer_norm_grad` composite) in one kernel instead of about fifteen
 * lowered ops: per row its mean and rstd, then mean(gw) and mean(gw · x̂) with gw = g · w, then
 * dx = rstd · (gw - mean(gw) - x̂ · mean(gw · x̂)); float64 accumulators. Dense rows are read in place;
 * strided ones (a permuted input, a broadcast cotangent) are gathered into a row buffer first.
 */
const layerNormGrad: Kernel<CpuTensor, 'layer_norm_grad'> = (args) => {
  const [x, g, w] = args.inputs;
  const o = args.out!;
  const { eps } = args.attrs;
  const r = x.shape.length;
  const d = x.shape[r - 1];
  const [sx, sg, so] = [x.stride[r - 1], g.stride[r - 1], o.stride[r - 1]];
  const wd = w?.data as Float32Array | undefined;
  const [wo, sw] = w ? [w.offset, w.stride[0]] : [0, 0];
  const xd = x.data as Float32Array;
  const gd = g.data as Float32Array;
  const od = o.data as Float32Array;
  if (isDense(x) && isDense(g) && isDense(o) && (sw === 1 || d === 1)) {
    const n = count(x) / d;
    for (let row = 0; row < n; row++)
      layerNormGradRow(
        xd,
        gd,
        wd,
        od,
        x.offset + row * d,
        g.offset + row * d,
        wo,
        o.offset + row * d,
        d,
        eps,
      );
    return o;
  }
  // strided rows (a permuted input, a broadcast cotangent): gather each row, run the dense row, scatter
  const xs = new Float32Array(d);
  const gs = new Float32Array(d);
  const os = new Float32Array(d);
  let ws: Float32Array | undefined;
  if (w) {
    ws = new Float32Array(d);
    for (let i = 0; i < d; i++) ws[i] = wd![wo + i * sw];
  }
  const lead = x.shape.slice(0, -1);
  const rows = [o, x, g].map((t) => stridedView(t, lead, t.stride.slice(0, -1), t.offset));
  forEachOffset(lead, rows, (at) => {
    const [oo, xo, go] = [at[0], at[1], at[2]];
    for (let i = 0; i < d; i++) {
      xs[i] = xd[xo + i * sx];
      gs[i] = gd[go + i * sg];
    }
    layerNormGradRow(xs, gs, ws, os, 0, 0, 0, 0, d, eps);
    for (let i = 0; i < d; i++) od[oo + i * so] = os[i];
  });
  return o;
};

const softmax: Kernel<CpuTensor, 'softmax'> = (args) => {
  const [x] = args.inputs;
  const y = args.out!;
  const axis = normAxis('softmax', args.attrs.axis, x.shape.length);
  if (axis !== x.shape.length - 1 || !isDense(x) || !isDense(y)) return normKernels.softmax(args);
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
      const e = fastExp(xd[xo + i] - mx);
      yd[yo + i] = e;
      total += e;
    }
    const inv = 1 / total;
    for (let i = 0; i < d; i++) yd[yo + i] *= inv;
  }
  return y;
};

/**
 * `x` without the broadcast (stride 0) axes among `axes`, each viewed as size 1, and what that changes: a
 * sum over a broadcast axis of extent n is n times one value, an L2 norm √n times; undefined when `x`
 * broadcasts along none of `axes` (a cotangent spread by a mean or an expand often does).
 */
export function withoutBroadcastAxes(
  x: CpuTensor,
  axes: readonly number[],
): { view: CpuTensor; times: number } | undefined {
  let times = 1;
  const shape = [...x.shape];
  for (const a of axes)
    if (x.stride[a] === 0 && shape[a] > 1) {
      times *= shape[a];
      shape[a] = 1;
    }
  return times === 1 ? undefined : { view: stridedView(x, shape, x.stride, x.offset), times };
}

/** Scales `y` (dense) in place by `f`. */
function scaleInPlace(y: CpuTensor, f: number): void {
  const yd = y.data;
  const n = count(y);
  for (let i = 0; i < n; i++) yd[y.offset + i] *= f;
}

/**
 * A reduction of a broadcast view by `kernel` over its other axes, then scaled (see
 * {@link withoutBroadcastAxes}); undefined when `x` broadcasts along none of the reduced axes.
 */
export function reduceBroadcast<K extends ReduceKernelOp>(
  op: K,
  args: Parameters<Kernel<CpuTensor, K>>[0],
  kernel: Kernel<CpuTensor, K>,
): CpuTensor | undefined {
  const [x] = args.inputs;
  const y = args.out!;
  const dropped = withoutBroadcastAxes(x, normAxes(op, args.attrs.axes, x.shape.length));
  if (!dropped || !isDense(y)) return undefined;
  kernel({ ...args, inputs: [dropped.view] } as typeof args);
  const f = op === 'sum' ? dropped.times : op === 'l2norm' ? Math.sqrt(dropped.times) : 1;
  if (f !== 1) scaleInPlace(y, f);
  return y;
}

function reduce(op: ReduceKernelOp): Kernel<CpuTensor, ReduceKernelOp> {
  const plain = reduceKernel(op);
  const kernel: Kernel<CpuTensor, ReduceKernelOp> = (args) => {
    const [x] = args.inputs;
    const y = args.out!;
    const spread = reduceBroadcast(op, args, kernel);
    if (spread) return spread;
    // size-1 axes change nothing: [1, C, H, W] over (0, 2, 3) is a reduction over the adjacent (2, 3)
    const all = normAxes(op, args.attrs.axes, x.shape.length);
    const sized = all.filter((a) => x.shape[a] !== 1);
    const axes = sized.length > 0 ? sized : all;
    const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
    if (!isDense(x) || !isDense(y)) return plain(args);
    if (!adjacent) {
      // e.g. a bias gradient over [N, C, H, W] axes (0, 2, 3): reduce one run of adjacent axes at a time
      reduceInGroups(op, x, y, axes);
      return y;
    }
    const outer = x.shape.slice(0, axes[0]).reduce((p, d) => p * d, 1);
    const red = axes.reduce((p, a) => p * x.shape[a], 1);
    const inner = x.shape.slice(axes[axes.length - 1] + 1).reduce((p, d) => p * d, 1);
    const xd = x.data;
    const yd = y.data;
    if (inner === 1 && (op === 'sum' || op === 'mean') && xd instanceof Float32Array) {
      sumRows(xd, x.offset, outer, red, yd, y.offset, op === 'mean' ? red : 1);
      return y;
    }
    if (inner === 1) {
      // reduction over the innermost axes: one contiguous row per output element
      for (let o = 0; o < outer; o++) {
        const base = x.offset + o * red;
        let v = op === 'reduce_max' ? Number.NEGATIVE_INFINITY : 0;
        if (op === 'reduce_max') {
          for (let r = 0; r < red; r++) {
            const e = xd[base + r];
            if (e > v || Number.isNaN(e)) v = e;
          }
        } else if (op === 'l2norm') for (let r = 0; r < red; r++) v += xd[base + r] * xd[base + r];
        else for (let r = 0; r < red; r++) v += xd[base + r];
        yd[y.offset + o] = op === 'mean' ? v / red : op === 'l2norm' ? Math.sqrt(v) : v;
      }
      return y;
    }
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(op === 'reduce_max' ? Number.NEGATIVE_INFINITY : 0);
      let r = 0;
      if (op === 'sum' || op === 'mean') {
        // four rows per sweep over the accumulators (a quarter of their loads and stores), summed in float64
        for (; r + 4 <= red; r += 4) {
          const b0 = x.offset + (o * red + r) * inner;
          const b1 = b0 + inner;
          const b2 = b1 + inner;
          const b3 = b2 + inner;
          for (let i = 0; i < inner; i++) acc[i] += xd[b0 + i] + xd[b1 + i] + (xd[b2 + i] + xd[b3 + i]);
        }
      }
      for (; r < red; r++) {
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
  return kernel;
}

/**
 * `y[yo + o] = Σ_r x[xo + o·red + r] / divisor` for `outer` rows of `red` floats (sum and mean over the innermost
 * axes: bias gradients of convolutions, token sums), with four running sums (one chain of dependent adds
 * runs at a quarter of the adder's rate). Its own function over float32 views: inlined in the reduction
 * kernel shared by every reduce op and dtype, the same loop took 2.4 ns a float.
 */
function sumRows(
  xd: Float32Array,
  xo: number,
  outer: number,
  red: number,
  yd: CpuTensor['data'],
  yo: number,
  divisor: number,
): void {
  for (let o = 0; o < outer; o++) {
    const base = xo + o * red;
    let v0 = 0;
    let v1 = 0;
    let v2 = 0;
    let v3 = 0;
    let r = 0;
    for (; r + 4 <= red; r += 4) {
      v0 += xd[base + r];
      v1 += xd[base + r + 1];
      v2 += xd[base + r + 2];
      v3 += xd[base + r + 3];
    }
    for (; r < red; r++) v0 += xd[base + r];
    const v = v0 + v1 + (v2 + v3);
    yd[yo + o] = divisor === 1 ? v : v / divisor;
  }
}

/**
 * A dense reduction over non-adjacent `axes`, one run of adjacent axes at a time from the innermost,
 * through float64 intermediates (l2norm squares in the first pass and takes the root at the end).
 */
function reduceInGroups(op: ReduceKernelOp, x: CpuTensor, y: CpuTensor, axes: readonly number[]): void {
  const groups: number[][] = [];
  for (const a of axes) {
    const last = groups[groups.length - 1];
    if (last && a === last[last.length - 1] + 1) last.push(a);
    else groups.push([a]);
  }
  const max = op === 'reduce_max';
  let shape = [...x.shape];
  let cur: Float64Array | Float32Array | Int32Array = x.data;
  let off = x.offset;
  let first = true;
  let reduced = 1;
  for (let gi = groups.length - 1; gi >= 0; gi--) {
    const g = groups[gi];
    const outer = shape.slice(0, g[0]).reduce((p, d) => p * d, 1);
    const red = g.reduce((p, a) => p * shape[a], 1);
    const inner = shape.slice(g[g.length - 1] + 1).reduce((p, d) => p * d, 1);
    reduced *= red;
    const next = new Float64Array(outer * inner).fill(max ? Number.NEGATIVE_INFINITY : 0);
    const square = first && op === 'l2norm';
    for (let o = 0; o < outer; o++)
      for (let r = 0; r < red; r++) {
        const base = off + (o * red + r) * inner;
        const to = o * inner;
        if (max)
          for (let i = 0; i < inner; i++) {
            const v = cur[base + i];
            if (v > next[to + i] || Number.isNaN(v)) next[to + i] = v;
          }
        else if (square) for (let i = 0; i < inner; i++) next[to + i] += cur[base + i] * cur[base + i];
        else for (let i = 0; i < inner; i++) next[to + i] += cur[base + i];
      }
    shape = [...shape.slice(0, g[0]), 1, ...shape.slice(g[g.length - 1] + 1)];
    cur = next;
    off = 0;
    first = false;
  }
  const yd = y.data;
  for (let i = 0; i < cur.length; i++)
    yd[y.offset + i] = op === 'mean' ? cur[i] / reduced : op === 'l2norm' ? Math.sqrt(cur[i]) : cur[i];
}

/** Fast normalization and reduction kernels keyed by op. */
export const fastNormReduceKernels = defineKernels<CpuTensor>()({
  layer_norm: layerNorm,
  // layer norm's backward pass (w.r.t. its input) in one kernel instead of its lowering
  layer_norm_grad: layerNormGrad,
  softmax,
  ...opTable(REDUCE_OPS, reduce),
  // the mean composite in one pass (without this kernel it lowers to sum and mul)
  mean: reduce('mean'),
  // the l2norm composite in one pass (without this kernel it lowers to mul, sum and sqrt)
  l2norm: reduce('l2norm'),
});
