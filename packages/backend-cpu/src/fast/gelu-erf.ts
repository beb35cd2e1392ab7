// The float32 erf behind the exact GELU epilogue of the fast kernels, gelu(x) = x/2 * (1 + erf(x / sqrt 2)),
// written once as data (piecewise polynomial coefficients) and used twice: by the WebAssembly generator
// (four lanes at a time) and by a scalar JavaScript model (`erfF32`, `geluF32`) that performs the same
// float32 operations in the same order, so tests can compare the two bit for bit and measure the model
// against a float64 erf.
//
// Formula (ax = |x|; erf is odd, the sign of x is copied onto the result at the end). Four pieces p, each a
// degree-7 polynomial P_p in t = (u - CENTER_p) * SCALE_p (t in [-1, 1] on the piece):
//   p = 0   0   <= ax < 1     u = ax^2   erf = ax * P_0(t)   (erf(x)/x is a series in x^2: exact near 0)
//   p = 1   1   <= ax < 1.8   u = ax     erf = P_1(t)
//   p = 2   1.8 <= ax < 2.7   u = ax     erf = P_2(t)
//   p = 3   2.7 <= ax < 3.9   u = ax     erf = P_3(t)
//   ax >= 3.9                            erf = 1           (1 - erf(3.9) = 3.5e-8)
// With the same polynomial length for every piece, the SIMD code evaluates one polynomial whose
// coefficients are picked per lane by `i8x16.swizzle` from a 16-byte table holding the four pieces' values
// (the piece index p is the number of bounds 1, 1.8, 2.7 that ax reaches), instead of evaluating every
// piece in every lane and selecting.
// The polynomial is evaluated by Estrin's scheme (`estrin`: a dependency chain of depth log2 of the length
// instead of Horner's length - 1, which made the SIMD loop wait on latency), with separate float32 multiply
// and add (no fusion: the result does not depend on the engine). The coefficients are least-squares fits
// of the float64 erf at 3000 Chebyshev nodes of each piece (near-minimax), rounded to float32. Maximum
// absolute error of this float32 evaluation against a float64 erf: 1.7e-7 near x = 2.7, where the float32
// spacing is 6e-8 (random probes of gelu-erf.test.ts; Horner's rule gave 1.0e-7, near x = 0.98). NaN gives NaN, +-Infinity +-1.
// The same evaluator (`OddPieces`) gives GELU's derivative for the backward pass: gelu'(x) - 1/2 is odd too
// (see `GELU_GRAD_PIECES`), so g · gelu'(x) is one more table of coefficients, with no exp.
import { type Code, type FunctionBuilder, type ModuleBuilder, op, splatF32 } from './wasm-emitter.js';

/** Lower bounds of pieces 1, 2, 3 of |x| (float32 values, as the SIMD code compares with them). */
export const ERF_PIECE_BOUNDS: readonly number[] = [1, 1.8, 2.7].map(Math.fround);
/** |x| from which erf is 1 (float32). */
export const ERF_CLAMP = Math.fround(3.9);

/** Per piece: center and scale of the polynomial variable, t = (u - center) * scale (float32). */
const CENTER = [0.5, 1.4, 2.25, 3.3].map(Math.fround);
const SCALE = [2, 1 / 0.4, 1 / 0.45, 1 / 0.6].map(Math.fround);

/** Coefficients of P_0 .. P_3 in increasing degree (float32 values). */
export const ERF_COEFFICIENTS: readonly (readonly number[])[] = [
  [
    0.9654687643051147, -0.1405360847711563, 0.019852498546242714, -0.0022854856215417385,
    0.00021751198801212013, -1.75368240888929e-5, 1.2316402262513293e-6, -7.557493830745443e-8,
  ],
  [
    0.95228511095047, 0.06357666850090027, -0.03560356795787811, 0.0099011966958642, -0.0008703248458914459,
    -0.0002802762028295547, 8.442009857390076e-5, -2.73682030638156e-6,
  ],
  [
    0.9985372424125671, 0.0032140526454895735, -0.003253802191466093, 0.0019795296248048544,
    -0.0007846248336136341, 0.00019710174819920212, -2.077195131278131e-5, -3.1000754461274482e-6,
  ],
  [
    0.9999969601631165, 1.2614342267625034e-5, -2.5296274543507025e-5, 3.1582087103743106e-5,
    -2.664506246219389e-5, 1.8515473129809834e-5, -1.2184674233139958e-5, 4.436202743818285e-6,
  ],
];

