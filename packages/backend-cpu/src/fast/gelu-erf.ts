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

/** A v128 with `value` (as float32) in all four lanes. */
function splat(value: number): Code {
  return op.v128ConstF32x4([value, value, value, value]);
}

/** Horner evaluation of `coefficients` at the v128 in local `t` (separate f32x4 multiply and add). */
function hornerF32x4(coefficients: readonly number[], t: number): Code {
  let p: Code = splat(coefficients[coefficients.length - 1]);
  for (let i = coefficients.length - 2; i >= 0; i--)
    p = op.f32x4Add(op.f32x4Mul(p, op.localGet(t)), splat(coefficients[i]));
  return p;
}

/** Scratch locals of the inline erf. */
interface ErfLocals {
  ax: number;
  t: number;
  y: number;
}

/** Code setting local `out` to erf of local `x` (four lanes of `erfF32`); `out` may equal `x`. */
function erfF32x4(x: number, out: number, l: ErfLocals): Code {
  const { ax, t, y } = l;
  const axLt = (bound: number): Code => op.f32x4Lt(op.localGet(ax), splat(bound));
  return [
    op.localSet(ax, op.f32x4Abs(op.localGet(x))),
    // Tail piece first: lanes that fail every comparison below (including NaN) keep it.
    op.localSet(
      t,
      op.f32x4Mul(op.f32x4Sub(op.localGet(ax), splat(TAIL.center)), splat(TAIL.inverseHalfWidth)),
    ),
    op.localSet(y, hornerF32x4(ERF_COEFFICIENTS.p2, t)),
    op.localSet(
      t,
      op.f32x4Mul(op.f32x4Sub(op.localGet(ax), splat(MIDDLE.center)), splat(MIDDLE.inverseHalfWidth)),
    ),
    op.localSet(
      y,
      op.v128Bitselect(hornerF32x4(ERF_COEFFICIENTS.p1, t), op.localGet(y), axLt(ERF_PIECE_BOUNDS.middle)),
    ),
    op.localSet(
      t,
      op.f32x4Sub(op.f32x4Mul(op.f32x4Mul(op.localGet(ax), op.localGet(ax)), splat(2)), splat(1)),
    ),
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
      op.v128Bitselect(splat(1), op.localGet(y), op.f32x4Ge(op.localGet(ax), splat(ERF_PIECE_BOUNDS.clamp))),
    ),
    // Copy the sign bit of x (the bits of -0.0) onto the non-negative result.
    op.localSet(out, op.v128Or(op.localGet(y), op.v128And(op.localGet(x), splat(-0)))),
  ];
}

/** Code setting local `out` to GELU of local `x` (four lanes of `geluF32`); `out` must differ from `x`. */
function geluF32x4(x: number, out: number, l: ErfLocals): Code {
  return [
    op.localSet(out, op.f32x4Mul(op.localGet(x), splat(SQRT1_2_F32))),
    erfF32x4(out, out, l),
    op.localSet(
      out,
      op.f32x4Mul(op.f32x4Mul(op.localGet(x), splat(0.5)), op.f32x4Add(splat(1), op.localGet(out))),
    ),
  ];
}

/**
 * Emits `f(ptr, n)`: `kernel` applied in place to the n floats at byte offset ptr (four at a time, then one at
 * a time in lane 0). The kernel is inlined in the loop, so the engine can keep its constants out of the loop
 * body: per call, constants cost once, not per vector (which is why there is no `erf(v128)` function).
 */
function emitSpanFunction(fn: FunctionBuilder, kernel: (x: number, out: number, l: ErfLocals) => Code): void {
  const [ptr, n] = fn.params;
  const end = fn.local('i32');
  const x = fn.local('v128');
  const out = fn.local('v128');
  const l: ErfLocals = { ax: fn.local('v128'), t: fn.local('v128'), y: fn.local('v128') };
  fn.emit(
    op.localSet(end, op.i32Add(op.localGet(ptr), op.i32Shl(op.localGet(n), op.i32Const(2)))),
    op.block(
      op.loop(
        op.brIf(1, op.i32GtS(op.i32Add(op.localGet(ptr), op.i32Const(16)), op.localGet(end))),
        op.localSet(x, op.v128Load(op.localGet(ptr), { align: 2 })),
        kernel(x, out, l),
        op.v128Store(op.localGet(ptr), op.localGet(out), { align: 2 }),
        op.localSet(ptr, op.i32Add(op.localGet(ptr), op.i32Const(16))),
        op.br(0),
      ),
    ),
    op.block(
      op.loop(
        op.brIf(1, op.i32GeS(op.localGet(ptr), op.localGet(end))),
        op.localSet(x, op.f32x4Splat(op.f32Load(op.localGet(ptr)))),
        kernel(x, out, l),
        op.f32Store(op.localGet(ptr), op.f32x4ExtractLane(op.localGet(out), 0)),
        op.localSet(ptr, op.i32Add(op.localGet(ptr), op.i32Const(4))),
        op.br(0),
      ),
    ),
  );
}

/**
 * Adds `erf_span(ptr, n)` and `gelu_span(ptr, n)` to `m`: in-place erf / GELU of n floats at byte offset ptr,
 * bit-identical to `erfF32` / `geluF32`, optionally exported under `exportNames`. Returns their indices.
 */
export function addErfFunctions(
  m: ModuleBuilder,
  exportNames: { erf?: string; gelu?: string } = {},
): { erfSpan: number; geluSpan: number } {
  const erf = m.addFunction(['i32', 'i32'], [], exportNames.erf);
  emitSpanFunction(erf.fn, erfF32x4);
  const gelu = m.addFunction(['i32', 'i32'], [], exportNames.gelu);
  emitSpanFunction(gelu.fn, geluF32x4);
  return { erfSpan: erf.index, geluSpan: gelu.index };
}
