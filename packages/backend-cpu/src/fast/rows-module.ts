// WebAssembly SIMD row kernels of the fast CPU path, generated from TypeScript like the gemm module: layer
// norm over the last axis (with its affine weight and bias), the same-shape elementwise add and the two
// passes of DynLinear's normalized weight. They run on the backend's heap, four floats per instruction; a
// scalar JavaScript loop takes 4-10 ns per element here, these about one. Rows must be a multiple of 4 floats long (the callers check; others stay in JavaScript).
//
// layer_norm(x, y, w, b, rows, d, eps), two passes per row in f32x4 lanes:
//   mean = Σx / d;  var = Σ(x - mean)² / d;  y = (x - mean) · (1/√(var + eps)) · w + b
// add(a, b, out, n): out[i] = a[i] + b[i] for n (a multiple of 4) floats.
// col_sumsq and add_scaled_cols: the two passes of dyn_weight (column sums of squares; w + g · s[col]).

import type { WasmHeap } from './heap.js';
import { type Code, ModuleBuilder, op } from './wasm-emitter.js';

/** The exports of the row-kernel module (byte addresses in the heap). */
export interface RowKernels {
  /** Layer norm of `rows` rows of `d` floats (d % 4 === 0) at `x` into `y`, with weight `w` and bias `b`. */
  layerNorm(x: number, y: number, w: number, b: number, rows: number, d: number, eps: number): void;
  /** `out = a + b` over `n` floats (n % 4 === 0). */
  add(a: number, b: number, out: number, n: number): void;
  /** `ss[j] = Σ_i g[i, j]²` for a `rows x cols` matrix `g` (cols % 4 === 0). */
  colSumSq(g: number, ss: number, rows: number, cols: number): void;
  /** `out[i, j] = w[i, j] + g[i, j] · s[j]` for `rows x cols` matrices (cols % 4 === 0). */
  addScaledCols(w: number, g: number, s: number, out: number, rows: number, cols: number): void;
}

/** Sum of the four lanes of `v`. */
const hsum = (v: Code): Code =>
  op.f32Add(
    op.f32Add(op.f32x4ExtractLane(v, 0), op.f32x4ExtractLane(v, 1)),
    op.f32Add(op.f32x4ExtractLane(v, 2), op.f32x4ExtractLane(v, 3)),
  );

/** Builds the module's binary. */
export function buildRowsModule(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: 65536, shared: true });

  {
    const { fn } = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32'], [], 'layer_norm');
    const [x, y, w, b, rows, d, eps] = fn.params;
    const [r, i, bytes, xp, yp] = fn.locals('i32', 5);
    const [mean, inv, df] = fn.locals('f32', 3);
    const [acc, t, meanv, invv] = fn.locals('v128', 4);
    const get = op.localGet;
    // each loop walks byte offsets i = 0, 16, ... < bytes over the row
    const overRow = (...body: Code[]): Code => [
      op.localSet(i, op.i32Const(0)),
      op.loop(...body, op.brIf(0, op.i32LtU(op.localTee(i, op.i32Add(get(i), op.i32Const(16))), get(bytes)))),
    ];
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
          // mean
          op.localSet(acc, op.v128ConstF32x4([0, 0, 0, 0])),
          overRow(op.localSet(acc, op.f32x4Add(get(acc), op.v128Load(op.i32Add(get(xp), get(i)))))),
          op.localSet(mean, op.f32Div(hsum(get(acc)), get(df))),
          op.localSet(meanv, op.f32x4Splat(get(mean))),
          // variance
          op.localSet(acc, op.v128ConstF32x4([0, 0, 0, 0])),
          overRow(
            op.localSet(t, op.f32x4Sub(op.v128Load(op.i32Add(get(xp), get(i))), get(meanv))),
            op.localSet(acc, op.f32x4Add(get(acc), op.f32x4Mul(get(t), get(t)))),
          ),
          op.localSet(
            inv,
            op.f32Div(op.f32Const(1), op.f32Sqrt(op.f32Add(op.f32Div(hsum(get(acc)), get(df)), get(eps)))),
          ),
          op.localSet(invv, op.f32x4Splat(get(inv))),
          // y = (x - mean) * inv * w + b
          overRow(
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
    const overCols = (...body: Code[]): Code => [
      op.localSet(j, op.i32Const(0)),
      op.loop(...body, op.brIf(0, op.i32LtU(op.localTee(j, op.i32Add(get(j), op.i32Const(16))), get(bytes)))),
    ];
    fn.emit(
      op.block(
        op.brIf(0, op.i32Eqz(get(cols))),
        op.localSet(bytes, op.i32Shl(get(cols), op.i32Const(2))),
        overCols(op.v128Store(op.i32Add(get(ss), get(j)), op.v128ConstF32x4([0, 0, 0, 0]))),
        op.brIf(0, op.i32Eqz(get(rows))),
        op.localSet(r, op.i32Const(0)),
        op.localSet(gp, get(g)),
        op.loop(
          overCols(
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
          op.localSet(j, op.i32Const(0)),
          op.loop(
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
            op.brIf(0, op.i32LtU(op.localTee(j, op.i32Add(get(j), op.i32Const(16))), get(bytes))),
          ),
          op.localSet(row, op.i32Add(get(row), get(bytes))),
          op.brIf(0, op.i32LtU(op.localTee(r, op.i32Add(get(r), op.i32Const(1))), get(rows))),
        ),
      ),
    );
  }
  return m.build();
}

let compiled: WebAssembly.Module | undefined;

/** Instantiates the row kernels on `heap`'s memory (the module is generated and compiled once). */
export function createRowKernels(heap: WasmHeap): RowKernels {
  compiled ??= new WebAssembly.Module(buildRowsModule());
  const ex = new WebAssembly.Instance(compiled, { env: { memory: heap.memory } }).exports as unknown as {
    layer_norm: RowKernels['layerNorm'];
    add: RowKernels['add'];
    col_sumsq: RowKernels['colSumSq'];
    add_scaled_cols: RowKernels['addScaledCols'];
  };
  return {
    layerNorm: ex.layer_norm,
    add: ex.add,
    colSumSq: ex.col_sumsq,
    addScaledCols: ex.add_scaled_cols,
  };
}
