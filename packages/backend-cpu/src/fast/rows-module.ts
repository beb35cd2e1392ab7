// WebAssembly SIMD row kernels of the fast CPU path, generated from TypeScript like the gemm module: layer
// norm over the last axis (with its affine weight and bias), the same-shape elementwise add, the two
// passes of DynLinear's normalized weight and of its backward pass, and the depthwise 3x3 convolution and
// its weight gradient. They run on the backend's
// heap, four floats per instruction; a scalar JavaScript loop takes 4-10 ns per element here, these about
// one. Rows must be a multiple of 4 floats long where noted (the callers check; others stay in JavaScript).
//
// layer_norm(x, y, w, b, rows, d, eps), two passes per row in f32x4 lanes:
//   mean = Σx / d;  var = Σ(x - mean)² / d;  y = (x - mean) · (1/√(var + eps)) · w + b
// layer_norm_grad(x, g, w, out, rows, d, eps), its input gradient in four passes per row (rstd as above):
//   m1 = Σ g·w / d;  k = Σ g·w·(x - mean) / d · rstd²;  out = rstd · (g·w - m1 - (x - mean) · k)
// add, mul and sub(a, b, out, n): out[i] = a[i] op b[i] for n (a multiple of 4) floats; add_row: a + a bias row;
// add_col: a + one value per row (a per-channel bias of NCHW planes).
// col_sumsq and add_scaled_cols: the two passes of dyn_weight (column sums of squares; w + g · s[col]).
// col_sumsq_dot and combine_cols: the two of its backward pass, dyn_weight_grad (column sums of g² and
// gy·g; gy · a[col] + g · b[col]).
// depthwise3x3 and depthwise3x3_wgrad: the convolution and its weight gradient (nine tap sums per plane),
// four columns at a time over zero-bordered copies of each plane.
// transpose(src, dst, rows, cols, ss): a transposed copy in 4 x 4 blocks (lane shuffles).
// col_sum(x, acc, rows, cols): column sums, eight rows at a time in float32, totals in float64.

import type { WasmHeap } from './heap.js';
import { type Code, ModuleBuilder, op, splatF32 } from './wasm-emitter.js';

/** The exports of the row-kernel module (byte addresses in the heap). */
export interface RowKernels {
  /** Layer norm of `rows` rows of `d` floats (d % 4 === 0) at `x` into `y`, with weight `w` and bias `b`. */
  layerNorm(x: number, y: number, w: number, b: number, rows: number, d: number, eps: number): void;
  /**
   * Layer norm's input gradient for `rows` rows of `d` floats (d % 4 === 0): x, cotangent g, weight w (d
   * floats; ones for none) into `out`.
   */
  layerNormGrad(x: number, g: number, w: number, out: number, rows: number, d: number, eps: number): void;
  /** `out = a + b` over `n` floats (n % 4 === 0). */
  add(a: number, b: number, out: number, n: number): void;
  /** `out[i, j] = a[i, j] + b[j]` for a `rows x cols` matrix and a row of `cols` floats (cols % 4 === 0). */
  addRow(a: number, b: number, out: number, rows: number, cols: number): void;
  /** `out[i, j] = a[i, j] + b[i]` for a `rows x cols` matrix and a column of `rows` floats (cols % 4 === 0). */
  addCol(a: number, b: number, out: number, rows: number, cols: number): void;
  /** `out = a · b` over `n` floats (n % 4 === 0). */
  mul(a: number, b: number, out: number, n: number): void;
  /** `out = a - b` over `n` floats (n % 4 === 0). */
  sub(a: number, b: number, out: number, n: number): void;
  /**
   * `out = sigmoid(x)` over the first `n - n % 4` of `n` floats (the caller does the rest), through
   * e^-|x| = 2^k · e^r (see `expNegAbs`): relative error below 2.5e-7 (a few float32 ulps), NaN stays NaN.
   */
  sigmoid(x: number, out: number, n: number): void;
  /** `out = x · sigmoid(x)` (SiLU) over the first `n - n % 4` of `n` floats, as {@link RowKernels.sigmoid}. */
  silu(x: number, out: number, n: number): void;
  /** `ss[j] = Σ_i g[i, j]²` for a `rows x cols` matrix `g` (cols % 4 === 0). */
  colSumSq(g: number, ss: number, rows: number, cols: number): void;
  /**
   * Depthwise 3x3 (stride 1, zero padding 1) over `planes` planes of `h x w`; kernel 9 floats per plane,
   * bias per channel (`bias` 0: none, channel = plane % c). `scratch`: (h + 2) x `wp` floats, zeroed, with
   * `wp >= w + 5` (room for the last vector's overhang).
   */
  depthwise3x3(
    x: number,
    k: number,
    bias: number,
    y: number,
    planes: number,
    c: number,
    h: number,
    w: number,
    scratch: number,
    wp: number,
  ): void;
  /**
   * The weight gradient of {@link RowKernels.depthwise3x3} over `planes` planes of x and of the output's
   * cotangent g (both `h x w`): `out[(p % c)·9 + tap]` += each plane's sums (the caller zeroes `out`, c·9
   * floats). `scratch`: (2h + 2) x `wp` floats, zeroed, with `wp >= w + 5`.
   */
  depthwise3x3WeightGrad(
    x: number,
    g: number,
    out: number,
    planes: number,
    c: number,
    h: number,
    w: number,
    scratch: number,
    wp: number,
  ): void;
  /**
   * `acc[j] += Σ_i x[i, j]` for a `rows x cols` matrix (cols % 4 === 0), `acc` float64 (8 bytes a column,
   * 16-byte aligned): float32 sums of at most eight rows, added in float64.
   */
  colSum(x: number, acc: number, rows: number, cols: number): void;
  /** `dst[i·cols + j] = src[j·ss + i]` for i < rows, j < cols: a transposed copy, 4 x 4 blocks at a time. */
  transpose(src: number, dst: number, rows: number, cols: number, ss: number): void;
  /** `out[i, j] = w[i, j] + g[i, j] · s[j]` for `rows x cols` matrices (cols % 4 === 0). */
  addScaledCols(w: number, g: number, s: number, out: number, rows: number, cols: number): void;
  /**
   * `acc[j] = Σ_i g[i, j]²` and `acc[cols + j] = Σ_i y[i, j] · g[i, j]` for `rows x cols` matrices (cols %
   * 4 === 0; `acc` holds 2·cols floats).
   */
  colSumSqDot(g: number, y: number, acc: number, rows: number, cols: number): void;
  /** `out[i, j] = x[i, j] · a[j] + y[i, j] · b[j]` for `rows x cols` matrices (cols % 4 === 0). */
  combineCols(x: number, a: number, y: number, b: number, out: number, rows: number, cols: number): void;
}

