// Batched matrix product with optional transposed operands and broadcast batch axes. Transposition is a
// swap of strides, never a copy. Rows accumulate in double precision.
import { defineKernels, type Kernel } from '@wf/core';
import { broadcastView, type CpuTensor, forEachOffset, stridedView } from '../nd.js';

/** Strides and extents of one matrix product C[m,n] = A[m,k] B[k,n] inside flat arrays. */
interface Gemm {
  m: number;
  n: number;
  k: number;
  sai: number;
  sak: number;
  sbk: number;
  sbj: number;
  soi: number;
  soj: number;
}

/** sum_k x[xi + k] y[yi + k] with four partial sums (unit strides). */
export function dotUnit(x: Float32Array, xi: number, y: Float32Array, yi: number, k: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let kk = 0;
  for (; kk + 3 < k; kk += 4) {
    s0 += x[xi + kk] * y[yi + kk];
    s1 += x[xi + kk + 1] * y[yi + kk + 1];
    s2 += x[xi + kk + 2] * y[yi + kk + 2];
    s3 += x[xi + kk + 3] * y[yi + kk + 3];
  }
  for (; kk < k; kk++) s0 += x[xi + kk] * y[yi + kk];
  return s0 + s1 + (s2 + s3);
}

/** sum_k x[xi + k sx] y[yi + k sy]. */
function dotStrided(
  x: Float32Array,
  xi: number,
  sx: number,
  y: Float32Array,
  yi: number,
  sy: number,
  k: number,
): number {
  let s = 0;
  for (let kk = 0; kk < k; kk++) s += x[xi + kk * sx] * y[yi + kk * sy];
  return s;
}

/** Dot-product order (i, j, k): best when both operands are contiguous along k (e.g. x @ wᵀ). */
function gemmDot(
  g: Gemm,
  ad: Float32Array,
  a0: number,
  bd: Float32Array,
  b0: number,
  od: Float32Array,
  o0: number,
): void {
  const { m, n, k, sai, sak, sbk, sbj, soi, soj } = g;
  for (let i = 0; i < m; i++) {
    const ai = a0 + i * sai;
    for (let j = 0; j < n; j++) {
      const bj = b0 + j * sbj;
      od[o0 + i * soi + j * soj] =
        sak === 1 && sbk === 1 ? dotUnit(ad, ai, bd, bj, k) : dotStrided(ad, ai, sak, bd, bj, sbk, k);
    }
  }
}

/** Row-update order (i, k, j): best when B is contiguous along j (e.g. x @ w). */
function gemmAxpy(
  g: Gemm,
  ad: Float32Array,
  a0: number,
  bd: Float32Array,
  b0: number,
  od: Float32Array,
  o0: number,
  acc: Float64Array,
): void {
  const { m, n, k, sai, sak, sbk, sbj, soi, soj } = g;
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    const ai = a0 + i * sai;
    for (let kk = 0; kk < k; kk++) {
      const aik = ad[ai + kk * sak];
      const bk = b0 + kk * sbk;
      for (let j = 0; j < n; j++) acc[j] += aik * bd[bk + j * sbj];
    }
    const oi = o0 + i * soi;
    for (let j = 0; j < n; j++) od[oi + j * soj] = acc[j];
  }
}

/**
 * out[..., i, j] = sum_k A[..., i, k] B[..., k, j] with A = a or aᵀ, B = b or bᵀ; sums in double precision.
 * The loop order follows B's layout so the inner loop walks memory contiguously.
 */
export const matmul: Kernel<CpuTensor, 'matmul'> = ({ inputs: [a, b], out, attrs }) => {
  const { transA, transB } = attrs;
  const o = out!;
  const r = o.shape.length;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [sai, sak] = transA ? [a.stride[ra - 1], a.stride[ra - 2]] : [a.stride[ra - 2], a.stride[ra - 1]];
  const [sbk, sbj] = transB ? [b.stride[rb - 1], b.stride[rb - 2]] : [b.stride[rb - 2], b.stride[rb - 1]];
  const g: Gemm = {
    m: o.shape[r - 2],
    n: o.shape[r - 1],
    k: transA ? a.shape[ra - 2] : a.shape[ra - 1],
    sai,
    sak,
    sbk,
    sbj,
    soi: o.stride[r - 2],
    soj: o.stride[r - 1],
  };
  const batch = o.shape.slice(0, -2);
  const aBatch = broadcastView(stridedView(a, a.shape.slice(0, -2), a.stride.slice(0, -2), a.offset), batch);
  const bBatch = broadcastView(stridedView(b, b.shape.slice(0, -2), b.stride.slice(0, -2), b.offset), batch);
  const oBatch = stridedView(o, batch, o.stride.slice(0, -2), o.offset);
  const ad = a.data as Float32Array;
  const bd = b.data as Float32Array;
  const od = o.data as Float32Array;
  const dot = sbk === 1 || sbj !== 1;
  const acc = new Float64Array(g.n);
  forEachOffset(batch, [oBatch, aBatch, bBatch], (base) => {
    if (dot) gemmDot(g, ad, base[1], bd, base[2], od, base[0]);
    else gemmAxpy(g, ad, base[1], bd, base[2], od, base[0], acc);
  });
  return o;
};

/** Matrix kernels keyed by op. */
export const matmulKernels = defineKernels<CpuTensor>()({ matmul });
