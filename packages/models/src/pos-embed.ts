// Resizing a ViT position table to another token grid: the class-token row is kept, the grid part is
// resampled bicubically exactly as timm's resample_abs_pos_embed does (torch bicubic, A = -0.75,
// align_corners = False, no antialias).
import type { TensorData } from '@wf/core';

const A = -0.75;

function cubicWeights(t: number): [number, number, number, number] {
  const w1 = ((A + 2) * t - (A + 3)) * t * t + 1; // |x| <= 1
  const u = 1 - t;
  const w2 = ((A + 2) * u - (A + 3)) * u * u + 1;
  const w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A; // 1 < |x| < 2
  const v = 2 - t;
  const w3 = ((A * v - 5 * A) * v + 8 * A) * v - 4 * A;
  return [w0, w1, w2, w3];
}

/** Resamples one axis of a [rows, cols, D] float64 grid. */
function resampleAxis(
  src: Float64Array,
  rows: number,
  cols: number,
  d: number,
  outN: number,
  axis: 0 | 1,
): Float64Array {
  const inN = axis === 0 ? rows : cols;
  const [oRows, oCols] = axis === 0 ? [outN, cols] : [rows, outN];
  const out = new Float64Array(oRows * oCols * d);
  const scale = inN / outN;
  for (let o = 0; o < outN; o++) {
    const s = (o + 0.5) * scale - 0.5;
    const f = Math.floor(s);
    const w = cubicWeights(s - f);
    for (let k = 0; k < 4; k++) {
      const i = Math.min(inN - 1, Math.max(0, f - 1 + k));
      for (let r = 0; r < (axis === 0 ? oCols : oRows); r++) {
        const [sr, sc, or, oc] = axis === 0 ? [i, r, o, r] : [r, i, r, o];
        const sBase = (sr * cols + sc) * d;
        const oBase = (or * oCols + oc) * d;
        for (let c = 0; c < d; c++) out[oBase + c] += w[k] * src[sBase + c];
      }
    }
  }
  return out;
}

/** pos `[1, 1 + H·W, D]` for grid `from` -> `[1, 1 + H'·W', D]` for grid `to`. */
export function resizePosEmbed(
  pos: TensorData,
  from: readonly [number, number],
  to: readonly [number, number],
): TensorData {
  const d = pos.shape[2];
  const grid = Float64Array.from(pos.data.subarray(d));
  const rowsDone = resampleAxis(grid, from[0], from[1], d, to[0], 0);
  const both = resampleAxis(rowsDone, to[0], from[1], d, to[1], 1);
  const data = new Float32Array(d + both.length);
  data.set(pos.data.subarray(0, d));
  data.set(both, d);
  return { dtype: 'float32', shape: [1, 1 + to[0] * to[1], d], data };
}