/** Sum of the four lanes of `v`. */
const hsum = (v: Code): Code =>
  op.f32Add(
    op.f32Add(op.f32x4ExtractLane(v, 0), op.f32x4ExtractLane(v, 1)),
    op.f32Add(op.f32x4ExtractLane(v, 2), op.f32x4ExtractLane(v, 3)),
  );

/** Taylor coefficients of e^r, degree 7: for |r| <= ln 2 / 2 the truncation error is below 5e-9 relative. */
const EXP_TAYLOR = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040];

/** ln 2 split in two for the reduction r = x - k ln 2 (Cody and Waite): k · LN2_HI is exact in float32. */
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;

/** e^-|x| is below float32's smallest normal past this |x| (e^-87.3365 = 2^-126): flushed to 0 there. */
const EXP_FLUSH = 87.33654;

/** The v128 locals {@link expNegAbs} reads (constants set once by {@link expConstants}) and uses. */
interface ExpLocals {
  /** Splats of the Taylor coefficients. */
  coef: readonly number[];
  negLog2e: number;
  ln2Hi: number;
  ln2Lo: number;
  minK: number;
  flush: number;
  bias: number;
  zero: number;
  a: number;
  k: number;
  r: number;
}

/** Declares the locals of {@link expNegAbs} in `fn`. */
function expLocals(fn: { locals(type: 'v128', n: number): number[] }): ExpLocals {
  const coef = fn.locals('v128', EXP_TAYLOR.length);
  const [negLog2e, ln2Hi, ln2Lo, minK, flush, bias, zero, a, k, r] = fn.locals('v128', 10);
  return { coef, negLog2e, ln2Hi, ln2Lo, minK, flush, bias, zero, a, k, r };
}

/**
 * Code setting the constant locals of {@link expNegAbs} (outside the loop: a v128.const costs three
 * instructions in V8).
 */
function expConstants(l: ExpLocals): Code {
  return [
    ...EXP_TAYLOR.map((c, i) => op.localSet(l.coef[i], splatF32(c))),
    op.localSet(l.negLog2e, splatF32(-Math.LOG2E)),
    op.localSet(l.ln2Hi, splatF32(LN2_HI)),
    op.localSet(l.ln2Lo, splatF32(LN2_LO)),
    op.localSet(l.minK, splatF32(-126)),
    op.localSet(l.flush, splatF32(EXP_FLUSH)),
    op.localSet(l.bias, op.v128ConstI32x4([127, 127, 127, 127])),
    op.localSet(l.zero, splatF32(0)),
  ];
}

/**
 * Code setting local `e` to e^-|v| per f32 lane of local `v`: k = max(nearest(-|v| log2 e), -126),
 * r = -|v| - k ln 2 (in two parts, so r keeps float32 precision however large k), then 2^k (exponent bits)
 * times e^r (Horner). 0 where |v| > 87.34 (below float32's normals, as the JavaScript kernels give);
 * a NaN lane stays NaN.
 */
function expNegAbs(v: number, e: number, l: ExpLocals): Code {
  const get = op.localGet;
  let p: Code = get(l.coef[EXP_TAYLOR.length - 1]);
  for (let c = EXP_TAYLOR.length - 2; c >= 0; c--) p = op.f32x4Add(op.f32x4Mul(p, get(l.r)), get(l.coef[c]));
  const pow2k = op.i32x4Shl(op.i32x4Add(op.i32x4TruncSatF32x4S(get(l.k)), get(l.bias)), op.i32Const(23));
  const negA = op.f32x4Sub(get(l.zero), get(l.a));
  return [
    op.localSet(l.a, op.f32x4Abs(get(v))),
    op.localSet(l.k, op.f32x4Max(op.f32x4Nearest(op.f32x4Mul(get(l.a), get(l.negLog2e))), get(l.minK))),
    op.localSet(
      l.r,
      op.f32x4Sub(
        op.f32x4Sub(negA, op.f32x4Mul(get(l.k), get(l.ln2Hi))),
        op.f32x4Mul(get(l.k), get(l.ln2Lo)),
      ),
    ),
    op.localSet(e, op.v128Bitselect(get(l.zero), op.f32x4Mul(p, pow2k), op.f32x4Gt(get(l.a), get(l.flush)))),
  ];
}

/** Code running `body` for byte offsets i = 0, 16, ... < bytes (a row of f32x4 vectors; bytes > 0). */
function overRow(i: number, bytes: number, ...body: Code[]): Code {
  return [
    op.localSet(i, op.i32Const(0)),
    op.loop(
      ...body,
      op.brIf(0, op.i32LtU(op.localTee(i, op.i32Add(op.localGet(i), op.i32Const(16))), op.localGet(bytes))),
    ),
  ];
}

/**
 * Code running `body` for each of `rows` rows (rows > 0): local `r` counts them, local `row` is the byte
 * offset of row `r` in a matrix whose rows are `bytes` apart.
 */
function overRows(r: number, row: number, rows: number, bytes: number, ...body: Code[]): Code {
  const get = op.localGet;
  return [
    op.localSet(r, op.i32Const(0)),
    op.localSet(row, op.i32Const(0)),
    op.loop(
      ...body,
      op.localSet(row, op.i32Add(get(row), get(bytes))),
      op.brIf(0, op.i32LtU(op.localTee(r, op.i32Add(get(r), op.i32Const(1))), get(rows))),
    ),
  ];
}

