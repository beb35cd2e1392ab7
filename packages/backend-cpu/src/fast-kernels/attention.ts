// Fused multi-head softmax attention for the fast path: query rows are processed in blocks, so the
// N x N score matrix never exists in full (memory O(block · N) instead of O(N²)); each block is two
// matrix products on the engine with a softmax in between. The arithmetic is the composite's: scores
// q kᵀ, softmax of scores · scale, times v.
import type { Kernel } from '@wf/core';
import type { CpuTensor } from '../nd.js';
import { fastExp } from './fast-math.js';
import type { MatmulEngine } from './matmul-engine.js';

/** Scratch memory for kernels: a Float32Array of at least `length` floats (reused between calls). */
export type ScratchProvider = (length: number) => Float32Array;

/** Query rows per block. */
const BLOCK = 128;

/** Builds the fused attention kernel (used for `attention` and `attention_mlp`). */
export function attentionKernel(
  engine: MatmulEngine,
  scratch: ScratchProvider,
): Kernel<CpuTensor, 'attention' | 'attention_mlp'> {
  return (args) => {
    const [q, k, v] = args.inputs;
    const o = args.out!;
    const { heads, scale: given } = args.attrs;
    const [b, nq, d] = q.shape;
    const nk = k.shape[1];
    const dv = v.shape[2];
    const dh = d / heads;
    const dvh = dv / heads;
    const scale = given ?? dh ** -0.5;
    const rows = Math.min(BLOCK, nq);
    const s = scratch(rows * nk);
    const qd = q.data as Float32Array;
    const kd = k.data as Float32Array;
    const vd = v.data as Float32Array;
    const od = o.data as Float32Array;
    for (let bi = 0; bi < b; bi++)
      for (let h = 0; h < heads; h++)
        for (let r0 = 0; r0 < nq; r0 += rows) {
          const rb = Math.min(rows, nq - r0);
          // scores[rb, nk] = q[r0:r0+rb, head] @ k[:, head]ᵀ
          const [qb, qn, qc] = q.stride;
          const [kb, kn, kc] = k.stride;
          engine.matmul(
            {
              data: qd,
              offset: q.offset + bi * qb + r0 * qn + h * dh * qc,
              rows: rb,
              cols: dh,
              rowStride: qn,
              colStride: qc,
            },
            {
              data: kd,
              offset: k.offset + bi * kb + h * dh * kc,
              rows: dh,
              cols: nk,
              rowStride: kc,
              colStride: kn,
            },
            { data: s, offset: 0, rows: rb, cols: nk, rowStride: nk, colStride: 1 },
          );
          for (let i = 0; i < rb; i++) {
            const row = i * nk;
            let mx = Number.NEGATIVE_INFINITY;
            for (let j = 0; j < nk; j++) if (s[row + j] > mx) mx = s[row + j];
            let total = 0;
            for (let j = 0; j < nk; j++) {
              const e = fastExp((s[row + j] - mx) * scale);
              s[row + j] = e;
              total += e;
            }
            const inv = 1 / total;
            for (let j = 0; j < nk; j++) s[row + j] *= inv;
          }
          // out[r0:r0+rb, head] = probabilities @ v[:, head]
          const [vb, vn, vc] = v.stride;
          const [ob, on, oc] = o.stride;
          engine.matmul(
            { data: s, offset: 0, rows: rb, cols: nk, rowStride: nk, colStride: 1 },
            {
              data: vd,
              offset: v.offset + bi * vb + h * dvh * vc,
              rows: nk,
              cols: dvh,
              rowStride: vn,
              colStride: vc,
            },
            {
              data: od,
              offset: o.offset + bi * ob + r0 * on + h * dvh * oc,
              rows: rb,
              cols: dvh,
              rowStride: on,
              colStride: oc,
            },
          );
        }
    return o;
  };
}
