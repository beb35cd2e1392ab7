// Layout checks for the fast kernels: a fast kernel handles dense row-major tensors (the common case in
// compiled graphs) and defers anything else to the plain reference kernel.
import { isDense as denseStrides } from '@wf/core';
import type { CpuTensor } from '../nd.js';

/** True when `t` is dense row-major (axes of size 1 may have any stride). */
export function isDense(t: CpuTensor): boolean {
  return denseStrides(t.shape, t.stride);
}

/** Number of elements. */
export function count(t: CpuTensor): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

/** `t`'s axes of extent other than 1, with their strides. */
function withoutUnitAxes(t: CpuTensor): { shape: number[]; stride: number[] } {
  const shape: number[] = [];
  const stride: number[] = [];
  for (let a = 0; a < t.shape.length; a++) {
    if (t.shape[a] === 1) continue;
    shape.push(t.shape[a]);
    stride.push(t.stride[a]);
  }
  return { shape, stride };
}

/**
 * Whether axes `shape` with `stride` (no unit axes) read a transposed matrix worth tiling: stride 1 second
 * to last, the last strided but not broadcast (stride 0 is a broadcast: {@link stridedCopy} fills it), and
 * both at least 4 long (thinner blocks cost more per call than they move: a pooling gradient's 7 x 2
 * windows took 7 ns a float as transposes).
 */
function isTransposed(shape: readonly number[], stride: readonly number[]): boolean {
  const r = shape.length;
  return (
    r >= 2 &&
    stride[r - 2] === 1 &&
    stride[r - 1] !== 1 &&
    stride[r - 1] !== 0 &&
    shape[r - 2] >= 4 &&
    shape[r - 1] >= 4
  );
}

/** Whether {@link transposedCopy} copies `t` (a transposed view, see there). */
export function isTransposedView(t: CpuTensor): boolean {
  const { shape, stride } = withoutUnitAxes(t);
  return isTransposed(shape, stride);
}

/** Side of the square tiles {@link jsTransposeBlock} walks (32 x 32 floats: 4 kB read, 4 kB written). */
const TILE = 32;

/**
 * Copies one transposed block: `dd[do + i·n + j] = sd[so + j·ss + i]` for i < m, j < n. The JavaScript one
 * walks square tiles so that the writes stay in cache; the SIMD kernels pass one on the wasm heap.
 */
export type TransposeBlock = (
  sd: CpuTensor['data'],
  so: number,
  dd: CpuTensor['data'],
  dOff: number,
  m: number,
  n: number,
  ss: number,
) => void;

/** {@link TransposeBlock} in JavaScript, in 32 x 32 tiles. */
export const jsTransposeBlock: TransposeBlock = (sd, so, dd, dOff, m, n, ss) => {
  for (let m0 = 0; m0 < m; m0 += TILE) {
    const m1 = Math.min(m, m0 + TILE);
    for (let n0 = 0; n0 < n; n0 += TILE) {
      const n1 = Math.min(n, n0 + TILE);
      for (let j = n0; j < n1; j++) {
        const s = so + j * ss;
        const d = dOff + j;
        for (let i = m0; i < m1; i++) dd[d + i * n] = sd[s + i];
      }
    }
  }
};

/**
 * Copies `src` into the dense `dst` (same element count, row-major order of `src`'s shape) when `src` is a
 * transposed view: its size-1 axes dropped, the second-to-last axis has stride 1 and the last does not (a
 * permuted [.., N, M] tensor read as [.., M, N], as the backward pass of a permute leaves its cotangent),
 * one `block` per index of the leading axes. Returns false, copying nothing, for any other layout.
 */
export function transposedCopy(
  dst: CpuTensor,
  src: CpuTensor,
  block: TransposeBlock = jsTransposeBlock,
): boolean {
  const { shape, stride } = withoutUnitAxes(src);
  const r = shape.length;
  if (!isTransposed(shape, stride) || !isDense(dst)) return false;
  const m = shape[r - 2];
  const n = shape[r - 1];
  const sn = stride[r - 1];
  let dOff = dst.offset;
  overOuter(shape.slice(0, r - 2), stride.slice(0, r - 2), src.offset, (so) => {
    block(src.data, so, dst.data, dOff, m, n, sn);
    dOff += m * n;
  });
  return true;
}