/** What the value of {@link emitMatrixMap} reads at the current four floats. */
interface MatrixAt {
  /** The four floats of the current row and columns of the matrix at byte address local `base`. */
  at(base: number): Code;
  /** The four floats of the current columns of the row vector at byte address local `base`. */
  col(base: number): Code;
  /** The current row index (i32). */
  row: Code;
}

/**
 * Emits `name(...inputs, out, rows, cols)` (i32 byte addresses and counts): every four floats of the
 * `rows x cols` matrix `out` (cols % 4 === 0; nothing when either is 0) are `value(inputs, at)`, given the
 * inputs' parameter locals.
 */
function emitMatrixMap(
  m: ModuleBuilder,
  name: string,
  inputs: number,
  value: (p: readonly number[], at: MatrixAt) => Code,
): void {
  const { fn } = m.addFunction(
    Array.from({ length: inputs + 3 }, () => 'i32' as const),
    [],
    name,
  );
  const p = fn.params.slice(0, inputs);
  const [out, rows, cols] = fn.params.slice(inputs);
  const [r, j, row, bytes] = fn.locals('i32', 4);
  const get = op.localGet;
  const address = (base: number): Code => op.i32Add(get(base), op.i32Add(get(row), get(j)));
  const at: MatrixAt = {
    at: (base) => op.v128Load(address(base)),
    col: (base) => op.v128Load(op.i32Add(get(base), get(j))),
    row: get(r),
  };
  fn.emit(
    op.block(
      op.brIf(0, op.i32Eqz(get(cols))),
      op.brIf(0, op.i32Eqz(get(rows))),
      op.localSet(bytes, op.i32Shl(get(cols), op.i32Const(2))),
      overRows(r, row, rows, bytes, overRow(j, bytes, op.v128Store(address(out), value(p, at)))),
    ),
  );
}

/**
 * Code copying an h x w plane of floats from byte address `src` (rows w floats apart) to byte address `dst`
 * (rows `wp` floats apart): four floats at a time, then each row's last w % 4 one by one. Locals `i`, `j`,
 * `s` and `d` are scratch (i32).
 */
function copyPlane(
  l: { i: number; j: number; s: number; d: number },
  src: Code,
  dst: Code,
  h: number,
  w: number,
  wp: number,
): Code {
  const { i, j, s, d } = l;
  const get = op.localGet;
  const i32 = op.i32Const;
  const add = op.i32Add;
  const at = (base: number): Code => add(get(base), op.i32Shl(get(j), i32(2)));
  return [
    op.localSet(s, src),
    op.localSet(d, dst),
    op.localSet(i, i32(0)),
    op.loop(
      op.localSet(j, i32(0)),
      op.block(
        op.loop(
          op.brIf(1, op.i32GtS(add(get(j), i32(4)), get(w))),
          op.v128Store(at(d), op.v128Load(at(s), { align: 2 }), { align: 2 }),
          op.localSet(j, add(get(j), i32(4))),
          op.br(0),
        ),
      ),
      op.block(
        op.loop(
          op.brIf(1, op.i32GeS(get(j), get(w))),
          op.f32Store(at(d), op.f32Load(at(s))),
          op.localSet(j, add(get(j), i32(1))),
          op.br(0),
        ),
      ),
      op.localSet(s, add(get(s), op.i32Shl(get(w), i32(2)))),
      op.localSet(d, add(get(d), op.i32Shl(get(wp), i32(2)))),
      op.brIf(0, op.i32LtU(op.localTee(i, add(get(i), i32(1))), get(h))),
    ),
  ];
}

/** The locals `rowStats` reads (xp, i, bytes, df, eps) and sets (acc and t are scratch). */
interface RowStatsLocals {
  xp: number;
  i: number;
  bytes: number;
  df: number;
  eps: number;
  acc: number;
  t: number;
  mean: number;
  meanv: number;
  inv: number;
  invv: number;
}

/**
 * Code setting `mean` (and its splat `meanv`) and `inv` = 1/√(var + eps) (and `invv`) of the row at `xp`:
 * two passes in f32x4 lanes, the statistics of layer norm and of its gradient.
 */
function rowStats(l: RowStatsLocals): Code {
  const get = op.localGet;
  return [
    op.localSet(l.acc, op.v128ConstF32x4([0, 0, 0, 0])),
    overRow(
      l.i,
      l.bytes,
      op.localSet(l.acc, op.f32x4Add(get(l.acc), op.v128Load(op.i32Add(get(l.xp), get(l.i))))),
    ),
    op.localSet(l.mean, op.f32Div(hsum(get(l.acc)), get(l.df))),
    op.localSet(l.meanv, op.f32x4Splat(get(l.mean))),
    op.localSet(l.acc, op.v128ConstF32x4([0, 0, 0, 0])),
    overRow(
      l.i,
      l.bytes,
      op.localSet(l.t, op.f32x4Sub(op.v128Load(op.i32Add(get(l.xp), get(l.i))), get(l.meanv))),
      op.localSet(l.acc, op.f32x4Add(get(l.acc), op.f32x4Mul(get(l.t), get(l.t)))),
    ),
    op.localSet(
      l.inv,
      op.f32Div(op.f32Const(1), op.f32Sqrt(op.f32Add(op.f32Div(hsum(get(l.acc)), get(l.df)), get(l.eps)))),
    ),
    op.localSet(l.invv, op.f32x4Splat(get(l.inv))),
  ];
}

