// Comparison helpers and seeded random data for backend tests: the project's error bound
// `max|y - ref| <= rel * max(1, max|ref|)` (or `rel * max|ref|` for outputs that are small by nature, such
// as softmax probabilities), an assertion that reports where it fails, and a small deterministic PRNG to
// make random test tensors that are the same on every machine and every run.
import { fmtShape } from '../errors.js';
import { seededRandom } from '../ir/random.js';
import type { Shape, TensorData } from '../ir/types.js';

/** Anything with a shape and numeric row-major data: host TensorData or the reference's F64Data. */
export interface NumericTensor {
  /** Shape, outermost axis first. */
  readonly shape: readonly number[];
  /** Row-major values. */
  readonly data: ArrayLike<number>;
}

/** A seeded generator of uniform numbers in [0, 1). */
export type Rng = () => number;

function checkSameSize(a: NumericTensor, b: NumericTensor, what: string): void {
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!sameShape || a.data.length !== b.data.length) {
    throw new Error(`${what}: shapes differ, ${fmtShape(a.shape)} vs ${fmtShape(b.shape)}`);
  }
}

/** |a - b| for one pair of elements: 0 for equal values (infinities included), Infinity when one is NaN. */
function elementError(a: number, b: number): number {
  if (a === b) return 0;
  const d = Math.abs(a - b);
  if (Number.isNaN(d)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.POSITIVE_INFINITY;
  return d;
}

function worstIndex(a: NumericTensor, b: NumericTensor): { index: number; error: number } {
  let index = -1;
  let error = 0;
  for (let i = 0; i < a.data.length; i++) {
    const e = elementError(a.data[i], b.data[i]);
    if (e > error || index < 0) {
      error = e;
      index = i;
    }
  }
  return { index, error };
}

/**
 * Largest elementwise absolute difference `max|a - b|` (0 for empty tensors). A NaN on one side only counts
 * as an infinite difference.
 * @throws {Error} when the shapes differ.
 */
export function maxAbsDiff(a: NumericTensor, b: NumericTensor): number {
  checkSameSize(a, b, 'maxAbsDiff');
  return worstIndex(a, b).error;
}

/** Largest absolute value `max|x|` (0 for an empty tensor; NaN when x holds a NaN). */
export function maxAbs(x: NumericTensor): number {
  let m = 0;
  for (let i = 0; i < x.data.length; i++) {
    const v = Math.abs(x.data[i]);
    if (Number.isNaN(v)) return Number.NaN;
    if (v > m) m = v;
  }
  return m;
}

/**
 * What a relative bound is relative to. `'unit'` (the default): `max(1, max|ref|)`, so that values near 0
 * (a difference that cancels, a normalized activation) are held to float32 rounding at unit scale.
 * `'output'`: `max|ref|` itself, for ops whose outputs are small by nature: a softmax over 257 values has
 * entries of 3e-4 .. 4e-2, where the `'unit'` bound `1e-4` would be an absolute one and let an error of
 * 1e-4 (a quarter of the smallest entry) pass.
 */
export type ToleranceScale = 'unit' | 'output';

/** Scale of `ref` under `scale`: `max(1, max|ref|)` or `max|ref|`. */
function scaleOf(ref: NumericTensor, scale: ToleranceScale): number {
  const m = maxAbs(ref);
  return scale === 'output' ? m : Math.max(1, m);
}

/** The project's error bound for a reference: `rel * max(1, max|ref|)`, or `rel * max|ref|` for `'output'`. */
export function toleranceBound(ref: NumericTensor, rel: number, scale: ToleranceScale = 'unit'): number {
  return rel * scaleOf(ref, scale);
}

/**
 * Whether `actual` is within the project's bound of `ref`: `max|actual - ref| <= rel * max(1, max|ref|)`
 * (`rel * max|ref|` for `scale` `'output'`). False when the shapes differ or a value is NaN.
 */
export function withinTolerance(
  actual: NumericTensor,
  ref: NumericTensor,
  rel: number,
  scale: ToleranceScale = 'unit',
): boolean {
  const sameShape =
    actual.shape.length === ref.shape.length && actual.shape.every((d, i) => d === ref.shape[i]);
  if (!sameShape || actual.data.length !== ref.data.length) return false;
  return worstIndex(actual, ref).error <= toleranceBound(ref, rel, scale);
}

function multiIndex(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = shape[i] === 0 ? 0 : flat % shape[i];
    flat = shape[i] === 0 ? 0 : Math.floor(flat / shape[i]);
  }
  return idx;
}

/**
 * Asserts `max|actual - ref| <= rel * max(1, max|ref|)` (`rel * max|ref|` for `scale` `'output'`, see
 * {@link ToleranceScale}). On failure throws an Error whose message gives `label`, the max error, the bound,
 * and the worst element's flat and multi-index with both values. Returns the max error.
 * @throws {Error} when the shapes differ or the bound is exceeded (NaN always exceeds it).
 */
export function expectClose(
  actual: NumericTensor,
  ref: NumericTensor,
  rel: number,
  label: string,
  scale: ToleranceScale = 'unit',
): number {
  checkSameSize(actual, ref, label);
  const { index, error } = worstIndex(actual, ref);
  const refMax = maxAbs(ref);
  const bound = toleranceBound(ref, rel, scale);
  if (!(error <= bound)) {
    const of =
      scale === 'output'
        ? `max|ref| = ${refMax.toPrecision(6)}`
        : `max(1, max|ref| = ${refMax.toPrecision(6)})`;
    throw new Error(
      `${label}: max |y - ref| = ${error.toExponential(3)} exceeds bound ${bound.toExponential(3)} ` +
        `(rel ${rel} * ${of}) at index ${index} ` +
        `[${multiIndex(index, actual.shape).join(',')}] of ${fmtShape(actual.shape)}: ` +
        `y = ${actual.data[index]}, ref = ${ref.data[index]}`,
    );
  }
  return error;
}

/** A seeded PRNG (mulberry32) returning uniform numbers in [0, 1); the same seed gives the same sequence. */
export function rng(seed: number): Rng {
  return seededRandom(seed);
}

/** A 32-bit seed from a string (FNV-1a), to give every named test case its own stream. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Range of `randomTensor`'s uniform values (defaults `lo = -1`, `hi = 1`). */
export interface RandomRange {
  /** Lower bound, inclusive (default -1). */
  lo?: number;
  /** Upper bound, exclusive (default 1). */
  hi?: number;
}

/** A float32 tensor of `shape` with values uniform in [lo, hi) drawn from `r`. */
export function randomTensor(shape: Shape, r: Rng, range: RandomRange = {}): TensorData {
  const lo = range.lo ?? -1;
  const hi = range.hi ?? 1;
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * r();
  return { dtype: 'float32', shape: [...shape], data };
}

/** An int32 tensor of `shape` with integers uniform in [lo, hi) (lo inclusive, hi exclusive). */
export function randomInt(shape: Shape, r: Rng, lo: number, hi: number): TensorData {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + Math.floor((hi - lo) * r());
  return { dtype: 'int32', shape: [...shape], data };
}
