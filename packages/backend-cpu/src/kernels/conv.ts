// Convolution and pooling on NCHW tensors: conv2d (stride, zero padding, groups: patch embedding,
// depthwise 3x3 and 1x1 channel mixing), average pooling and adaptive average pooling (SPEC section 4 bins).
import type { Kernel } from '@wf/core';
import { adaptiveBin, defineKernels } from '@wf/core';
import type { CpuTensor } from '../nd.js';

/** Element offset of x[n, c, h, w] in a strided 4-D tensor. */
function at4(t: CpuTensor, n: number, c: number, h: number, w: number): number {
  return t.offset + n * t.stride[0] + c * t.stride[1] + h * t.stride[2] + w * t.stride[3];
}

/** y[n, o, i, j] = bias[o] + sum over the group's channels and the kernel window of x * w. */
export const conv2d: Kernel<CpuTensor, 'conv2d'> = ({ inputs: [x, w, bias], out, attrs }) => {
  const { stride, padding, groups } = attrs;
  const y = out!;
  const [bsz, , h, wd] = x.shape;
  const [cout, cpg, kh, kw] = w.shape;
  const [, , oh, ow] = y.shape;
  const opg = cout / groups;
  const xd = x.data;
  const wdat = w.data;
  const yd = y.data;
  for (let n = 0; n < bsz; n++) {
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / opg);
      const b0 = bias ? bias.data[bias.offset + o * bias.stride[0]] : 0;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let acc = b0;
          for (let c = 0; c < cpg; c++) {
            const ci = g * cpg + c;
            for (let u = 0; u < kh; u++) {
              const hi = i * stride[0] - padding[0] + u;
              if (hi < 0 || hi >= h) continue;
              for (let v = 0; v < kw; v++) {
                const wi = j * stride[1] - padding[1] + v;
                if (wi < 0 || wi >= wd) continue;
                acc += xd[at4(x, n, ci, hi, wi)] * wdat[at4(w, o, c, u, v)];
              }
            }
          }
          yd[at4(y, n, o, i, j)] = acc;
        }
      }
    }
  }
  return y;
};

/** Mean of each kh x kw window (stride, no padding). */
export const avgPool2d: Kernel<CpuTensor, 'avg_pool2d'> = ({ inputs: [x], out, attrs }) => {
  const { kernel, stride } = attrs;
  const y = out!;
  const [bsz, c, oh, ow] = y.shape;
  for (let n = 0; n < bsz; n++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = 0;
          for (let u = 0; u < kernel[0]; u++)
            for (let v = 0; v < kernel[1]; v++)
              acc += x.data[at4(x, n, ch, i * stride[0] + u, j * stride[1] + v)];
          y.data[at4(y, n, ch, i, j)] = acc / (kernel[0] * kernel[1]);
        }
  return y;
};

/** Cell (i, j) averages rows [floor(iH/oh), ceil((i+1)H/oh)) and the same for columns. */
export const adaptiveAvgPool2d: Kernel<CpuTensor, 'adaptive_avg_pool2d'> = ({ inputs: [x], out }) => {
  const y = out!;
  const [bsz, c, h, w] = x.shape;
  const [, , oh, ow] = y.shape;
  for (let i = 0; i < oh; i++) {
    const [r0, r1] = adaptiveBin(i, h, oh);
    for (let j = 0; j < ow; j++) {
      const [c0, c1] = adaptiveBin(j, w, ow);
      const count = (r1 - r0) * (c1 - c0);
      for (let n = 0; n < bsz; n++)
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) acc += x.data[at4(x, n, ch, r, q)];
          y.data[at4(y, n, ch, i, j)] = acc / count;
        }
    }
  }
  return y;
};

/** Convolution and pooling kernels keyed by op. */
export const convKernels = defineKernels<CpuTensor>()({
  conv2d,
  avg_pool2d: avgPool2d,
  adaptive_avg_pool2d: adaptiveAvgPool2d,
});