/** Calls `fn` with `start + Σ index·stride` for every index of `shape`, row-major (once for no axes). */
export function overOuter(
  shape: readonly number[],
  stride: readonly number[],
  start: number,
  fn: (offset: number) => void,
): void {
  const idx = new Array<number>(shape.length).fill(0);
  const blocks = shape.reduce((p, d) => p * d, 1);
  let at = start;
  for (let blk = 0; blk < blocks; blk++) {
    fn(at);
    for (let k = shape.length - 1; k >= 0; k--) {
      at += stride[k];
      if (++idx[k] < shape[k]) break;
      at -= stride[k] * shape[k];
      idx[k] = 0;
    }
  }
}

/**
 * The four nested loops of `stridedCopy` (extents s0, s1, s2, n; source strides t0, t1, t2, sn) from source
 * offset `so` to `dd` at `at`; returns the next write position. Written as its own function with the source
 * offset stepped, not recomputed: inside `stridedCopy`'s closure the same loops ran 4x slower (6 ns a float
 * for a pooling gradient's [192, 7, 2, 7, 2] broadcast).
 */
function copyLastFour(
  dd: CpuTensor['data'],
  at: number,
  sd: CpuTensor['data'],
  so: number,
  s0: number,
  s1: number,
  s2: number,
  n: number,
  t0: number,
  t1: number,
  t2: number,
  sn: number,
): number {
  for (let i0 = 0; i0 < s0; i0++) {
    for (let i1 = 0; i1 < s1; i1++) {
      let s = so + i0 * t0 + i1 * t1;
      if (sn === 0) {
        for (let i2 = 0; i2 < s2; i2++, s += t2) {
          const v = sd[s];
          if (n >= 16) {
            dd.fill(v, at, at + n);
            at += n;
          } else for (let j = 0; j < n; j++) dd[at++] = v;
        }
      } else if (sn === 1) {
        for (let i2 = 0; i2 < s2; i2++, s += t2) for (let j = 0; j < n; j++) dd[at++] = sd[s + j];
      } else {
        for (let i2 = 0; i2 < s2; i2++, s += t2) for (let j = 0; j < n; j++) dd[at++] = sd[s + j * sn];
      }
    }
  }
  return at;
}

/**
 * Copies any view `src` into the dense `dst` (same element count, row-major order of `src`'s shape), after
 * merging the axes that step through memory together: the last four remaining axes run as plain nested
 * loops, the others as an odometer. For broadcast views (stride 0, e.g. a pooling gradient spread over
 * its windows) and other strided copies whose innermost runs are short; ndarray's generic copy pays a
 * loop per innermost run. Returns false for a non-dense `dst`.
 */
export function stridedCopy(dst: CpuTensor, src: CpuTensor): boolean {
  if (!isDense(dst)) return false;
  // merge axis a into the one after it when stepping a is stepping the next one its full extent
  const shape: number[] = [];
  const stride: number[] = [];
  for (let a = 0; a < src.shape.length; a++) {
    const d = src.shape[a];
    if (d === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && stride[last] === src.stride[a] * d) {
      shape[last] *= d;
      stride[last] = src.stride[a];
    } else {
      shape.push(d);
      stride.push(src.stride[a]);
    }
  }
  const sd = src.data;
  const dd = dst.data;
  let d = dst.offset;
  if (shape.length === 0) {
    dd[d] = sd[src.offset];
    return true;
  }
  // the last four axes as nested loops written out (no call per short run), the others as an odometer
  while (shape.length < 4) {
    shape.unshift(1);
    stride.unshift(0);
  }
  const r = shape.length;
  const [s0, s1, s2, n] = shape.slice(r - 4);
  const [t0, t1, t2, sn] = stride.slice(r - 4);
  overOuter(shape.slice(0, r - 4), stride.slice(0, r - 4), src.offset, (so) => {
    d = copyLastFour(dd, d, sd, so, s0, s1, s2, n, t0, t1, t2, sn);
  });
  return true;
}
