// Batched matrix product with optional transposed operands and broadcast batch axes. Transposition is a
// swap of strides, never a copy. Rows accumulate in double precision.
import type { Kernel, OpAttrs, OpName } from '@wf/core';
import { broadcastView, type CpuTensor, forEachOffset, stridedView } from '../nd.js';

/** out[..., i, j] = sum_k A[..., i, k] B[..., k, j] with A = a or aᵀ, B = b or bᵀ. */
export const matmul: Kernel<CpuTensor, 'matmul'> = ({ inputs: [a, b], out, attrs }) => {
  const { transA, transB } = attrs as OpAttrs<'matmul'>;
  const o = out!;
  const r = o.shape.length;
  const m = o.shape[r - 2];
  const n = o.shape[r - 1];
  const ra = a.shape.length;
  const rb = b.shape.length;
  const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  // strides of A[i, k] and B[k, j]
  const [sai, sak] = transA ? [a.stride[ra - 1], a.stride[ra - 2]] : [a.stride[ra - 2], a.stride[ra - 1]];
  const [sbk, sbj] = transB ? [b.stride[rb - 1], b.stride[rb - 2]] : [b.stride[rb - 2], b.stride[rb - 1]];
  const batch = o.shape.slice(0, -2);
  const aBatch = broadcastView(stridedView(a, a.shape.slice(0, -2), a.stride.slice(0, -2), a.offset), batch);
  const bBatch = broadcastView(stridedView(b, b.shape.slice(0, -2), b.stride.slice(0, -2), b.offset), batch);
  const oBatch = stridedView(o, batch, o.stride.slice(0, -2), o.offset);
  const [soi, soj] = [o.stride[r - 2], o.stride[r - 1]];
  const ad = a.data;
  const bd = b.data;
  const od = o.data;
  const acc = new Float64Array(n);
  forEachOffset(batch, [oBatch, aBatch, bBatch], (base) => {
    const [ob, ab, bb] = [base[0], base[1], base[2]];
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      const ai = ab + i * sai;
      for (let kk = 0; kk < k; kk++) {
        const aik = ad[ai + kk * sak];
        const bk = bb + kk * sbk;
        for (let j = 0; j < n; j++) acc[j] += aik * bd[bk + j * sbj];
      }
      const oi = ob + i * soi;
      for (let j = 0; j < n; j++) od[oi + j * soj] = acc[j];
    }
  });
  return o;
};

/** Matrix kernels keyed by op. */
export const matmulKernels: Partial<Record<OpName, Kernel<CpuTensor>>> = {
  matmul: matmul as Kernel<CpuTensor>,
};
