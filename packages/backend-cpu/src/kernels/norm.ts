// Row-wise normalizations: layer norm over the last axis (biased variance, optional affine) and softmax
// along any axis (max-subtracted). Statistics are computed in double precision.
import type { Kernel } from '@wf/core';
import { defineKernels, normAxis } from '@wf/core';
import { type CpuTensor, forEachOffset, stridedView } from '../nd.js';

/** Calls `fn(inOffset, outOffset)` for each row along `axis` of `x`/`y` (same shape). */
function forEachRow(x: CpuTensor, y: CpuTensor, axis: number, fn: (xo: number, yo: number) => void): void {
  const outer = x.shape.filter((_, i) => i !== axis);
  const xs = x.stride.filter((_, i) => i !== axis);
  const ys = y.stride.filter((_, i) => i !== axis);
  forEachOffset(outer, [stridedView(x, outer, xs, x.offset), stridedView(y, outer, ys, y.offset)], (o) =>
    fn(o[0], o[1]),
  );
}

/** y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis. */
export const layerNorm: Kernel<CpuTensor, 'layer_norm'> = ({ inputs: [x, weight, bias], out, attrs }) => {
  const { eps } = attrs;
  const y = out!;
  const ax = x.shape.length - 1;
  const d = x.shape[ax];
  const [sx, sy] = [x.stride[ax], y.stride[ax]];
  forEachRow(x, y, ax, (xo, yo) => {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x.data[xo + i * sx];
    mean /= d;
    let vari = 0;
    for (let i = 0; i < d; i++) {
      const t = x.data[xo + i * sx] - mean;
      vari += t * t;
    }
    const inv = 1 / Math.sqrt(vari / d + eps);
    for (let i = 0; i < d; i++) {
      let v = (x.data[xo + i * sx] - mean) * inv;
      if (weight) v *= weight.data[weight.offset + i * weight.stride[0]];
      if (bias) v += bias.data[bias.offset + i * bias.stride[0]];
      y.data[yo + i * sy] = v;
    }
  });
  return y;
};

/** y = exp(x - max) / sum(exp(x - max)) along `axis`. */
export const softmax: Kernel<CpuTensor, 'softmax'> = ({ inputs: [x], out, attrs }) => {
  const y = out!;
  const ax = normAxis('softmax', attrs.axis, x.shape.length);
  const d = x.shape[ax];
  const [sx, sy] = [x.stride[ax], y.stride[ax]];
  const e = new Float64Array(d);
  forEachRow(x, y, ax, (xo, yo) => {
    let mx = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < d; i++) mx = Math.max(mx, x.data[xo + i * sx]);
    let total = 0;
    for (let i = 0; i < d; i++) {
      e[i] = Math.exp(x.data[xo + i * sx] - mx);
      total += e[i];
    }
    for (let i = 0; i < d; i++) y.data[yo + i * sy] = e[i] / total;
  });
  return y;
};

/** Normalization kernels keyed by op. */
export const normKernels = defineKernels<CpuTensor>()({ layer_norm: layerNorm, softmax });