/**
 * Estrin's scheme for c[0] + c[1] t + c[2] t² + ...: the pairs c[2i] + c[2i+1] t become the coefficients of
 * a polynomial in t², and so on until one term is left (an odd one out passes up unchanged). `powers[k]` is
 * t^(2^k) (as many as the halvings need: `estrinPowers`). Written once over an arithmetic, so the SIMD code
 * and its scalar model do the same operations in the same order.
 */
export function estrin<T>(
  c: readonly T[],
  powers: readonly T[],
  add: (a: T, b: T) => T,
  mul: (a: T, b: T) => T,
): T {
  let level = c;
  for (let k = 0; level.length > 1; k++) {
    const up: T[] = [];
    for (let i = 0; i < level.length; i += 2)
      up.push(i + 1 < level.length ? add(level[i], mul(level[i + 1], powers[k])) : level[i]);
    level = up;
  }
  return level[0];
}

/** Number of powers t, t², t⁴, ... that `estrin` uses for `terms` coefficients. */
export function estrinPowers(terms: number): number {
  let count = 0;
  for (let n = terms; n > 1; n = Math.ceil(n / 2)) count++;
  return count;
}

/** 1 / sqrt(2) as float32. */
export const SQRT1_2_F32 = Math.fround(Math.SQRT1_2);

const f32 = Math.fround;

/**
 * An odd function of x as four polynomial pieces over |x| (the layout of the file header): piece p covers
 * bounds[p-1] <= |x| < bounds[p] (bounds[-1] = 0), with u = |x|² and a factor |x| on piece 0, u = |x| on
 * the others; from `clamp` on the value is `clampValue`. All numbers are float32 values.
 */
export interface OddPieces {
  /** Lower bounds of pieces 1, 2, 3 of |x|. */
  readonly bounds: readonly number[];
  /** |x| from which the result is `clampValue`. */
  readonly clamp: number;
  /** The value for |x| >= clamp (sign copied from x). */
  readonly clampValue: number;
  /** Per piece: t = (u - center) * scale. */
  readonly center: readonly number[];
  readonly scale: readonly number[];
  /** Per piece: polynomial coefficients in increasing degree, the same count for every piece. */
  readonly coefficients: readonly (readonly number[])[];
}

/** erf as odd pieces (the coefficients above). */
export const ERF_PIECES: OddPieces = {
  bounds: ERF_PIECE_BOUNDS,
  clamp: ERF_CLAMP,
  clampValue: 1,
  center: CENTER,
  scale: SCALE,
  coefficients: ERF_COEFFICIENTS,
};

/**
 * Scalar model of the SIMD evaluation of `pieces`: the same operations, rounded to float32 after each one,
 * in the same order (so results agree bit for bit).
 */
export function oddPiecesF32(pieces: OddPieces, x: number): number {
  x = f32(x);
  const ax = Math.abs(x);
  // NaN reaches no bound: piece 0, and NaN flows through the polynomial.
  let p = 0;
  for (const bound of pieces.bounds) if (ax >= bound) p++;
  const u = p === 0 ? f32(ax * ax) : ax;
  const t = f32(f32(u - pieces.center[p]) * pieces.scale[p]);
  const powers = [t];
  while (powers.length < estrinPowers(pieces.coefficients[p].length))
    powers.push(f32(powers[powers.length - 1] * powers[powers.length - 1]));
  const c = pieces.coefficients[p].map(f32);
  let y = estrin(
    c,
    powers,
    (a, b) => f32(a + b),
    (a, b) => f32(a * b),
  );
  y = f32(y * (p === 0 ? ax : 1));
  if (ax >= pieces.clamp) y = pieces.clampValue;
  return x < 0 || Object.is(x, -0) ? -y : y;
}

/**
 * Scalar model of the kernels' float32 erf: the same operations, rounded to float32 after each one, in the
 * same order as the SIMD code (so results agree bit for bit).
 */
export function erfF32(x: number): number {
  return oddPiecesF32(ERF_PIECES, x);
}

/**
 * gelu'(x) - 1/2 = erf(x/√2)/2 + x·φ(x) (φ the standard normal density) is odd, so GELU's derivative is
 * evaluated like erf: four degree-9 pieces over |x| (bounds 1.2, 2, 3.6; piece 0 in u = x²), 1/2 from
 * |x| >= 6 (where x·φ(x) < 4e-8). Least-squares fits at 3000 Chebyshev nodes per piece, rounded to
 * float32; measured max abs error of the float32 evaluation 8e-8, about one float32 spacing (numpy fit,
 * checked every 1/8000 of each piece; 2.1e-7 with Estrin's roundings); degree 7 gave 1.5e-7.
 */
