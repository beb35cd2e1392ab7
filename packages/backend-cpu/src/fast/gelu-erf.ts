// The float32 erf behind the exact GELU epilogue of the fast kernels, gelu(x) = x/2 * (1 + erf(x / sqrt 2)),
// written once as data (piecewise polynomial coefficients) and used twice: by the WebAssembly generator
// (`emitErfF32x4`, four lanes at a time) and by a scalar JavaScript model (`erfF32`) that performs the same
// float32 operations in the same order, so tests can compare the two bit for bit and measure the model
// against a float64 erf.
//
// Formula (|x| = ax; erf is odd, the sign of x is copied onto the result at the end):
//   ax < 1          erf = ax * P0(2 ax^2 - 1)             P0: degree 6, erf(x)/x as a polynomial in x^2
//   1 <= ax < 2.4   erf = P1((ax - 1.7) / 0.7)            P1: degree 9
//   2.4 <= ax < 3.9 erf = P2((ax - 3.15) / 0.75)          P2: degree 8
//   ax >= 3.9       erf = 1                               (1 - erf(3.9) = 3.5e-8)
// Each polynomial is evaluated by Horner's rule with separate float32 multiply and add (no fusion, so the
// result does not depend on the engine). The coefficients are least-squares fits of the float64 erf at 3000
// Chebyshev nodes of each interval (a near-minimax fit), rounded to float32. Measured maximum absolute
// error of this float32 evaluation against a float64 erf: 9.3e-8 (at x = 0.949), i.e. within two float32
// ulps of 1; NaN gives NaN and +-Infinity gives +-1.
import { type Code, type FunctionBuilder, type ModuleBuilder, op } from './wasm-emitter.js';

/** Upper bounds of the three polynomial pieces of |x|, and the clamp above which erf is 1. */
export const ERF_PIECE_BOUNDS = { odd: 1, middle: 2.4, clamp: 3.9 } as const;

/** Center and inverse half-width of the middle and tail pieces (t = (|x| - center) * inverseHalfWidth). */
const MIDDLE = { center: 1.7, inverseHalfWidth: 1 / 0.7 } as const;
const TAIL = { center: 3.15, inverseHalfWidth: 1 / 0.75 } as const;

/** Coefficients of P0, P1, P2 in increasing degree (as float32). */
export const ERF_COEFFICIENTS: {
  readonly p0: readonly number[];
  readonly p1: readonly number[];
  readonly p2: readonly number[];
} = {
  p0: [
    0.9654687643051147, -0.1405360996723175, 0.019852498546242714, -0.002285419497638941,
    0.00021751198801212013, -0.000017669080989435315, 0.0000012316402262513293,
  ],
  p1: [
    0.9837904572486877, 0.04389771446585655, -0.0522373765707016, 0.0342726968228817, -0.011867314577102661,
    0.0006057078135199845, 0.0013303461018949747, -0.0005124261952005327, -0.000009937738468579482,
    0.00004165579957771115,
  ],
  p2: [
    0.9999915957450867, 0.00004146961509832181, -0.00009811686322791502, 0.0001473533920943737,
    -0.0001546491839690134, 0.00011915620416402817, -0.00007319221913348883, 0.00003625560202635825,
    -0.000009919251169776544,
  ],
};

/** 1 / sqrt(2) as float32. */
export const SQRT1_2_F32 = Math.fround(Math.SQRT1_2);

const f32 = Math.fround;

/** Horner evaluation in float32 with separate multiply and add, as the WebAssembly code does. */
function hornerF32(coefficients: readonly number[], t: number): number {
  let p = f32(coefficients[coefficients.length - 1]);
  for (let i = coefficients.length - 2; i >= 0; i--) p = f32(f32(p * t) + f32(coefficients[i]));
  return p;
}

/**
 * Scalar model of the kernels' float32 erf: the same operations, rounded to float32 after each one, in the
 * same order as the SIMD code emitted by `emitErfF32x4` (so results agree bit for bit).
 */
export function erfF32(x: number): number {
  x = f32(x);
  const ax = Math.abs(x);
  const y0 = f32(ax * hornerF32(ERF_COEFFICIENTS.p0, f32(f32(f32(ax * ax) * 2) - 1)));
  const y1 = hornerF32(ERF_COEFFICIENTS.p1, f32(f32(ax - f32(MIDDLE.center)) * f32(MIDDLE.inverseHalfWidth)));
  const y2 = hornerF32(ERF_COEFFICIENTS.p2, f32(f32(ax - f32(TAIL.center)) * f32(TAIL.inverseHalfWidth)));
  // Same selection order as the SIMD code: NaN fails every comparison and falls through to y2 (NaN).
  let y = y2;
  if (ax < ERF_PIECE_BOUNDS.middle) y = y1;
  if (ax < ERF_PIECE_BOUNDS.odd) y = y0;
  if (ax >= ERF_PIECE_BOUNDS.clamp) y = 1;
  return x < 0 || Object.is(x, -0) ? -y : y;
}

