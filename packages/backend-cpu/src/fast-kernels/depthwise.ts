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
