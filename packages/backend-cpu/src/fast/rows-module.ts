// WebAssembly SIMD row kernels of the fast CPU path, generated from TypeScript like the gemm module: layer
// norm over the last axis (with its affine weight and bias), the same-shape elementwise add, the two
// passes of DynLinear's normalized weight, and the depthwise 3x3 convolution. They run on the backend's
// heap, four floats per instruction; a scalar JavaScript loop takes 4-10 ns per element here, these about
// one. Rows must be a multiple of 4 floats long where noted (the callers check; others stay in JavaScript).
//
// layer_norm(x, y, w, b, rows, d, eps), two passes per row in f32x4 lanes:
//   mean = Σx / d;  var = Σ(x - mean)² / d;  y = (x - mean) · (1/√(var + eps)) · w + b
// layer_norm_grad(x, g, w, out, rows, d, eps), its input gradient in four passes per row (rstd as above):
//   m1 = Σ g·w / d;  k = Σ g·w·(x - mean) / d · rstd²;  out = rstd · (g·w - m1 - (x - mean) · k)
// add(a, b, out, n): out[i] = a[i] + b[i] for n (a multiple of 4) floats.
// col_sumsq and add_scaled_cols: the two passes of dyn_weight (column sums of squares; w + g · s[col]).

import type { WasmHeap } from './heap.js';
import { type Code, ModuleBuilder, op } from './wasm-emitter.js';

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
  /** `out[i, j] = w[i, j] + g[i, j] · s[j]` for `rows x cols` matrices (cols % 4 === 0). */
  addScaledCols(w: number, g: number, s: number, out: number, rows: number, cols: number): void;
}

/** Sum of the four lanes of `v`. */
const hsum = (v: Code): Code =>
  op.f32Add(
    op.f32Add(op.f32x4ExtractLane(v, 0), op.f32x4ExtractLane(v, 1)),
    op.f32Add(op.f32x4ExtractLane(v, 2), op.f32x4ExtractLane(v, 3)),
  );

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

  {
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32'], [], 'add');
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
            op.f32x4Add(op.v128Load(op.i32Add(get(a), get(i))), op.v128Load(op.i32Add(get(b), get(i)))),
          ),
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

  {
    // out[i, j] = w[i, j] + g[i, j] * s[j] over `rows` rows of `cols` floats (cols % 4 === 0)
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], 'add_scaled_cols');
    const [w, g, sc, out, rows, cols] = fn.params;
    const [r, j, bytes, row] = fn.locals('i32', 4);
    const get = op.localGet;
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(cols))),
        op.brIf(0, op.i32Eqz(get(rows))),
        op.localSet(bytes, op.i32Shl(get(cols), op.i32Const(2))),
        op.localSet(r, op.i32Const(0)),
        op.localSet(row, op.i32Const(0)),
        op.loop(
          overRow(
            j,
            bytes,
            op.v128Store(
              op.i32Add(get(out), op.i32Add(get(row), get(j))),
              op.f32x4Add(
                op.v128Load(op.i32Add(get(w), op.i32Add(get(row), get(j)))),
                op.f32x4Mul(
                  op.v128Load(op.i32Add(get(g), op.i32Add(get(row), get(j)))),
                  op.v128Load(op.i32Add(get(sc), get(j))),
                ),
              ),
            ),
          ),
          op.localSet(row, op.i32Add(get(row), get(bytes))),
          op.brIf(0, op.i32LtU(op.localTee(r, op.i32Add(get(r), op.i32Const(1))), get(rows))),
        ),
      ),
    );
  }
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
          op.localSet(i, i32(0)),
          op.loop(
            op.localSet(j, i32(0)),
            op.loop(
              op.f32Store(
                sp(add(get(i), i32(1)), add(get(j), i32(1))),
                op.f32Load(add(get(src), op.i32Shl(add(mul(get(i), get(w)), get(j)), i32(2)))),
              ),
              op.brIf(0, op.i32LtU(op.localTee(j, add(get(j), i32(1))), get(w))),
            ),
            op.brIf(0, op.i32LtU(op.localTee(i, add(get(i), i32(1))), get(h))),
          ),
          // output rows
          op.localSet(i, i32(0)),
          op.loop(
            op.localSet(row, add(get(dst), mul(get(i), get(rowBytes)))),
            op.localSet(j, i32(0)),
            op.loop(
              op.localSet(acc, op.f32x4Splat(get(bv))),
              ...[0, 1, 2].flatMap((u) =>
                [0, 1, 2].map((v) =>
                  op.localSet(
                    acc,
                    op.f32x4Add(
                      get(acc),
                      op.f32x4Mul(
                        get(taps[3 * u + v]),
                        op.v128Load(sp(add(get(i), i32(u)), add(get(j), i32(v)))),
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
    col_sumsq: RowKernels['colSumSq'];
    add_scaled_cols: RowKernels['addScaledCols'];
    depthwise3x3: RowKernels['depthwise3x3'];
  };
  return {
    layerNorm: ex.layer_norm,
    layerNormGrad: ex.layer_norm_grad,
    add: ex.add,
    colSumSq: ex.col_sumsq,
    addScaledCols: ex.add_scaled_cols,
    depthwise3x3: ex.depthwise3x3,
  };
}