/** Builds the module's binary. */
export function buildRowsModule(shared = true): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: 65536, shared });

  {
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32'], [], 'layer_norm');
    const [x, y, w, b, rows, d, eps] = fn.params;
    const [r, i, bytes, xp, yp] = fn.locals('i32', 5);
    const [mean, inv, df] = fn.locals('f32', 3);
    const [acc, t, meanv, invv] = fn.locals('v128', 4);
    const get = op.localGet;
    const stats = rowStats({ xp, i, bytes, df, eps, acc, t, mean, meanv, inv, invv });
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(rows))),
        op.brIf(0, op.i32Eqz(get(d))),
        op.localSet(bytes, op.i32Shl(get(d), op.i32Const(2))),
        op.localSet(df, op.f32ConvertI32S(get(d))),
        op.localSet(r, op.i32Const(0)),
        op.localSet(xp, get(x)),
        op.localSet(yp, get(y)),
        op.loop(
          stats,
          // y = (x - mean) * inv * w + b
          overRow(
            i,
            bytes,
            op.v128Store(
              op.i32Add(get(yp), get(i)),
              op.f32x4Add(
                op.f32x4Mul(
                  op.f32x4Mul(op.f32x4Sub(op.v128Load(op.i32Add(get(xp), get(i))), get(meanv)), get(invv)),
                  op.v128Load(op.i32Add(get(w), get(i))),
                ),
                op.v128Load(op.i32Add(get(b), get(i))),
              ),
            ),
          ),
          op.localSet(xp, op.i32Add(get(xp), get(bytes))),
          op.localSet(yp, op.i32Add(get(yp), get(bytes))),
          op.brIf(0, op.i32LtU(op.localTee(r, op.i32Add(get(r), op.i32Const(1))), get(rows))),
        ),
      ),
    );
  }

  {
    // layer_norm_grad(x, g, w, out, rows, d, eps): dx of layer norm for the cotangent g, four passes a row
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32'], [], 'layer_norm_grad');
    const [x, g, w, out, rows, d, eps] = fn.params;
    const [r, i, bytes, xp, gp, op_] = fn.locals('i32', 6);
    const [mean, rstd, df] = fn.locals('f32', 3);
    const [acc, acc2, t, gw, meanv, rstdv, m1v, kv] = fn.locals('v128', 8);
    const get = op.localGet;
    const xc = (): Code => op.f32x4Sub(op.v128Load(op.i32Add(get(xp), get(i))), get(meanv));
    const gTimesW = (): Code =>
      op.f32x4Mul(op.v128Load(op.i32Add(get(gp), get(i))), op.v128Load(op.i32Add(get(w), get(i))));
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(rows))),
        op.brIf(0, op.i32Eqz(get(d))),
        op.localSet(bytes, op.i32Shl(get(d), op.i32Const(2))),
        op.localSet(df, op.f32ConvertI32S(get(d))),
        op.localSet(r, op.i32Const(0)),
        op.localSet(xp, get(x)),
        op.localSet(gp, get(g)),
        op.localSet(op_, get(out)),
        op.loop(
          // mean and rstd, as the forward pass
          rowStats({ xp, i, bytes, df, eps, acc, t, mean, meanv, inv: rstd, invv: rstdv }),
          // m1 = mean(g·w), k = mean(g·w·(x - mean)) · rstd²
          op.localSet(acc, op.v128ConstF32x4([0, 0, 0, 0])),
          op.localSet(acc2, op.v128ConstF32x4([0, 0, 0, 0])),
          overRow(
            i,
            bytes,
            op.localSet(gw, gTimesW()),
            op.localSet(acc, op.f32x4Add(get(acc), get(gw))),
            op.localSet(acc2, op.f32x4Add(get(acc2), op.f32x4Mul(get(gw), xc()))),
          ),
          op.localSet(m1v, op.f32x4Splat(op.f32Div(hsum(get(acc)), get(df)))),
          op.localSet(
            kv,
            op.f32x4Splat(op.f32Mul(op.f32Div(hsum(get(acc2)), get(df)), op.f32Mul(get(rstd), get(rstd)))),
          ),
          // out = rstd · (g·w - m1 - (x - mean) · k)
          overRow(
            i,
            bytes,
            op.v128Store(
              op.i32Add(get(op_), get(i)),
              op.f32x4Mul(
                get(rstdv),
                op.f32x4Sub(op.f32x4Sub(gTimesW(), get(m1v)), op.f32x4Mul(xc(), get(kv))),
              ),
            ),
          ),
          op.localSet(xp, op.i32Add(get(xp), get(bytes))),
          op.localSet(gp, op.i32Add(get(gp), get(bytes))),
          op.localSet(op_, op.i32Add(get(op_), get(bytes))),
          op.brIf(0, op.i32LtU(op.localTee(r, op.i32Add(get(r), op.i32Const(1))), get(rows))),
        ),
      ),
    );
  }

  // add, mul and sub of two dense float arrays: out[i] = a[i] op b[i] for n (a multiple of 4) floats
  for (const [name, f] of [
    ['add', op.f32x4Add],
    ['mul', op.f32x4Mul],
    ['sub', op.f32x4Sub],
  ] as const) {
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32'], [], name);
    const [a, b, out, n] = fn.params;
    const [i, bytes] = fn.locals('i32', 2);
    const get = op.localGet;
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(n))),
        op.localSet(bytes, op.i32Shl(get(n), op.i32Const(2))),
        op.localSet(i, op.i32Const(0)),
        op.loop(
          op.v128Store(
            op.i32Add(get(out), get(i)),
            f(op.v128Load(op.i32Add(get(a), get(i))), op.v128Load(op.i32Add(get(b), get(i)))),
          ),
          op.brIf(0, op.i32LtU(op.localTee(i, op.i32Add(get(i), op.i32Const(16))), get(bytes))),
        ),
      ),
    );
  }
  // sigmoid and SiLU of whole f32x4 vectors: out[i] = s(x[i]) or x[i] · s(x[i]) for i < n - n % 4
  for (const name of ['sigmoid', 'silu'] as const) {
    const { fn } = m.addFunction(['i32', 'i32', 'i32'], [], name);
    const [x, out, n] = fn.params;
    const [i, bytes] = fn.locals('i32', 2);
    const [v, e, d, one] = fn.locals('v128', 4);
    const l = expLocals(fn);
    const get = op.localGet;
    // s = 1 / (1 + e) where x >= 0, e / (1 + e) elsewhere (NaN included), e = e^-|x|
    const sig = op.v128Bitselect(get(d), op.f32x4Mul(get(e), get(d)), op.f32x4Ge(get(v), get(l.zero)));
    fn.emit(
      op.block(
        op.localSet(bytes, op.i32Shl(op.i32And(get(n), op.i32Const(-4)), op.i32Const(2))),
        op.brIf(0, op.i32Eqz(get(bytes))),
        expConstants(l),
        op.localSet(one, splatF32(1)),
        op.localSet(i, op.i32Const(0)),
        op.loop(
          op.localSet(v, op.v128Load(op.i32Add(get(x), get(i)))),
          expNegAbs(v, e, l),
          op.localSet(d, op.f32x4Div(get(one), op.f32x4Add(get(one), get(e)))),
          op.v128Store(op.i32Add(get(out), get(i)), name === 'silu' ? op.f32x4Mul(get(v), sig) : sig),
          op.brIf(0, op.i32LtU(op.localTee(i, op.i32Add(get(i), op.i32Const(16))), get(bytes))),
        ),
      ),
    );
  }
  {
    // ss[j] = sum_i g[i, j]^2 over `rows` rows of `cols` floats (cols % 4 === 0)
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32'], [], 'col_sumsq');
    const [g, ss, rows, cols] = fn.params;
    const [r, j, bytes, gp] = fn.locals('i32', 4);
    const [v] = fn.locals('v128', 1);
    const get = op.localGet;
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(cols))),
        op.localSet(bytes, op.i32Shl(get(cols), op.i32Const(2))),
        overRow(j, bytes, op.v128Store(op.i32Add(get(ss), get(j)), op.v128ConstF32x4([0, 0, 0, 0]))),
        op.brIf(0, op.i32Eqz(get(rows))),
        op.localSet(r, op.i32Const(0)),
        op.localSet(gp, get(g)),
        op.loop(
          overRow(
            j,
            bytes,
            op.localSet(v, op.v128Load(op.i32Add(get(gp), get(j)))),
            op.v128Store(
              op.i32Add(get(ss), get(j)),
              op.f32x4Add(op.v128Load(op.i32Add(get(ss), get(j))), op.f32x4Mul(get(v), get(v))),
            ),
          ),
          op.localSet(gp, op.i32Add(get(gp), get(bytes))),
          op.brIf(0, op.i32LtU(op.localTee(r, op.i32Add(get(r), op.i32Const(1))), get(rows))),
        ),
      ),
    );
  }

  // out[i, j] = w[i, j] + g[i, j] * s[j] over `rows` rows of `cols` floats (cols % 4 === 0)
  emitMatrixMap(m, 'add_scaled_cols', 3, ([w, g, sc], { at, col }) =>
    op.f32x4Add(at(w), op.f32x4Mul(at(g), col(sc))),
  );
  // out[i, j] = a[i, j] + b[j] (a bias row), and a[i, j] + b[i] (a per-channel bias of NCHW planes)
  emitMatrixMap(m, 'add_row', 2, ([a, b], { at, col }) => op.f32x4Add(at(a), col(b)));
  emitMatrixMap(m, 'add_col', 2, ([a, b], { at, row }) =>
    op.f32x4Add(at(a), op.v128Load32Splat(op.i32Add(op.localGet(b), op.i32Shl(row, op.i32Const(2))))),
  );
  {
    // acc[j] += sum_i x[i, j] over `rows` rows of `cols` floats (cols % 4 === 0), acc in float64 (8 bytes
    // a column): blocks of up to eight rows are summed in f32x4 lanes, each block's sums widened and added
    // to the float64 totals (so the float32 rounding is that of eight terms, however many rows)
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32'], [], 'col_sum');
    const [x, acc, rows, cols] = fn.params;
    const [r, r1, j, bytes, row, p, ap, k] = fn.locals('i32', 8);
    const [v] = fn.locals('v128', 1);
    const get = op.localGet;
    const i32 = op.i32Const;
    const add = op.i32Add;
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(cols))),
        op.brIf(0, op.i32Eqz(get(rows))),
        op.localSet(bytes, op.i32Shl(get(cols), i32(2))),
        op.localSet(r, i32(0)),
        op.loop(
          // rows r .. r1 - 1 (at most eight)
          op.localSet(r1, add(get(r), i32(8))),
          op.if(op.i32GtS(get(r1), get(rows)), op.localSet(r1, get(rows))),
          op.localSet(row, add(get(x), op.i32Mul(get(r), get(bytes)))),
          op.localSet(j, i32(0)),
          op.loop(
            op.localSet(v, op.v128ConstF32x4([0, 0, 0, 0])),
            op.localSet(p, add(get(row), get(j))),
            op.localSet(k, get(r)),
            op.loop(
              op.localSet(v, op.f32x4Add(get(v), op.v128Load(get(p)))),
              op.localSet(p, add(get(p), get(bytes))),
              op.brIf(0, op.i32LtU(op.localTee(k, add(get(k), i32(1))), get(r1))),
            ),
            op.localSet(ap, add(get(acc), op.i32Shl(get(j), i32(1)))),
            op.v128Store(get(ap), op.f64x2Add(op.v128Load(get(ap)), op.f64x2PromoteLowF32x4(get(v)))),
            op.v128Store(
              get(ap),
              op.f64x2Add(
                op.v128Load(get(ap), { offset: 16 }),
                op.f64x2PromoteLowF32x4(op.i32x4Shuffle(get(v), get(v), [2, 3, 0, 1])),
              ),
              { offset: 16 },
            ),
            op.brIf(0, op.i32LtU(op.localTee(j, add(get(j), i32(16))), get(bytes))),
          ),
          op.localSet(r, get(r1)),
          op.brIf(0, op.i32LtU(get(r), get(rows))),
        ),
      ),
    );
  }
  {
    // acc[j] = sum_i g[i, j]^2 and acc[cols + j] = sum_i y[i, j] * g[i, j] (cols % 4 === 0): the column
    // sums of dyn_weight_grad in one pass
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32'], [], 'col_sumsq_dot');
    const [g, y, acc, rows, cols] = fn.params;
    const [r, j, bytes, row, acc2] = fn.locals('i32', 5);
    const [v] = fn.locals('v128', 1);
    const get = op.localGet;
    const at = (base: number) => op.i32Add(get(base), op.i32Add(get(row), get(j)));
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(cols))),
        op.localSet(bytes, op.i32Shl(get(cols), op.i32Const(2))),
        op.localSet(acc2, op.i32Add(get(acc), get(bytes))),
        overRow(
          j,
          bytes,
          op.v128Store(op.i32Add(get(acc), get(j)), op.v128ConstF32x4([0, 0, 0, 0])),
          op.v128Store(op.i32Add(get(acc2), get(j)), op.v128ConstF32x4([0, 0, 0, 0])),
        ),
        op.brIf(0, op.i32Eqz(get(rows))),
        overRows(
          r,
          row,
          rows,
          bytes,
          overRow(
            j,
            bytes,
            op.localSet(v, op.v128Load(at(g))),
            op.v128Store(
              op.i32Add(get(acc), get(j)),
              op.f32x4Add(op.v128Load(op.i32Add(get(acc), get(j))), op.f32x4Mul(get(v), get(v))),
            ),
            op.v128Store(
              op.i32Add(get(acc2), get(j)),
              op.f32x4Add(op.v128Load(op.i32Add(get(acc2), get(j))), op.f32x4Mul(op.v128Load(at(y)), get(v))),
            ),
          ),
        ),
      ),
    );
  }
  // out[i, j] = x[i, j] * a[j] + y[i, j] * b[j] over `rows` rows of `cols` floats (cols % 4 === 0)
  emitMatrixMap(m, 'combine_cols', 4, ([x, a, y, b], { at, col }) =>
    op.f32x4Add(op.f32x4Mul(at(x), col(a)), op.f32x4Mul(at(y), col(b))),
  );
  {
    // Depthwise 3x3, stride 1, zero padding 1, over `planes` = N·C planes of h x w floats: plane p uses
    // kernel k + 36 (p % c) (9 floats) and bias[p % c] (bias 0: none). Each plane is copied into a
    // zero-bordered scratch of (h + 2) rows of `wp` floats (the caller zeroes it once; only the interior is
    // rewritten), then every output row is computed four columns at a time; a row's last 1-3 columns are
    // stored lane by lane so nothing is written past the row.
    const { fn } = m.addFunction(
      ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
      [],
      'depthwise3x3',
    );
    const [x, k, bias, y, planes, c, h, w, scratch, wp] = fn.params;
    const [p, i, j, src, dst, row, kp, rowBytes, lanes] = fn.locals('i32', 9);
    const copy = { i, j, s: fn.local('i32'), d: fn.local('i32') };
    const rows = fn.locals('i32', 3);
    const jb = fn.local('i32');
    const [bv] = fn.locals('f32', 1);
    const [acc] = fn.locals('v128', 1);
    const taps = fn.locals('v128', 9);
    const get = op.localGet;
    const i32 = op.i32Const;
    const add = op.i32Add;
    const mul = op.i32Mul;
    // byte address in the scratch of padded (row r, column col)
    const sp = (r: Code, col: Code): Code => add(get(scratch), op.i32Shl(add(mul(r, get(wp)), col), i32(2)));
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(planes))),
        op.brIf(0, op.i32Eqz(get(w))),
        op.brIf(0, op.i32Eqz(get(h))),
        op.localSet(rowBytes, op.i32Shl(get(w), i32(2))),
        op.localSet(p, i32(0)),
        op.localSet(src, get(x)),
        op.localSet(dst, get(y)),
        op.loop(
          // taps and bias of this plane
          op.localSet(kp, add(get(k), mul(op.i32RemU(get(p), get(c)), i32(36)))),
          ...taps.map((t, q) => op.localSet(t, op.v128Load32Splat(get(kp), { offset: 4 * q }))),
          op.localSet(
            bv,
            op.ifValue(
              'f32',
              op.i32Eqz(get(bias)),
              op.f32Const(0),
              op.f32Load(add(get(bias), op.i32Shl(op.i32RemU(get(p), get(c)), i32(2)))),
            ),
          ),
          // copy the plane into the scratch's interior (row r + 1, columns 1..w)
          copyPlane(copy, get(src), sp(i32(1), i32(1)), h, w, wp),
          // output rows (input rows i..i+2 of the scratch at byte addresses in rows[0..2]; taps by offset)
          op.localSet(i, i32(0)),
          op.loop(
            op.localSet(row, add(get(dst), mul(get(i), get(rowBytes)))),
            ...rows.map((r, u) => op.localSet(r, sp(add(get(i), i32(u)), i32(0)))),
            op.localSet(j, i32(0)),
            op.loop(
              op.localSet(acc, op.f32x4Splat(get(bv))),
              op.localSet(jb, op.i32Shl(get(j), i32(2))),
              ...[0, 1, 2].flatMap((u) =>
                [0, 1, 2].map((v) =>
                  op.localSet(
                    acc,
                    op.f32x4Add(
                      get(acc),
                      op.f32x4Mul(
                        get(taps[3 * u + v]),
                        op.v128Load(add(get(rows[u]), get(jb)), { offset: 4 * v, align: 2 }),
                      ),
                    ),
                  ),
                ),
              ),
              op.localSet(lanes, op.i32Sub(get(w), get(j))),
              op.if(
                op.i32GeS(get(lanes), i32(4)),
                op.v128Store(add(get(row), op.i32Shl(get(j), i32(2))), get(acc)),
                [
                  op.f32Store(add(get(row), op.i32Shl(get(j), i32(2))), op.f32x4ExtractLane(get(acc), 0)),
                  op.if(
                    op.i32GtS(get(lanes), i32(1)),
                    op.f32Store(add(get(row), op.i32Shl(get(j), i32(2))), op.f32x4ExtractLane(get(acc), 1), {
                      offset: 4,
                    }),
                  ),
                  op.if(
                    op.i32GtS(get(lanes), i32(2)),
                    op.f32Store(add(get(row), op.i32Shl(get(j), i32(2))), op.f32x4ExtractLane(get(acc), 2), {
                      offset: 8,
                    }),
                  ),
                ],
              ),
              op.brIf(0, op.i32LtS(op.localTee(j, add(get(j), i32(4))), get(w))),
            ),
            op.brIf(0, op.i32LtU(op.localTee(i, add(get(i), i32(1))), get(h))),
          ),
          op.localSet(src, add(get(src), mul(get(h), get(rowBytes)))),
          op.localSet(dst, add(get(dst), mul(get(h), get(rowBytes)))),
          op.brIf(0, op.i32LtU(op.localTee(p, add(get(p), i32(1))), get(planes))),
        ),
      ),
    );
  }
  {
    // The weight gradient of that depthwise 3x3 (stride 1, zero padding 1) over `planes` = N·C planes:
    // out[(p % c)·9 + 3u + v] += Σ_{i,j} g[p, i, j] · x[p, i + u - 1, j + v - 1]. Each x plane is copied into
    // a zero-bordered scratch of (h + 2) rows of `wp` floats, each g plane into the h rows of `wp` floats
    // after it, whose columns w.. stay zero (the caller zeroes both once; only the interiors are
    // rewritten), so every row runs four columns at a time and the zero columns of g cancel the overhang.
    const { fn } = m.addFunction(
      ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
      [],
      'depthwise3x3_wgrad',
    );
    const [x, g, out, planes, c, h, w, scratch, wp] = fn.params;
    const [p, i, j, srcX, srcG, gs, op_, rowBytes] = fn.locals('i32', 8);
    const copy = { i, j, s: fn.local('i32'), d: fn.local('i32') };
    const rows = fn.locals('i32', 3);
    const [gRow, jb] = fn.locals('i32', 2);
    const [gv] = fn.locals('v128', 1);
    const acc = fn.locals('v128', 9);
    const get = op.localGet;
    const i32 = op.i32Const;
    const add = op.i32Add;
    const mul = op.i32Mul;
    // byte address in the x scratch of padded (row r, column col), and in the g scratch of (row r, col)
    const sp = (r: Code, col: Code): Code => add(get(scratch), op.i32Shl(add(mul(r, get(wp)), col), i32(2)));
    const gp = (r: Code, col: Code): Code => add(get(gs), op.i32Shl(add(mul(r, get(wp)), col), i32(2)));
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(planes))),
        op.brIf(0, op.i32Eqz(get(w))),
        op.brIf(0, op.i32Eqz(get(h))),
        op.localSet(rowBytes, op.i32Shl(get(w), i32(2))),
        op.localSet(gs, sp(add(get(h), i32(2)), i32(0))),
        op.localSet(p, i32(0)),
        op.localSet(srcX, get(x)),
        op.localSet(srcG, get(g)),
        op.loop(
          // copy the planes: x into the padded interior (row i + 1, columns 1..w), g into rows 0..h-1
          copyPlane(copy, get(srcX), sp(i32(1), i32(1)), h, w, wp),
          copyPlane(copy, get(srcG), gp(i32(0), i32(0)), h, w, wp),
          ...acc.map((a) => op.localSet(a, op.v128ConstF32x4([0, 0, 0, 0]))),
          op.localSet(i, i32(0)),
          op.loop(
            // x rows i..i+2 of the scratch and g row i at byte addresses; the taps by offset
            ...rows.map((r, u) => op.localSet(r, sp(add(get(i), i32(u)), i32(0)))),
            op.localSet(gRow, gp(get(i), i32(0))),
            op.localSet(j, i32(0)),
            op.loop(
              op.localSet(jb, op.i32Shl(get(j), i32(2))),
              op.localSet(gv, op.v128Load(add(get(gRow), get(jb)), { align: 2 })),
              ...[0, 1, 2].flatMap((u) =>
                [0, 1, 2].map((v) =>
                  op.localSet(
                    acc[3 * u + v],
                    op.f32x4Add(
                      get(acc[3 * u + v]),
                      op.f32x4Mul(
                        get(gv),
                        op.v128Load(add(get(rows[u]), get(jb)), { offset: 4 * v, align: 2 }),
                      ),
                    ),
                  ),
                ),
              ),
              op.brIf(0, op.i32LtS(op.localTee(j, add(get(j), i32(4))), get(w))),
            ),
            op.brIf(0, op.i32LtU(op.localTee(i, add(get(i), i32(1))), get(h))),
          ),
          // out[(p % c)·9 + t] += the four lanes of acc[t]
          op.localSet(op_, add(get(out), mul(op.i32RemU(get(p), get(c)), i32(36)))),
          ...acc.map((a, t) =>
            op.f32Store(get(op_), op.f32Add(op.f32Load(get(op_), { offset: 4 * t }), hsum(get(a))), {
              offset: 4 * t,
            }),
          ),
          op.localSet(srcX, add(get(srcX), mul(get(h), get(rowBytes)))),
          op.localSet(srcG, add(get(srcG), mul(get(h), get(rowBytes)))),
          op.brIf(0, op.i32LtU(op.localTee(p, add(get(p), i32(1))), get(planes))),
        ),
      ),
    );
  }
  {
    // dst[i·n + j] = src[j·ss + i] for i < m, j < n: a transpose (src rows of stride ss floats), four by
    // four through lane shuffles; the last m % 4 rows and n % 4 columns one float at a time
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32'], [], 'transpose');
    const [src, dst, rows, cols, ss] = fn.params;
    const [i, j, i4, j4, sp, dp] = fn.locals('i32', 6);
    const r = fn.locals('v128', 4);
    const t = fn.locals('v128', 4);
    const get = op.localGet;
    const i32 = op.i32Const;
    const add = op.i32Add;
    const mul = op.i32Mul;
    const srcAt = (row: Code, col: Code): Code =>
      add(get(src), op.i32Shl(add(mul(row, get(ss)), col), i32(2)));
    const dstAt = (row: Code, col: Code): Code =>
      add(get(dst), op.i32Shl(add(mul(row, get(cols)), col), i32(2)));
    // one element: dst[i, j] = src[j, i]
    const one = (ii: Code, jj: Code): Code => op.f32Store(dstAt(ii, jj), op.f32Load(srcAt(jj, ii)));
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(rows))),
        op.brIf(0, op.i32Eqz(get(cols))),
        op.localSet(i4, op.i32And(get(rows), i32(-4))),
        op.localSet(j4, op.i32And(get(cols), i32(-4))),
        op.localSet(i, i32(0)),
        op.block(
          op.brIf(0, op.i32Eqz(get(i4))),
          op.loop(
            op.localSet(j, i32(0)),
            op.block(
              op.brIf(0, op.i32Eqz(get(j4))),
              op.loop(
                op.localSet(sp, srcAt(get(j), get(i))),
                op.localSet(dp, dstAt(get(i), get(j))),
                ...r.map((v, k) =>
                  op.localSet(v, op.v128Load(add(get(sp), op.i32Shl(mul(i32(k), get(ss)), i32(2))))),
                ),
                op.localSet(t[0], op.i32x4Shuffle(get(r[0]), get(r[1]), [0, 4, 1, 5])),
                op.localSet(t[1], op.i32x4Shuffle(get(r[0]), get(r[1]), [2, 6, 3, 7])),
                op.localSet(t[2], op.i32x4Shuffle(get(r[2]), get(r[3]), [0, 4, 1, 5])),
                op.localSet(t[3], op.i32x4Shuffle(get(r[2]), get(r[3]), [2, 6, 3, 7])),
                ...[
                  [0, 2, [0, 1, 4, 5]],
                  [0, 2, [2, 3, 6, 7]],
                  [1, 3, [0, 1, 4, 5]],
                  [1, 3, [2, 3, 6, 7]],
                ].map(([a, b, lanes], k) =>
                  op.v128Store(
                    add(get(dp), op.i32Shl(mul(i32(k), get(cols)), i32(2))),
                    op.i32x4Shuffle(
                      get(t[a as number]),
                      get(t[b as number]),
                      lanes as [number, number, number, number],
                    ),
                  ),
                ),
                op.brIf(0, op.i32LtU(op.localTee(j, add(get(j), i32(4))), get(j4))),
              ),
            ),
            // the last n % 4 columns of these four rows
            op.block(
              op.brIf(0, op.i32GeS(get(j), get(cols))),
              op.loop(
                ...[0, 1, 2, 3].map((k) => one(add(get(i), i32(k)), get(j))),
                op.brIf(0, op.i32LtU(op.localTee(j, add(get(j), i32(1))), get(cols))),
              ),
            ),
            op.brIf(0, op.i32LtU(op.localTee(i, add(get(i), i32(4))), get(i4))),
          ),
        ),
        // the last m % 4 rows
        op.block(
          op.brIf(0, op.i32GeS(get(i), get(rows))),
          op.loop(
            op.localSet(j, i32(0)),
            op.loop(
              one(get(i), get(j)),
              op.brIf(0, op.i32LtU(op.localTee(j, add(get(j), i32(1))), get(cols))),
            ),
            op.brIf(0, op.i32LtU(op.localTee(i, add(get(i), i32(1))), get(rows))),
          ),
        ),
      ),
    );
  }
  return m.build();
}

