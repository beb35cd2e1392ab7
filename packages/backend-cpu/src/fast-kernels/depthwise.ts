// Fast depthwise 3x3 convolution (stride 1, zero padding 1) on dense NCHW tensors: the static and dynamic
// (per-sample kernel, groups = B·D) depthwise convs of WeightFormer. Interior pixels run without bounds
// checks; the border uses the general formula.
import type { Kernel } from '@wf/core';
import type { CpuTensor } from '../nd.js';
import { isDense } from './layout.js';

/** True when the conv is a dense depthwise 3x3, stride 1, padding 1 (one input channel per group). */
export function isDepthwise3x3(
  x: CpuTensor,
  w: CpuTensor,
  attrs: { stride: number[]; padding: number[]; groups: number },
): boolean {
  return (
    attrs.groups === x.shape[1] &&
    w.shape[0] === x.shape[1] &&
    w.shape[1] === 1 &&
    w.shape[2] === 3 &&
    w.shape[3] === 3 &&
    attrs.stride[0] === 1 &&
    attrs.stride[1] === 1 &&
    attrs.padding[0] === 1 &&
    attrs.padding[1] === 1 &&
    isDense(x) &&
    isDense(w)
  );
}

/** y[n, c] = x[n, c] ⋆ w[c] (3x3, zero padding 1) + bias[c]. */
export const depthwise3x3: Kernel<CpuTensor, 'conv2d'> = ({ inputs: [x, w, bias], out }) => {
  const y = out!;
  const [n, c, h, wd] = x.shape;
  const xd = x.data;
  const kd = w.data;
  const yd = y.data;
  const plane = h * wd;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xo = x.offset + (b * c + ch) * plane;
      const yo = y.offset + (b * c + ch) * plane;
      const ko = w.offset + ch * 9;
      const bv = bias ? bias.data[bias.offset + ch * bias.stride[0]] : 0;
      const [k0, k1, k2, k3, k4, k5, k6, k7, k8] = [
        kd[ko],
        kd[ko + 1],
        kd[ko + 2],
        kd[ko + 3],
        kd[ko + 4],
        kd[ko + 5],
        kd[ko + 6],
        kd[ko + 7],
        kd[ko + 8],
      ];
      for (let i = 0; i < h; i++) {
        const interiorRow = i > 0 && i < h - 1;
        for (let j = 0; j < wd; j++) {
          let acc = bv;
          if (interiorRow && j > 0 && j < wd - 1) {
            const p = xo + i * wd + j;
            acc +=
              k0 * xd[p - wd - 1] +
              k1 * xd[p - wd] +
              k2 * xd[p - wd + 1] +
              k3 * xd[p - 1] +
              k4 * xd[p] +
              k5 * xd[p + 1] +
              k6 * xd[p + wd - 1] +
              k7 * xd[p + wd] +
              k8 * xd[p + wd + 1];
          } else {
            for (let u = 0; u < 3; u++) {
              const r = i + u - 1;
              if (r < 0 || r >= h) continue;
              for (let v = 0; v < 3; v++) {
                const q = j + v - 1;
                if (q < 0 || q >= wd) continue;
                acc += kd[ko + u * 3 + v] * xd[xo + r * wd + q];
              }
            }
          }
          yd[yo + i * wd + j] = acc;
        }
      }
    }
  }
  return y;
};

/**
 * The weight gradient of a depthwise convolution (the `depthwise_weight_grad` composite) in one pass instead
 * of its lowering (a strided copy per tap, a concatenation and a batched product): for every channel and tap
 * (u, v), dw[c, 0, u, v] = Σ over the batch and output pixels of g[b, c, i, j] · x[b, c, i·sh + u - ph,
 * j·sw + v - pw] (zero outside the input), accumulated in float64. Any strides.
 */
export const depthwiseWeightGrad: Kernel<CpuTensor, 'depthwise_weight_grad'> = ({
  inputs: [x, g],
  attrs: { kernel, stride, padding },
  out,
}) => {
  const o = out!;
  const [bsz, c, h, w] = x.shape;
  const [, , oh, ow] = g.shape;
  const [kh, kw] = kernel;
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  const [xb, xc, xh, xw] = x.stride;
  const [gb, gc, gh, gw] = g.stride;
  const xd = x.data;
  const gd = g.data;
  const od = o.data;
  // the output rows i (and columns j) whose window row i·sh + u - ph (column) lies inside the input
  const lo = (k: number, p: number, s: number) => Math.max(0, Math.ceil((p - k) / s));
  const hi = (k: number, p: number, s: number, n: number, outN: number) =>
    Math.min(outN, Math.floor((n - 1 + p - k) / s) + 1);
  const acc = new Float64Array(kh * kw);
  const xj = sw * xw; // input step per output column
  const unitRows = gw === 1 && xj === 1; // stride 1 over contiguous rows: the common case
  for (let ch = 0; ch < c; ch++) {
    acc.fill(0);
    for (let b = 0; b < bsz; b++) {
      const x0 = x.offset + b * xb + ch * xc;
      const g0 = g.offset + b * gb + ch * gc;
      for (let u = 0; u < kh; u++) {
        const i0 = lo(u, ph, sh);
        const i1 = hi(u, ph, sh, h, oh);
        for (let v = 0; v < kw; v++) {
          const j0 = lo(v, pw, sw);
          const j1 = hi(v, pw, sw, w, ow);
          let s = 0;
          for (let i = i0; i < i1; i++) {
            const xr = x0 + (i * sh + u - ph) * xh + (v - pw) * xw;
            const gr = g0 + i * gh;
            if (unitRows) for (let j = j0; j < j1; j++) s += gd[gr + j] * xd[xr + j];
            else for (let j = j0; j < j1; j++) s += gd[gr + j * gw] * xd[xr + j * xj];
          }
          acc[u * kw + v] += s;
        }
      }
    }
    const [os0, , os2, os3] = o.stride;
    for (let u = 0; u < kh; u++)
      for (let v = 0; v < kw; v++) od[o.offset + ch * os0 + u * os2 + v * os3] = acc[u * kw + v];
  }
  return o;
};