export const GELU_GRAD_PIECES: OddPieces = {
  bounds: [1.2, 2, 3.6].map(Math.fround),
  clamp: Math.fround(6),
  clampValue: 0.5,
  center: [0.72, 1.6, 2.8, 4.8].map(Math.fround),
  scale: [1 / 0.72, 2 / 0.8, 2 / 1.6, 2 / 2.4].map(Math.fround),
  coefficients: [
    [
      0.634158194065094, -0.13894625008106232, 0.022045904770493507, -0.0024999501183629036,
      0.00021793045743834227, -1.5373887435998768e-5, 9.094522965824581e-7, -4.628820704510872e-8,
      2.0738550876586714e-9, -8.24057003190326e-11,
    ],
    [
      0.6226740479469299, -0.024846266955137253, -0.020444929599761963, 0.008715597912669182,
      -0.0006826963508501649, -0.0002317077451152727, 4.741448719869368e-5, 1.4267977803683607e-6,
      -1.133718683377083e-6, 5.301793848389025e-8,
    ],
    [
      0.5196081399917603, -0.03698097541928291, 0.027234407141804695, -0.007150332909077406,
      -0.0025639296509325504, 0.002589187119156122, -0.0007120860973373055, -3.88685948564671e-5,
      7.12511464371346e-5, -1.304173838434508e-5,
    ],
    [
      0.5000181794166565, -9.999030589824542e-5, 0.0002613810356706381, -0.000426675658673048,
      0.00047957131755538285, -0.0003991945122834295, 0.00025889475364238024, -0.00010784088226500899,
      3.847862444672501e-6, 1.1847785572172143e-5,
    ],
  ],
};

/** Scalar model of the kernels' GELU gradient: f32(g · f32(1/2 + h(x))), h = gelu' - 1/2 as odd pieces. */
export function geluGradF32(x: number, g: number): number {
  return f32(f32(g) * f32(0.5 + oddPiecesF32(GELU_GRAD_PIECES, x)));
}

/** Scalar model of the kernels' GELU: f32(x * 0.5) * f32(1 + erfF32(f32(x * (1 / sqrt 2)))). */
export function geluF32(x: number): number {
  x = f32(x);
  return f32(f32(x * 0.5) * f32(1 + erfF32(f32(x * SQRT1_2_F32))));
}

// ---------------------------------------------------------------------------------------------------------
// WebAssembly SIMD
// ---------------------------------------------------------------------------------------------------------

/** A v128 whose lane p is `perPiece[p]`: a table for `i8x16.swizzle`. */
function pieceTable(perPiece: readonly number[]): Code {
  return op.v128ConstF32x4([perPiece[0], perPiece[1], perPiece[2], perPiece[3]]);
}

/** Scratch locals of the inline erf, and whether relaxed SIMD may be used. */
interface ErfLocals {
  /** t², t⁴, ... for Estrin's scheme (as many as the longest polynomial needs, less one). */
  powers: number[];
  ax: number;
  /** Byte indices selecting each lane's piece in a table: 4p + (0, 1, 2, 3). */
  index: number;
  t: number;
  y: number;
  /** Use `i8x16.relaxed_swizzle` (one instruction on x64, against two; same result for our indices). */
  relaxed: boolean;
}

