// The fused dyn_weight kernel (DynLinear's normalized dynamic weight, SPEC section 3 steps 5-6): two
// passes over each [Cin, Cout] weight (column sums of squares, then w + g·inv[col]) instead of the five
// full passes of its lowering (mul, l2norm, add, div, add). Its backward pass, dyn_weight_grad, likewise in
// two passes (column sums of g² and gy·g, then s·gy·a[col] - g·c[col]) instead of about fifteen. Column sums
// run row by row, so every pass is contiguous.
import { defineKernels, type Kernel } from '@wf/core';
import { type CpuTensor, toTensorData } from '../nd.js';
import { count, isDense } from './layout.js';

/** Dense data and offset of `t` (a dense copy when `t` is a strided view). */
function dense(t: CpuTensor): { data: ArrayLike<number>; offset: number } {
  return isDense(t) ? { data: t.data, offset: t.offset } : { data: toTensorData(t).data, offset: 0 };
}

/** Where to write `o` row-major: its own storage when dense, else a buffer that `done()` writes back. */
function denseOut(o: CpuTensor): { data: CpuTensor['data']; offset: number; done(): void } {
  if (isDense(o)) return { data: o.data, offset: o.offset, done: () => {} };
  const data = new Float32Array(count(o));
  return { data, offset: 0, done: () => writeThrough(o, data) };
}

const dynWeight: Kernel<CpuTensor, 'dyn_weight'> = (args) => {
  const [g, w] = args.inputs;
  const o = args.out!;
  const { scale } = args.attrs;
  const [cin, cout] = w.shape;
  const { data: gd, offset: go } = dense(g);
  const { data: wd, offset: wo } = dense(w);
  const { data: od, offset: oo, done } = denseOut(o);
  const per = cin * cout;
  const batches = per === 0 ? 0 : count(g) / per;
  const ss = new Float64Array(cout);
  const inv = new Float32Array(cout);
  const absScale = Math.abs(scale);
  for (let b = 0; b < batches; b++) {
    const gb = go + b * per;
    const ob = oo + b * per;
    ss.fill(0);
    for (let i = 0; i < cin; i++) {
      const row = gb + i * cout;
      for (let j = 0; j < cout; j++) {
        const v = gd[row + j];
        ss[j] += v * v;
      }
    }
    for (let j = 0; j < cout; j++) inv[j] = scale / (absScale * Math.sqrt(ss[j]) + 1);
    for (let i = 0; i < cin; i++) {
      const row = i * cout;
      for (let j = 0; j < cout; j++) od[ob + row + j] = wd[wo + row + j] + gd[gb + row + j] * inv[j];
    }
  }
  done();
  return o;
};

/**
 * dg = s·gy / (n + 1) - g · s³·Σ(gy·g) / (n (n + 1)²) per output column, n = |s|·‖g‖ over Cin (the second
 * term 0 where n = 0), column sums in float64.
 */
const dynWeightGrad: Kernel<CpuTensor, 'dyn_weight_grad'> = (args) => {
  const [g, gy] = args.inputs;
  const o = args.out!;
  const { scale } = args.attrs;
  const cin = g.shape[g.shape.length - 2];
  const cout = g.shape[g.shape.length - 1];
  const { data: gd, offset: go } = dense(g);
  const { data: yd, offset: yo } = dense(gy);
  const { data: od, offset: oo, done } = denseOut(o);
  const per = cin * cout;
  const batches = per === 0 ? 0 : count(g) / per;
  const ss = new Float64Array(cout);
  const dot = new Float64Array(cout);
  const a = new Float32Array(cout);
  const c = new Float32Array(cout);
  const absScale = Math.abs(scale);
  const s3 = scale * scale * scale;
  for (let b = 0; b < batches; b++) {
    const gb = go + b * per;
    const yb = yo + b * per;
    const ob = oo + b * per;
    ss.fill(0);
    dot.fill(0);
    for (let i = 0; i < cin; i++) {
      const gr = gb + i * cout;
      const yr = yb + i * cout;
      for (let j = 0; j < cout; j++) {
        const v = gd[gr + j];
        ss[j] += v * v;
        dot[j] += yd[yr + j] * v;
      }
    }
    for (let j = 0; j < cout; j++) {
      const n = absScale * Math.sqrt(ss[j]);
      const n1 = n + 1;
      a[j] = scale / n1;
      c[j] = n > 0 ? (s3 * dot[j]) / (n * n1 * n1) : 0;
    }
    for (let i = 0; i < cin; i++) {
      const r = i * cout;
      for (let j = 0; j < cout; j++) od[ob + r + j] = yd[yb + r + j] * a[j] - gd[gb + r + j] * c[j];
    }
  }
  done();
  return o;
};

/** Writes the row-major values `src` into `o` through its strides. */
function writeThrough(o: CpuTensor, src: Float32Array): void {
  const idx = new Array<number>(o.shape.length).fill(0);
  for (let n = 0; n < src.length; n++) {
    let at = o.offset;
    for (let a = 0; a < idx.length; a++) at += idx[a] * o.stride[a];
    o.data[at] = src[n];
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a] < o.shape[a]) break;
      idx[a] = 0;
    }
  }
}

/** The fused DynLinear weight kernel and its backward pass, keyed by op. */
export const fastDynWeightKernels = defineKernels<CpuTensor>()({
  dyn_weight: dynWeight,
  dyn_weight_grad: dynWeightGrad,
});