/** Scalar model of the kernels' GELU: f32(0.5 * x) * f32(1 + erfF32(f32(x / sqrt 2))). */
export function geluF32(x: number): number {
  x = f32(x);
  return f32(f32(0.5 * x) * f32(1 + erfF32(f32(x * SQRT1_2_F32))));
}

/** Horner evaluation of `coefficients` at the v128 in local `t` (separate f32x4 multiply and add). */
function hornerF32x4(coefficients: readonly number[], t: number): Code {
  let p: Code = op.v128ConstF32x4(splat4(coefficients[coefficients.length - 1]));
  for (let i = coefficients.length - 2; i >= 0; i--) {
    p = op.f32x4Add(op.f32x4Mul(p, op.localGet(t)), op.v128ConstF32x4(splat4(coefficients[i])));
  }
  return p;
}

function splat4(v: number): [number, number, number, number] {
  return [v, v, v, v];
}

/** Emits the body of `erf(x: v128) -> v128` into `fn` (parameter 0 is x). */
function emitErfBody(fn: FunctionBuilder): void {
  const x = fn.params[0];
  const ax = fn.local('v128');
  const t = fn.local('v128');
  const y = fn.local('v128');
  const c = (v: number): Code => op.v128ConstF32x4(splat4(v));
  const axLt = (bound: number): Code => op.f32x4Lt(op.localGet(ax), c(bound));
  fn.emit(
    op.localSet(ax, op.f32x4Abs(op.localGet(x))),
    // Tail piece first: lanes that fail every comparison below (including NaN) keep it.
    op.localSet(t, op.f32x4Mul(op.f32x4Sub(op.localGet(ax), c(TAIL.center)), c(TAIL.inverseHalfWidth))),
    op.localSet(y, hornerF32x4(ERF_COEFFICIENTS.p2, t)),
    op.localSet(t, op.f32x4Mul(op.f32x4Sub(op.localGet(ax), c(MIDDLE.center)), c(MIDDLE.inverseHalfWidth))),
    op.localSet(
      y,
      op.v128Bitselect(hornerF32x4(ERF_COEFFICIENTS.p1, t), op.localGet(y), axLt(ERF_PIECE_BOUNDS.middle)),
    ),
    op.localSet(t, op.f32x4Sub(op.f32x4Mul(op.f32x4Mul(op.localGet(ax), op.localGet(ax)), c(2)), c(1))),
    op.localSet(
      y,
      op.v128Bitselect(
        op.f32x4Mul(op.localGet(ax), hornerF32x4(ERF_COEFFICIENTS.p0, t)),
        op.localGet(y),
        axLt(ERF_PIECE_BOUNDS.odd),
      ),
    ),
    op.localSet(
      y,
      op.v128Bitselect(c(1), op.localGet(y), op.f32x4Ge(op.localGet(ax), c(ERF_PIECE_BOUNDS.clamp))),
    ),
    // Copy the sign bit of x onto the (non-negative) result.
    op.v128Or(op.localGet(y), op.v128And(op.localGet(x), op.v128ConstI32x4(splat4(-0x80000000)))),
  );
}

/** Emits the body of `gelu(x: v128) -> v128` into `fn`, calling the erf function at index `erfIndex`. */
function emitGeluBody(fn: FunctionBuilder, erfIndex: number): void {
  const x = fn.params[0];
  fn.emit(
    op.f32x4Mul(
      op.f32x4Mul(op.localGet(x), op.v128ConstF32x4(splat4(0.5))),
      op.f32x4Add(
        op.v128ConstF32x4(splat4(1)),
        op.call(erfIndex, op.f32x4Mul(op.localGet(x), op.v128ConstF32x4(splat4(SQRT1_2_F32)))),
      ),
    ),
  );
}

/**
 * Adds the internal functions `erf(v128) -> v128` and `gelu(v128) -> v128` (four lanes of `erfF32` and
 * `geluF32`, bit-identical to them) to `m`; returns their function indices.
 */
export function addErfFunctions(m: ModuleBuilder): { erf: number; gelu: number } {
  const erf = m.addFunction(['v128'], ['v128']);
  emitErfBody(erf.fn);
  const gelu = m.addFunction(['v128'], ['v128']);
  emitGeluBody(gelu.fn, erf.index);
  return { erf: erf.index, gelu: gelu.index };
}
