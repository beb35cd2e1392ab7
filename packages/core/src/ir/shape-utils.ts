// Shape helpers shared by the op table's shape rules: broadcasting, axis normalization, conv arithmetic.
import { fmtShape, ShapeError } from '../errors.js';
import type { Shape } from './types.js';

/** NumPy-style broadcast of two shapes; throws a ShapeError naming `op` when incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        op,
        `cannot broadcast ${fmtShape(a)} with ${fmtShape(b)} (axis ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalizes a possibly negative axis for a tensor of `rank` axes; throws when out of range. */
export function normAxis(op: string, axis: number, rank: number, shape?: Shape): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const what = shape ? `shape ${fmtShape(shape)}` : `rank ${rank}`;
    throw new ShapeError(op, `axis ${axis} is out of range for ${what}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes a list of axes (unique, sorted). */
export function normAxes(op: string, axes: readonly number[], rank: number, shape?: Shape): number[] {
  const out = [...new Set(axes.map((a) => normAxis(op, a, rank, shape)))].sort((x, y) => x - y);
  if (out.length !== axes.length) throw new ShapeError(op, `repeated axis in [${axes.join(',')}]`);
  return out;
}

/** Output extent of a convolution/pooling window along one axis: floor((n + 2p - k) / s) + 1. */
export function convOut(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/**
 * Adaptive average pooling bin `[start, end)` for output cell `i` of `out` cells over `n` inputs:
 * `start = floor(i*n/out)`, `end = ceil((i+1)*n/out)` (SPEC section 4; bins overlap when out does not divide n).
 */
export function adaptiveBin(i: number, n: number, out: number): [number, number] {
  return [Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)];
}

/** Asserts that a value is a positive safe integer, naming the op and field otherwise. */
export function checkPositiveInt(op: string, what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new ShapeError(op, `${what} must be a positive integer, got ${v}`);
}
