// The matrix-product engine behind the fast kernels: C = act(A @ B + bias) on strided matrix views.
// Two engines implement it: a portable JavaScript one (below) and the WebAssembly SIMD one with worker
// threads (fast/); the kernels in this folder only talk to this interface.
import { type Activation, erf } from '@wf/core';
import { dotUnit } from '../kernels/matmul.js';

/** A strided 2-D view into a Float32Array: element (r, c) is `data[offset + r*rowStride + c*colStride]`. */
export interface MatView {
  data: Float32Array;
  offset: number;
  rows: number;
  cols: number;
  rowStride: number;
  colStride: number;
}

/** Options of one product. */
export interface MatmulOptions {
  /** Per-column bias (length C.cols) added before the activation. */
  bias?: { data: Float32Array; offset: number };
  /** Activation applied to the result. */
  activation?: Activation;
  /**
   * B is a graph constant or parameter (or a view of one), whose contents change only with `bVersion`:
   * the engine may cache a packed copy. The cache key is the storage plus B's exact view (offset, rows,
   * cols, strides), so one constant read with several layouts (a `linear` forward and the backward's
   * `matmul`, `transB`, permuted or sliced views) gets one packed copy per layout; a copy packed at
   * another `bVersion` is packed again.
   */
  bConstant?: boolean;
  /** The version of B's contents (a parameter's version; default 0), see `bConstant`. */
  bVersion?: number;
  /**
   * The caller does not need C before it calls the engine's `settle` (and keeps A, B and C untouched until
   * then): an engine with worker threads may run the product in the background. Engines without them, and
   * products they cannot run that way, run at once.
   */
  deferred?: boolean;
}

/** Computes C = act(A @ B + bias); A is rows x k, B is k x cols, C is rows x cols (C must be row-major). */
export interface MatmulEngine {
  /** Short description, e.g. `wasm-simd x2 threads`. */
  readonly name: string;
  matmul(a: MatView, b: MatView, c: MatView, opts?: MatmulOptions): void;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Scalar activation functions matching the IR's definitions. */
export function activate(v: number, activation: Activation | undefined): number {
  if (activation === 'gelu') return 0.5 * v * (1 + erf(v * Math.SQRT1_2));
  if (activation === 'gelu_tanh')
    return 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
  return v;
}

/**
 * The portable engine, the reference for the WASM one: dot products with four partial sums when both
 * operands are contiguous along k, row updates when B's rows are contiguous, a strided loop otherwise.
 */
export const jsMatmulEngine: MatmulEngine = {
  name: 'js',
  matmul(a, b, c, opts = {}) {
    const k = a.cols;
    const n = c.cols;
    const ad = a.data;
    const bd = b.data;
    const cd = c.data;
    const bias = opts.bias;
    const act = opts.activation;
    const row = new Float64Array(n);
    for (let i = 0; i < c.rows; i++) {
      const ai = a.offset + i * a.rowStride;
      if (a.colStride === 1 && b.rowStride === 1) {
        for (let j = 0; j < n; j++) row[j] = dotUnit(ad, ai, bd, b.offset + j * b.colStride, k);
      } else if (b.colStride === 1) {
        row.fill(0);
        for (let kk = 0; kk < k; kk++) {
          const av = ad[ai + kk * a.colStride];
          const bk = b.offset + kk * b.rowStride;
          for (let j = 0; j < n; j++) row[j] += av * bd[bk + j];
        }
      } else {
        for (let j = 0; j < n; j++) {
          const bj = b.offset + j * b.colStride;
          let s = 0;
          for (let kk = 0; kk < k; kk++) s += ad[ai + kk * a.colStride] * bd[bj + kk * b.rowStride];
          row[j] = s;
        }
      }
      const ci = c.offset + i * c.rowStride;
      for (let j = 0; j < n; j++) {
        const v = bias ? row[j] + bias.data[bias.offset + j] : row[j];
        cd[ci + j * c.colStride] = act ? activate(v, act) : v;
      }
    }
  },
};