/** Code setting local `out` to `pieces` of local `x` (four lanes of `oddPiecesF32`); `out` may equal `x`. */
function oddPiecesF32x4(pieces: OddPieces, x: number, out: number, l: ErfLocals): Code {
  const { ax, index, t, y } = l;
  const get = op.localGet;
  const reaches = (bound: number): Code => op.f32x4Ge(get(ax), splatF32(bound));
  const swizzle = l.relaxed ? op.i8x16RelaxedSwizzle : op.i8x16Swizzle;
  /** The table entry of each lane's piece. */
  const gather = (perPiece: readonly number[]): Code => swizzle(pieceTable(perPiece), get(index));
  const terms = pieces.coefficients[0].length;
  // Each bound reached adds 4 to every byte index of the lane (a true comparison is all ones).
  const four = op.v128ConstI32x4([0x04040404, 0x04040404, 0x04040404, 0x04040404]);
  let indexCode: Code = op.v128ConstI32x4([0x03020100, 0x03020100, 0x03020100, 0x03020100]);
  for (const bound of pieces.bounds) indexCode = op.i32x4Add(indexCode, op.v128And(reaches(bound), four));
  const powers = [t, ...l.powers.slice(0, estrinPowers(terms) - 1)];
  const polynomial: Code[] = [
    ...powers.slice(1).map((p, k) => op.localSet(p, op.f32x4Mul(get(powers[k]), get(powers[k])))),
    op.localSet(
      y,
      estrin(
        Array.from({ length: terms }, (_, j) => gather(pieces.coefficients.map((c) => c[j]))),
        powers.map(get),
        op.f32x4Add,
        op.f32x4Mul,
      ),
    ),
  ];
  // Piece 0 (NaN lanes are not, but stay NaN whichever way they go).
  const inPiece0 = (): Code => op.f32x4Lt(get(ax), splatF32(pieces.bounds[0]));
  return [
    op.localSet(ax, op.f32x4Abs(get(x))),
    op.localSet(index, indexCode),
    // t = (u - center) * scale, with u = ax^2 on piece 0, else ax.
    op.localSet(t, op.v128Bitselect(op.f32x4Mul(get(ax), get(ax)), get(ax), inPiece0())),
    op.localSet(t, op.f32x4Mul(op.f32x4Sub(get(t), gather(pieces.center)), gather(pieces.scale))),
    polynomial,
    op.localSet(y, op.f32x4Mul(get(y), op.v128Bitselect(get(ax), splatF32(1), inPiece0()))),
    op.localSet(
      y,
      op.v128Bitselect(splatF32(pieces.clampValue), get(y), op.f32x4Ge(get(ax), splatF32(pieces.clamp))),
    ),
    // Copy the sign bit of x (the bits of -0.0) onto the non-negative result.
    op.localSet(out, op.v128Or(get(y), op.v128And(get(x), splatF32(-0)))),
  ];
}

/** Code setting local `out` to erf of local `x` (four lanes of `erfF32`); `out` may equal `x`. */
function erfF32x4(x: number, out: number, l: ErfLocals): Code {
  return oddPiecesF32x4(ERF_PIECES, x, out, l);
}

/** Code setting local `out` to GELU of local `x` (four lanes of `geluF32`); `out` must differ from `x`. */
function geluF32x4(x: number, out: number, l: ErfLocals): Code {
  return [
    op.localSet(out, op.f32x4Mul(op.localGet(x), splatF32(SQRT1_2_F32))),
    erfF32x4(out, out, l),
    op.localSet(
      out,
      op.f32x4Mul(op.f32x4Mul(op.localGet(x), splatF32(0.5)), op.f32x4Add(splatF32(1), op.localGet(out))),
    ),
  ];
}

/** Scratch locals of the inline erf / odd-pieces code, made in `fn`. */
function erfLocals(fn: FunctionBuilder, relaxed: boolean): ErfLocals {
  const terms = Math.max(ERF_COEFFICIENTS[0].length, GELU_GRAD_PIECES.coefficients[0].length);
  return {
    ax: fn.local('v128'),
    index: fn.local('v128'),
    t: fn.local('v128'),
    y: fn.local('v128'),
    powers: fn.locals('v128', estrinPowers(terms) - 1),
    relaxed,
  };
}

/**
 * The two loops of a span function over the byte cursor `i` up to `end` (exclusive): `vector` while four
 * floats remain (then i += 16), then `scalar` one float at a time in lane 0 (i += 4).
 */
function spanLoops(i: number, end: number, vector: Code, scalar: Code): Code {
  const get = op.localGet;
  return [
    op.block(
      op.loop(
        op.brIf(1, op.i32GtS(op.i32Add(get(i), op.i32Const(16)), get(end))),
        vector,
        op.localSet(i, op.i32Add(get(i), op.i32Const(16))),
        op.br(0),
      ),
    ),
    op.block(
      op.loop(
        op.brIf(1, op.i32GeS(get(i), get(end))),
        scalar,
        op.localSet(i, op.i32Add(get(i), op.i32Const(4))),
        op.br(0),
      ),
    ),
  ];
}

/**
 * Emits `f(ptr, n)`: `kernel` applied in place to the n floats at byte offset ptr (four at a time, then one at
 * a time in lane 0). The kernel is inlined in the loop, so the engine can keep its constants out of the loop
 * body: V8 (11.3) builds each v128 constant with three instructions, once per call this way instead of once
 * per vector (which is why there is no `erf(v128)` function to call from the gemm microkernel).
 */