/** The compiled module over a shared memory, and over a plain one. */
const compiled: { shared?: WebAssembly.Module; plain?: WebAssembly.Module } = {};

/** Instantiates the row kernels on `heap`'s memory (the module is generated and compiled once per kind). */
export function createRowKernels(heap: WasmHeap): RowKernels {
  const kind = heap.shared ? 'shared' : 'plain';
  const mod = compiled[kind] ?? new WebAssembly.Module(buildRowsModule(heap.shared));
  compiled[kind] = mod;
  const ex = new WebAssembly.Instance(mod, { env: { memory: heap.memory } }).exports as unknown as {
    layer_norm: RowKernels['layerNorm'];
    layer_norm_grad: RowKernels['layerNormGrad'];
    add: RowKernels['add'];
    mul: RowKernels['mul'];
    sub: RowKernels['sub'];
    sigmoid: RowKernels['sigmoid'];
    silu: RowKernels['silu'];
    col_sumsq: RowKernels['colSumSq'];
    add_scaled_cols: RowKernels['addScaledCols'];
    col_sumsq_dot: RowKernels['colSumSqDot'];
    combine_cols: RowKernels['combineCols'];
    depthwise3x3: RowKernels['depthwise3x3'];
    depthwise3x3_wgrad: RowKernels['depthwise3x3WeightGrad'];
    transpose: RowKernels['transpose'];
    col_sum: RowKernels['colSum'];
    add_row: RowKernels['addRow'];
    add_col: RowKernels['addCol'];
  };
  return {
    layerNorm: ex.layer_norm,
    layerNormGrad: ex.layer_norm_grad,
    add: ex.add,
    mul: ex.mul,
    sub: ex.sub,
    sigmoid: ex.sigmoid,
    silu: ex.silu,
    colSumSq: ex.col_sumsq,
    addScaledCols: ex.add_scaled_cols,
    colSumSqDot: ex.col_sumsq_dot,
    combineCols: ex.combine_cols,
    depthwise3x3: ex.depthwise3x3,
    depthwise3x3WeightGrad: ex.depthwise3x3_wgrad,
    transpose: ex.transpose,
    colSum: ex.col_sum,
    addRow: ex.add_row,
    addCol: ex.add_col,
  };
}
