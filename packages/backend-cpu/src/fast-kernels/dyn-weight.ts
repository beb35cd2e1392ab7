// The fused dyn_weight kernel (DynLinear's normalized dynamic weight, SPEC section 3 steps 5-6): two
// passes over each [Cin, Cout] weight (column sums of squares, then w + g·inv[col]) instead of the five
// full passes of its lowering (mul, l2norm, add, div, add). Column sums run row by row, so every pass is
// contiguous.
import { defineKernels, type Kernel } from '@wf/core';
import { type CpuTensor, toTensorData } from '../nd.js';
import { count, isDense } from './layout.js';

/** Dense data and offset of `t` (a dense copy when `t` is a strided view). */
function dense(t: CpuTensor): { data: ArrayLike<number>; offset: number } {
  return isDense(t) ? { data: t.data, offset: t.offset } : { data: toTensorData(t).data, offset: 0 };
}

const dynWeight: Kernel<CpuTensor, 'dyn_weight'> = (args) => {
  const [g, w] = args.inputs;
  const o = args.out!;
  const { scale } = args.attrs;
  const [cin, cout] = w.shape;
  const { data: gd, offset: go } = dense(g);
  const { data: wd, offset: wo } = dense(w);
  const outIsDense = isDense(o);
  const od = outIsDense ? o.data : new Float32Array(count(o));
  const oo = outIsDense ? o.offset : 0;
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
  if (!outIsDense) {
    const src = od as Float32Array;
    let k = 0;
    // write back in row-major order through the output's strides
    const idx = new Array<number>(o.shape.length).fill(0);
    for (let n = 0; n < src.length; n++) {
      let at = o.offset;
      for (let a = 0; a < idx.length; a++) at += idx[a] * o.stride[a];
      o.data[at] = src[k++];
      for (let a = idx.length - 1; a >= 0; a--) {
        if (++idx[a] < o.shape[a]) break;
        idx[a] = 0;
      }
    }
  }
  return o;
};

/** The fused DynLinear weight kernel keyed by op. */
export const fastDynWeightKernels = defineKernels<CpuTensor>()({ dyn_weight: dynWeight });