function emitSpanFunction(
  fn: FunctionBuilder,
  kernel: (x: number, out: number, l: ErfLocals) => Code,
  relaxed: boolean,
): void {
  // f(ptr, n) in place, or f(src, dst, n) with three parameters: the cursor walks src, dst is delta ahead
  const separate = fn.params.length === 3;
  const [ptr, second, third] = fn.params;
  const n = separate ? third : second;
  const end = fn.local('i32');
  const delta = fn.local('i32');
  const x = fn.local('v128');
  const out = fn.local('v128');
  const l = erfLocals(fn, relaxed);
  const get = op.localGet;
  const target = (): Code => (separate ? op.i32Add(get(ptr), get(delta)) : get(ptr));
  fn.emit(
    op.localSet(end, op.i32Add(get(ptr), op.i32Shl(get(n), op.i32Const(2)))),
    separate ? op.localSet(delta, op.i32Sub(get(second), get(ptr))) : [],
    spanLoops(
      ptr,
      end,
      [
        op.localSet(x, op.v128Load(get(ptr), { align: 2 })),
        kernel(x, out, l),
        op.v128Store(target(), get(out), { align: 2 }),
      ],
      [
        op.localSet(x, op.f32x4Splat(op.f32Load(get(ptr)))),
        kernel(x, out, l),
        op.f32Store(target(), op.f32x4ExtractLane(get(out), 0)),
      ],
    ),
  );
}

/**
 * Emits `f(x, g, out, n)`: out[i] = g[i] · (1/2 + h(x[i])), GELU's backward pass (four lanes of
 * `geluGradF32`, then one at a time in lane 0); `out` may be `x` or `g`.
 */
function emitGeluGradSpan(fn: FunctionBuilder, relaxed: boolean): void {
  const [xp, gp, op_, n] = fn.params;
  const [i, bytes] = [fn.local('i32'), fn.local('i32')];
  const x = fn.local('v128');
  const h = fn.local('v128');
  const l = erfLocals(fn, relaxed);
  const get = op.localGet;
  const at = (p: number): Code => op.i32Add(get(p), get(i));
  const result = (g: Code): Code => op.f32x4Mul(g, op.f32x4Add(splatF32(0.5), get(h)));
  fn.emit(
    op.localSet(bytes, op.i32Shl(get(n), op.i32Const(2))),
    op.localSet(i, op.i32Const(0)),
    spanLoops(
      i,
      bytes,
      [
        op.localSet(x, op.v128Load(at(xp), { align: 2 })),
        oddPiecesF32x4(GELU_GRAD_PIECES, x, h, l),
        op.v128Store(at(op_), result(op.v128Load(at(gp), { align: 2 })), { align: 2 }),
      ],
      [
        op.localSet(x, op.f32x4Splat(op.f32Load(at(xp)))),
        oddPiecesF32x4(GELU_GRAD_PIECES, x, h, l),
        op.f32Store(at(op_), op.f32x4ExtractLane(result(op.f32x4Splat(op.f32Load(at(gp)))), 0)),
      ],
    ),
  );
}

/**
 * Adds `erf_span(ptr, n)` and `gelu_span(ptr, n)` to `m`: in place erf / GELU of n floats at byte offset ptr,
 * bit-identical to `erfF32` / `geluF32`; `gelu_grad_span(x, g, out, n)`, bit-identical to `geluGradF32`; and,
 * when `exportNames.geluTo` is given, `gelu_to(src, dst, n)`: GELU from one array into another. Exported under
 * `exportNames` if given. `relaxed`: the runtime supports relaxed SIMD (then `i8x16.relaxed_swizzle` is used;
 * results are the same). Returns the indices of the first three.
 */
export function addErfFunctions(
  m: ModuleBuilder,
  relaxed: boolean,
  exportNames: { erf?: string; gelu?: string; geluTo?: string; geluGrad?: string } = {},
): { erfSpan: number; geluSpan: number; geluGradSpan: number } {
  const erf = m.addFunction(['i32', 'i32'], [], exportNames.erf);
  emitSpanFunction(erf.fn, erfF32x4, relaxed);
  const gelu = m.addFunction(['i32', 'i32'], [], exportNames.gelu);
  emitSpanFunction(gelu.fn, geluF32x4, relaxed);
  if (exportNames.geluTo)
    emitSpanFunction(m.addFunction(['i32', 'i32', 'i32'], [], exportNames.geluTo).fn, geluF32x4, relaxed);
  const geluGrad = m.addFunction(['i32', 'i32', 'i32', 'i32'], [], exportNames.geluGrad);
  emitGeluGradSpan(geluGrad.fn, relaxed);
  return { erfSpan: erf.index, geluSpan: gelu.index, geluGradSpan: geluGrad.index };
}
