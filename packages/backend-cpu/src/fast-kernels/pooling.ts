// Fast average pooling on NCHW tensors of any strides, with the stride arithmetic hoisted out of the inner
// loops (the plain kernels compute a 4-D offset per element). A token grid [B, N, C] permuted to
// [B, C, H, W] is channels-last in memory: there the channels are the innermost loop (contiguous reads
// into one accumulator per channel) instead of a read 4·C bytes apart per element.
import { adaptiveBin, defineKernels, type Kernel } from '@wf/core';
import type { CpuTensor } from '../nd.js';

/** The [lo, hi) input rows (or columns) each output cell averages. */
export type Bins = readonly (readonly [number, number])[];

/** Window bins of an average pool: cell i covers [i·s, i·s + k). */
const windowBins = (out: number, k: number, s: number): Bins =>
  Array.from({ length: out }, (_, i) => [i * s, i * s + k] as const);

/** Adaptive pooling bins (SPEC section 4): cell i covers [floor(i n / out), ceil((i + 1) n / out)). */
const adaptiveBins = (out: number, n: number): Bins =>
  Array.from({ length: out }, (_, i) => adaptiveBin(i, n, out));

/** y[n, c, i, j] = mean of x[n, c, rows[i], cols[j]] for any strides of x and y. */
function poolBins(x: CpuTensor, y: CpuTensor, rows: Bins, cols: Bins): CpuTensor {
  const [bsz, c] = y.shape;
  const [xn, xc, xh, xw] = x.stride;
  const [yn, yc, yh, yw] = y.stride;
  const xd = x.data;
  const yd = y.data;
  const channelsLast = c > 1 && Math.abs(xc) < Math.abs(xw);
  const acc = new Float64Array(channelsLast ? c : 1);
  for (let n = 0; n < bsz; n++) {
    const xb = x.offset + n * xn;
    const yb = y.offset + n * yn;
    for (let i = 0; i < rows.length; i++) {
      const [r0, r1] = rows[i];
      for (let j = 0; j < cols.length; j++) {
        const [c0, c1] = cols[j];
        const inv = 1 / ((r1 - r0) * (c1 - c0));
        const yo = yb + i * yh + j * yw;
        if (channelsLast) {
          acc.fill(0);
          for (let r = r0; r < r1; r++)
            for (let q = c0; q < c1; q++) {
              const at = xb + r * xh + q * xw;
              for (let ch = 0; ch < c; ch++) acc[ch] += xd[at + ch * xc];
            }
          for (let ch = 0; ch < c; ch++) yd[yo + ch * yc] = acc[ch] * inv;
        } else {
          for (let ch = 0; ch < c; ch++) {
            const at = xb + ch * xc;
            let s = 0;
            for (let r = r0; r < r1; r++) {
              const ar = at + r * xh;
              for (let q = c0; q < c1; q++) s += xd[ar + q * xw];
            }
            yd[yo + ch * yc] = s * inv;
          }
        }
      }
    }
  }
  return y;
}

/** The row and column bins of an `avg_pool2d` application. */
export function avgPoolBins({ out, attrs }: Parameters<Kernel<CpuTensor, 'avg_pool2d'>>[0]): [Bins, Bins] {
  const [, , oh, ow] = out!.shape;
  return [windowBins(oh, attrs.kernel[0], attrs.stride[0]), windowBins(ow, attrs.kernel[1], attrs.stride[1])];
}

/** The row and column bins of an `adaptive_avg_pool2d` application. */
export function adaptivePoolBins({
  inputs: [x],
  out,
}: Parameters<Kernel<CpuTensor, 'adaptive_avg_pool2d'>>[0]): [Bins, Bins] {
  const [, , h, w] = x.shape;
  const [, , oh, ow] = out!.shape;
  return [adaptiveBins(oh, h), adaptiveBins(ow, w)];
}

/** Mean of each kh x kw window (stride, no padding), any input and output strides. */
export const fastAvgPool2d: Kernel<CpuTensor, 'avg_pool2d'> = (args) =>
  poolBins(args.inputs[0], args.out!, ...avgPoolBins(args));

/** Adaptive average pooling (SPEC section 4 bins, which may overlap), any strides. */
export const fastAdaptiveAvgPool2d: Kernel<CpuTensor, 'adaptive_avg_pool2d'> = (args) =>
  poolBins(args.inputs[0], args.out!, ...adaptivePoolBins(args));

/** The fast pooling kernels keyed by op. */
export const fastPoolingKernels = defineKernels<CpuTensor>()({
  avg_pool2d: fastAvgPool2d,
  adaptive_avg_pool2d: fastAdaptiveAvgPool2d,
});
