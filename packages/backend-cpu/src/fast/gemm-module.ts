// The WebAssembly matrix-product module of the fast CPU path, generated from TypeScript (no toolchain), and
// its JavaScript wrapper. C[m, n] = sum_k A[m, k] B[k, n] with an optional fused epilogue
// (+ bias[n], + old C, exact GELU), for any strides of A, on a B packed once into column panels.
//
// Algorithm (the GotoBLAS/BLIS loop nest, on the rows [m0, m1) given to this thread):
//   for each block of KC depths:                    (keeps one B micro-panel, KC x NR, in L1)
//     for each block of MC rows:                    (pack_a: MC x KC of A, k-major in MR-row panels, in L2)
//       for each NR-column panel of packed B:
//         for each MR-row panel of packed A:
//           microkernel: an MR x NR tile of C in MR * NR/4 f32x4 registers, one rank-1 update per depth,
//                        then the epilogue (+ old C, + bias), stored straight into C (or via a scratch
//                        tile at the edges).
//       after the last depth block: GELU over the block's finished rows of C, while they are in cache.
// B is packed by the caller (`pack_b`) once per weight: panel-major, k-major inside a panel, NR floats per
// depth, zero-padded past N. A is packed per call into a per-instance scratch area, so every stride of A
// (row-major, transposed, a strided view) costs the same and the microkernel reads one contiguous stream.
// Zero padding makes the edge tiles ordinary tiles: only the store differs.
//
// Each instance (the main thread's and one per worker thread) owns its scratch area, whose address lives in
// a mutable global set once with `set_scratch`; the memory, A, packed B and C are shared.

import { addErfFunctions } from './gelu-erf.js';
import type { WasmHeap } from './heap.js';
import {
  type Code,
  type FunctionBuilder,
  ModuleBuilder,
  op,
  relaxedSimdSupported,
  type ValType,
} from './wasm-emitter.js';

/** Tile sizes and unrolling of the generated kernels. */
export interface GemmConfig {
  /** Rows of the register tile (accumulators: MR * NR/4 f32x4). */
  mr: number;
  /** Columns of the register tile and of a packed-B panel (multiple of 4). */
  nr: number;
  /** Largest depth block: the microkernel runs over at most KC depths at a time (K is cut evenly). */
  kc: number;
  /** Row block packed from A at a time (multiple of MR). */
  mc: number;
  /** Depth steps unrolled in the microkernel's main loop. */
  unroll: number;
  /** Use `f32x4.relaxed_madd` (must be validated by the runtime) instead of `f32x4.mul` + `f32x4.add`. */
  relaxed: boolean;
}

/**
 * Tile sizes chosen by measurement (AMD EPYC Zen 5, Node 20 / V8 11.3; `gemm.bench-report.test.ts`):
 * 4 x 8 without unrolling keeps the microkernel in registers (see `emitMicrokernel`); wider tiles or unrolled
 * depth loops spill and ran 10-25% slower. Depth blocks of at most KC = 512 (K is cut into equal blocks) keep
 * a B micro-panel (16 KiB) and an A micro-panel (8 KiB) in L1 and C is passed over at most twice for
 * K <= 1024; MC = 64 keeps the packed A block (128 KiB) in L2. KC and MC mattered little (within the
 * measurement noise of a shared machine) between 256 and 768, and 32 and 128.
 */
export const DEFAULT_GEMM_CONFIG: Omit<GemmConfig, 'relaxed'> = { mr: 4, nr: 8, kc: 512, mc: 64, unroll: 1 };

/** Epilogue flag bits of `gemm`. */
export const GemmFlags = {
  /** C += A B instead of C = A B (with bias and GELU applied after the sum). */
  accumulate: 1,
  /** Apply exact GELU to the result (after bias and accumulation). */
  gelu: 2,
} as const;

/** Microkernel mode bits (internal): add the old C; add the bias. */
const MODE_LOAD_C = 1;
const MODE_BIAS = 2;

/** Byte offsets of the parts of an instance's scratch area: packed A block, edge tile of C, its bias. */
function scratchLayout(config: Omit<GemmConfig, 'relaxed'>): { tile: number; bias: number; end: number } {
  const tile = 4 * config.mc * config.kc;
  const bias = tile + 4 * config.mr * config.nr;
  return { tile, bias, end: bias + 4 * config.nr };
}

/** Bytes of the per-instance scratch area for `config` (packed A block, edge tile of C and its bias). */
export function gemmScratchBytes(config: Omit<GemmConfig, 'relaxed'>): number {
  return scratchLayout(config).end;
}

/** Bytes of B [K, N] packed by `pack_b` into panels of `nr` columns. */
export function packedBSize(K: number, N: number, nr: number = DEFAULT_GEMM_CONFIG.nr): number {
  return 4 * K * Math.ceil(N / nr) * nr;
}

/** Signature of the exported `gemm` (all i32; pointers and strides as described on `Gemm.gemm`). */
const GEMM_PARAMS = 13;

/**
 * Generates the module for `config`. It imports a shared memory `env.memory` declared with the largest
 * maximum (4 GiB), which accepts any shared memory (an import's maximum is an upper bound), so one module
 * serves every heap (`shared = false`: the same code over a plain memory, for one thread). Exports: `set_scratch(ptr)`, `pack_b`, `pack_a`, `gemm`, `erf_f32(ptr, n)`,
 * `gelu_f32(ptr, n)`, `gelu_grad_f32(x, g, out, n)` (see `GemmExports`).
 */
export function buildGemmModule(config: GemmConfig, shared = true): Uint8Array<ArrayBuffer> {
  const { mr, nr, kc: KC, mc: MC } = config;
  if (nr % 4 !== 0 || MC % mr !== 0) throw new Error('buildGemmModule: nr must be a multiple of 4, mc of mr');
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: 65536, shared });
  const scratch = m.addMutableGlobalI32(0);
  const layout = scratchLayout(config);

  const { geluSpan } = addErfFunctions(m, config.relaxed, {
    erf: 'erf_f32',
    gelu: 'gelu_f32',
    geluTo: 'gelu_to_f32',
    geluGrad: 'gelu_grad_f32',
  });
  const kernel = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], []);
  emitMicrokernel(kernel.fn, config);
  const packA = m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], 'pack_a');
  emitPackA(packA.fn, mr);

  const setScratch = m.addFunction(['i32'], [], 'set_scratch').fn;
  setScratch.emit(op.globalSet(scratch, op.localGet(0)));
  emitPackB(m.addFunction(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], 'pack_b').fn, nr);
  emitGemm(
    m.addFunction(
      Array.from({ length: GEMM_PARAMS }, (): ValType => 'i32'),
      [],
      'gemm',
    ).fn,
    config,
    {
      scratch,
      scratchTile: layout.tile,
      scratchBias: layout.bias,
      kernel: kernel.index,
      packA: packA.index,
      geluSpan,
      MC,
      KC,
    },
  );
  return m.build();
}

// ---------------------------------------------------------------------------------------------------------
// Code generation helpers
// ---------------------------------------------------------------------------------------------------------

const get = op.localGet;
const set = op.localSet;
const i32 = op.i32Const;
const add = op.i32Add;
const mul = op.i32Mul;
/** `local += delta` (i32). */
const inc = (local: number, delta: Code): Code => set(local, add(get(local), delta));

/** `for (i = from; i < to; i += step) body` over i32 locals (`to` re-evaluated each iteration). */
function forLoop(i: number, from: Code, to: Code, step: Code, ...body: Code[]): Code {
  return [set(i, from), op.block(op.loop(op.brIf(1, op.i32GeS(get(i), to)), body, inc(i, step), op.br(0)))];
}

/** `min(a, b)` for i32 values (both evaluated). */
function minS(a: Code, b: Code, ta: number, tb: number): Code {
  return op.select(op.localTee(ta, a), op.localTee(tb, b), op.i32LtS(get(ta), get(tb)));
}

// ---------------------------------------------------------------------------------------------------------
// Microkernel
// ---------------------------------------------------------------------------------------------------------

/**
 * `kernel(kc, pA, pB, pC, ldcBytes, pBias, mode)`: an MR x NR tile of C from a packed A micro-panel (kc x MR,
 * k-major) and a packed B micro-panel (kc x NR, k-major). Mode bits: 1 add the old C, 2 add bias[0..NR);
 * then store the tile at pC (rows ldcBytes apart).
 *
 * Register budget: V8 (11.3, x64) gives WebAssembly 15 xmm registers and loads a step's operands before its
 * arithmetic, so MR * NR/4 accumulators + NR/4 B vectors + MR A splats must stay within 15 to avoid spills:
 * 4 x 8 with no unrolling (8 + 2 + 4 = 14) measured fastest (see the note in DEFAULT_GEMM_CONFIG).
 */
function emitMicrokernel(fn: FunctionBuilder, config: GemmConfig): void {
  const { mr, nr, unroll } = config;
  const vecs = nr / 4;
  const [kc, pA, pB, pC, ldc, pBias, mode] = fn.params;
  // Accumulators start at zero: WebAssembly zero-initialises locals.
  const acc = Array.from({ length: mr }, () => fn.locals('v128', vecs));
  const b = fn.locals('v128', vecs);
  const a = fn.local('v128');
  const v = fn.local('v128');

  const madd = (x: Code, y: Code, z: Code): Code =>
    config.relaxed ? op.f32x4RelaxedMadd(x, y, z) : op.f32x4Add(op.f32x4Mul(x, y), z);

  /** One rank-1 update: depth `u` of the current unrolled group (constant offsets from pA, pB). */
  const step = (u: number): Code[] => {
    const code: Code[] = [];
    for (let j = 0; j < vecs; j++)
      code.push(set(b[j], op.v128Load(get(pB), { offset: 16 * (u * vecs + j) })));
    for (let i = 0; i < mr; i++) {
      code.push(set(a, op.v128Load32Splat(get(pA), { offset: 4 * (u * mr + i) })));
      for (let j = 0; j < vecs; j++) code.push(set(acc[i][j], madd(get(a), get(b[j]), get(acc[i][j]))));
    }
    return code;
  };
  const unrolledSteps: Code[] = [];
  for (let u = 0; u < unroll; u++) unrolledSteps.push(step(u));

  fn.emit(
    // Main loop: `unroll` depths per iteration.
    op.block(
      op.loop(
        op.brIf(1, op.i32LtS(get(kc), i32(unroll))),
        unrolledSteps,
        inc(pA, i32(4 * mr * unroll)),
        inc(pB, i32(4 * nr * unroll)),
        set(kc, op.i32Sub(get(kc), i32(unroll))),
        op.br(0),
      ),
    ),
    // Remaining depths one at a time (none when unroll = 1).
    unroll === 1
      ? []
      : op.block(
          op.loop(
            op.brIf(1, op.i32Eqz(get(kc))),
            step(0),
            inc(pA, i32(4 * mr)),
            inc(pB, i32(4 * nr)),
            set(kc, op.i32Sub(get(kc), i32(1))),
            op.br(0),
          ),
        ),
  );

  // Epilogue, row by row; pC advances by ldc bytes per row.
  const plainStore: Code[] = [];
  const fusedStore: Code[] = [];
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < vecs; j++) {
      const at = { offset: 16 * j };
      plainStore.push(op.v128Store(get(pC), get(acc[i][j]), at));
      fusedStore.push(
        set(v, get(acc[i][j])),
        op.if(op.i32And(get(mode), i32(MODE_LOAD_C)), set(v, op.f32x4Add(get(v), op.v128Load(get(pC), at)))),
        op.if(op.i32And(get(mode), i32(MODE_BIAS)), set(v, op.f32x4Add(get(v), op.v128Load(get(pBias), at)))),
        op.v128Store(get(pC), get(v), at),
      );
    }
    if (i < mr - 1) {
      plainStore.push(inc(pC, get(ldc)));
      fusedStore.push(inc(pC, get(ldc)));
    }
  }
  fn.emit(op.if(op.i32Eqz(get(mode)), plainStore, fusedStore));
}

// ---------------------------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------------------------

/**
 * `pack_a(mc, kc, aPtr, strideM, strideK, dst)`: rows [0, mc) and depths [0, kc) of A (element (m, k) at
 * aPtr + 4 (m strideM + k strideK)) into ceil(mc / MR) panels of kc x MR floats, k-major, rows past mc zero.
 */
function emitPackA(fn: FunctionBuilder, mr: number): void {
  const [mc, kc, aPtr, sm, sk, dst] = fn.params;
  const [i0, r, k, src, rows, t0, t1, g, kEnd] = fn.locals('i32', 9);
  const skBytes = fn.local('i32');
  const [v0, v1, v2, v3, w0, w1, w2, w3] = fn.locals('v128', 8);
  const rowAddress = (row: Code): Code => add(get(aPtr), op.i32Shl(mul(add(get(i0), row), get(sm)), i32(2)));
  const dstAddress = (kk: Code, rr: Code): Code =>
    add(get(dst), op.i32Shl(add(mul(kk, i32(mr)), rr), i32(2)));

  // Any strides, any panel: one float at a time; rows past the edge are zero.
  const scalarPanel = forLoop(
    r,
    i32(0),
    i32(mr),
    i32(1),
    op.if(
      op.i32LtS(get(r), get(rows)),
      [
        set(src, rowAddress(get(r))),
        forLoop(
          k,
          i32(0),
          get(kc),
          i32(1),
          op.f32Store(dstAddress(get(k), get(r)), op.f32Load(get(src))),
          inc(src, get(skBytes)),
        ),
      ],
      forLoop(k, i32(0), get(kc), i32(1), op.f32Store(dstAddress(get(k), get(r)), op.f32Const(0))),
    ),
  );

  // Full panel of transposed A (strideM = 1): the MR rows of one depth are contiguous, copy 4 at a time.
  const columnMajorPanel = forLoop(
    k,
    i32(0),
    get(kc),
    i32(1),
    set(src, add(rowAddress(i32(0)), mul(get(k), get(skBytes)))),
    Array.from({ length: mr / 4 }, (_, q) =>
      op.v128Store(dstAddress(get(k), i32(0)), op.v128Load(get(src), { offset: 16 * q, align: 2 }), {
        offset: 16 * q,
      }),
    ),
  );

  // Full panel of row-major A (strideK = 1): 4 rows x 4 depths at a time, transposed in registers
  // (unpack low/high pairs, then move 64-bit halves); the last kc % 4 depths one by one.
  const load = (v: number, row: number): Code =>
    set(v, op.v128Load(add(rowAddress(add(get(g), i32(row))), op.i32Shl(get(k), i32(2))), { align: 2 }));
  const transposeBlock: Code[] = [
    load(v0, 0),
    load(v1, 1),
    load(v2, 2),
    load(v3, 3),
    set(w0, op.i32x4Shuffle(get(v0), get(v1), [0, 4, 1, 5])),
    set(w1, op.i32x4Shuffle(get(v0), get(v1), [2, 6, 3, 7])),
    set(w2, op.i32x4Shuffle(get(v2), get(v3), [0, 4, 1, 5])),
    set(w3, op.i32x4Shuffle(get(v2), get(v3), [2, 6, 3, 7])),
    op.v128Store(dstAddress(get(k), get(g)), op.i32x4Shuffle(get(w0), get(w2), [0, 1, 4, 5])),
    op.v128Store(dstAddress(add(get(k), i32(1)), get(g)), op.i32x4Shuffle(get(w0), get(w2), [2, 3, 6, 7])),
    op.v128Store(dstAddress(add(get(k), i32(2)), get(g)), op.i32x4Shuffle(get(w1), get(w3), [0, 1, 4, 5])),
    op.v128Store(dstAddress(add(get(k), i32(3)), get(g)), op.i32x4Shuffle(get(w1), get(w3), [2, 3, 6, 7])),
  ];
  const rowMajorPanel: Code[] = [
    set(kEnd, op.i32And(get(kc), i32(-4))),
    forLoop(g, i32(0), i32(mr), i32(4), forLoop(k, i32(0), get(kEnd), i32(4), transposeBlock)),
    forLoop(
      r,
      i32(0),
      i32(mr),
      i32(1),
      forLoop(
        k,
        get(kEnd),
        get(kc),
        i32(1),
        op.f32Store(
          dstAddress(get(k), get(r)),
          op.f32Load(add(rowAddress(get(r)), op.i32Shl(get(k), i32(2)))),
        ),
      ),
    ),
  ];

  const full = op.i32Eq(get(rows), i32(mr));
  fn.emit(
    set(skBytes, op.i32Shl(get(sk), i32(2))),
    forLoop(
      i0,
      i32(0),
      get(mc),
      i32(mr),
      set(rows, minS(i32(mr), op.i32Sub(get(mc), get(i0)), t0, t1)),
      mr % 4 !== 0
        ? scalarPanel
        : op.if(
            op.i32And(full, op.i32Eq(get(sk), i32(1))),
            rowMajorPanel,
            op.if(op.i32And(full, op.i32Eq(get(sm), i32(1))), columnMajorPanel, scalarPanel),
          ),
      set(dst, add(get(dst), mul(get(kc), i32(4 * mr)))),
    ),
  );
}

/**
 * `pack_b(K, N, bPtr, strideK, strideN, dst)`: B (element (k, n) at bPtr + 4 (k strideK + n strideN)) into
 * ceil(N / NR) panels of K x NR floats, k-major, columns past N zero.
 */
function emitPackB(fn: FunctionBuilder, nr: number): void {
  const [K, N, bPtr, sk, sn, dst] = fn.params;
  const [n0, k, j, cols, row, t0, t1, kEnd] = fn.locals('i32', 8);
  const [v0, v1, v2, v3, w0, w1, w2, w3] = fn.locals('v128', 8);
  const vecs = nr / 4;
  const fullRowContiguous: Code[] = [];
  for (let q = 0; q < vecs; q++) {
    fullRowContiguous.push(
      op.v128Store(get(dst), op.v128Load(get(row), { offset: 16 * q, align: 2 }), { offset: 16 * q }),
    );
  }
  // One depth k of the panel at n0 (row = address of B[k, n0]), then dst moves to the next depth.
  const depth: Code[] = [
    set(row, add(get(bPtr), op.i32Shl(add(mul(get(k), get(sk)), mul(get(n0), get(sn))), i32(2)))),
    op.if(
      op.i32And(op.i32Eq(get(sn), i32(1)), op.i32Eq(get(cols), i32(nr))),
      fullRowContiguous,
      forLoop(
        j,
        i32(0),
        i32(nr),
        i32(1),
        // Columns past N stay zero (dst is written in order, and the panel was not zero-filled).
        op.f32Store(
          add(get(dst), op.i32Shl(get(j), i32(2))),
          op.ifValue(
            'f32',
            op.i32LtS(get(j), get(cols)),
            op.f32Load(add(get(row), op.i32Shl(mul(get(j), get(sn)), i32(2)))),
            op.f32Const(0),
          ),
        ),
      ),
    ),
    inc(dst, i32(4 * nr)),
  ];
  // A full panel of column-major B (strideK = 1, e.g. a Linear weight read as Wᵀ): four depths of four
  // columns at a time, transposed in registers as pack_a does; the last K % 4 depths one by one.
  const column = (c: number): Code =>
    op.v128Load(add(get(bPtr), op.i32Shl(add(mul(add(get(n0), i32(c)), get(sn)), get(k)), i32(2))), {
      align: 2,
    });
  const at = (q: number, g: number): Code =>
    add(get(dst), op.i32Shl(add(mul(add(get(k), i32(q)), i32(nr)), i32(4 * g)), i32(2)));
  const fourByFour = (g: number): Code[] => [
    set(v0, column(4 * g)),
    set(v1, column(4 * g + 1)),
    set(v2, column(4 * g + 2)),
    set(v3, column(4 * g + 3)),
    set(w0, op.i32x4Shuffle(get(v0), get(v1), [0, 4, 1, 5])),
    set(w1, op.i32x4Shuffle(get(v0), get(v1), [2, 6, 3, 7])),
    set(w2, op.i32x4Shuffle(get(v2), get(v3), [0, 4, 1, 5])),
    set(w3, op.i32x4Shuffle(get(v2), get(v3), [2, 6, 3, 7])),
    op.v128Store(at(0, g), op.i32x4Shuffle(get(w0), get(w2), [0, 1, 4, 5])),
    op.v128Store(at(1, g), op.i32x4Shuffle(get(w0), get(w2), [2, 3, 6, 7])),
    op.v128Store(at(2, g), op.i32x4Shuffle(get(w1), get(w3), [0, 1, 4, 5])),
    op.v128Store(at(3, g), op.i32x4Shuffle(get(w1), get(w3), [2, 3, 6, 7])),
  ];
  const columnMajorPanel: Code[] = [
    set(kEnd, op.i32And(get(K), i32(-4))),
    forLoop(
      k,
      i32(0),
      get(kEnd),
      i32(4),
      Array.from({ length: vecs }, (_, g) => fourByFour(g)),
    ),
    inc(dst, op.i32Mul(get(kEnd), i32(4 * nr))),
    forLoop(k, get(kEnd), get(K), i32(1), depth),
  ];
  fn.emit(
    forLoop(
      n0,
      i32(0),
      get(N),
      i32(nr),
      set(cols, minS(i32(nr), op.i32Sub(get(N), get(n0)), t0, t1)),
      op.if(
        op.i32And(
          op.i32Eq(get(sk), i32(1)),
          op.i32And(op.i32Ne(get(sn), i32(1)), op.i32Eq(get(cols), i32(nr))),
        ),
        columnMajorPanel,
        forLoop(k, i32(0), get(K), i32(1), depth),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------------------

interface GemmLayout {
  /** Index of the global holding the scratch address, and byte offsets of its parts. */
  scratch: number;
  scratchTile: number;
  scratchBias: number;
  /** Function indices. */
  kernel: number;
  packA: number;
  geluSpan: number;
  MC: number;
  KC: number;
}

/**
 * `gemm(M, N, K, aPtr, strideAM, strideAK, packedB, cPtr, ldc, biasPtr, flags, m0, m1)`: the blocked loop
 * nest around the microkernel for rows [m0, m1). See the file header.
 */
function emitGemm(fn: FunctionBuilder, config: GemmConfig, L: GemmLayout): void {
  const { mr, nr } = config;
  const [, N, K, aPtr, sam, sak, packedB, cPtr, ldc, biasPtr, flags, m0, m1] = fn.params;
  const [k0, kc, mb, mcur, n0, cols, i0, rows, mode, pBPanel, pA, pC, t0, t1] = fn.locals('i32', 14);
  const [r, j, src, tile, tileBias, row, kcStep] = fn.locals('i32', 7);
  const ldcBytes = fn.local('i32');

  const isFirst = op.i32Eqz(get(k0));
  const isLast = op.i32Eq(add(get(k0), get(kc)), get(K));
  const kernelCall = (c: Code, ldcB: Code, bias: Code): Code =>
    op.call(L.kernel, get(kc), get(pA), get(pBPanel), c, ldcB, bias, get(mode));

  // Edge tile: copy the valid part of C (if read) and bias (zero-padded) into scratch, run the kernel
  // there, copy the valid part back.
  const edgeTile: Code = [
    set(tile, add(op.globalGet(L.scratch), i32(L.scratchTile))),
    set(tileBias, add(op.globalGet(L.scratch), i32(L.scratchBias))),
    forLoop(
      j,
      i32(0),
      i32(nr),
      i32(1),
      op.f32Store(
        add(get(tileBias), op.i32Shl(get(j), i32(2))),
        op.ifValue(
          'f32',
          op.i32And(op.i32LtS(get(j), get(cols)), op.i32Ne(op.i32And(get(mode), i32(MODE_BIAS)), i32(0))),
          op.f32Load(add(get(biasPtr), op.i32Shl(add(get(n0), get(j)), i32(2)))),
          op.f32Const(0),
        ),
      ),
    ),
    op.if(
      op.i32And(get(mode), i32(MODE_LOAD_C)),
      forLoop(
        r,
        i32(0),
        get(rows),
        i32(1),
        set(src, add(get(pC), mul(get(r), get(ldcBytes)))),
        forLoop(
          j,
          i32(0),
          get(cols),
          i32(1),
          op.f32Store(
            add(get(tile), op.i32Shl(add(mul(get(r), i32(nr)), get(j)), i32(2))),
            op.f32Load(add(get(src), op.i32Shl(get(j), i32(2)))),
          ),
        ),
      ),
    ),
    kernelCall(get(tile), i32(4 * nr), get(tileBias)),
    forLoop(
      r,
      i32(0),
      get(rows),
      i32(1),
      set(src, add(get(pC), mul(get(r), get(ldcBytes)))),
      forLoop(
        j,
        i32(0),
        get(cols),
        i32(1),
        op.f32Store(
          add(get(src), op.i32Shl(get(j), i32(2))),
          op.f32Load(add(get(tile), op.i32Shl(add(mul(get(r), i32(nr)), get(j)), i32(2)))),
        ),
      ),
    ),
  ];

  fn.emit(
    set(ldcBytes, op.i32Shl(get(ldc), i32(2))),
    op.if(op.i32GeS(get(m0), get(m1)), op.return()),
    // Depth blocks of equal size, at most KC: ceil(K / ceil(K / KC)).
    set(kcStep, op.i32DivU(add(get(K), i32(L.KC - 1)), i32(L.KC))),
    op.if(get(kcStep), set(kcStep, op.i32DivU(add(get(K), op.i32Sub(get(kcStep), i32(1))), get(kcStep)))),
    set(k0, i32(0)),
    // A do-while over depth blocks, so that K = 0 still applies the epilogue: C = bias (+ C).
    op.loop(
      set(kc, minS(get(kcStep), op.i32Sub(get(K), get(k0)), t0, t1)),
      // mode: the first block reads C only when accumulating, and adds the bias; later blocks read C.
      set(
        mode,
        op.select(
          op.i32Or(
            op.i32And(get(flags), i32(GemmFlags.accumulate)),
            op.select(i32(MODE_BIAS), i32(0), op.i32Ne(get(biasPtr), i32(0))),
          ),
          i32(MODE_LOAD_C),
          isFirst,
        ),
      ),
      forLoop(
        mb,
        get(m0),
        get(m1),
        i32(L.MC),
        set(mcur, minS(i32(L.MC), op.i32Sub(get(m1), get(mb)), t0, t1)),
        op.call(
          L.packA,
          get(mcur),
          get(kc),
          add(get(aPtr), op.i32Shl(add(mul(get(mb), get(sam)), mul(get(k0), get(sak))), i32(2))),
          get(sam),
          get(sak),
          op.globalGet(L.scratch),
        ),
        forLoop(
          n0,
          i32(0),
          get(N),
          i32(nr),
          set(cols, minS(i32(nr), op.i32Sub(get(N), get(n0)), t0, t1)),
          // Packed B panel n0 / NR, at depth k0.
          set(
            pBPanel,
            add(get(packedB), op.i32Shl(add(mul(get(n0), get(K)), mul(get(k0), i32(nr))), i32(2))),
          ),
          forLoop(
            i0,
            i32(0),
            get(mcur),
            i32(mr),
            set(rows, minS(i32(mr), op.i32Sub(get(mcur), get(i0)), t0, t1)),
            // Packed A panel i0 / MR.
            set(pA, add(op.globalGet(L.scratch), mul(get(i0), op.i32Shl(get(kc), i32(2))))),
            set(pC, add(get(cPtr), op.i32Shl(add(mul(add(get(mb), get(i0)), get(ldc)), get(n0)), i32(2)))),
            op.if(
              op.i32And(op.i32Eq(get(rows), i32(mr)), op.i32Eq(get(cols), i32(nr))),
              kernelCall(get(pC), get(ldcBytes), add(get(biasPtr), op.i32Shl(get(n0), i32(2)))),
              edgeTile,
            ),
          ),
        ),
        // GELU, after the last depth block, over the rows just finished (still in cache), a whole row per call
        // so that its constants are set up once per row, not once per vector.
        op.if(
          op.i32And(isLast, op.i32Ne(op.i32And(get(flags), i32(GemmFlags.gelu)), i32(0))),
          forLoop(
            row,
            get(mb),
            add(get(mb), get(mcur)),
            i32(1),
            op.call(L.geluSpan, add(get(cPtr), mul(get(row), get(ldcBytes))), get(N)),
          ),
        ),
      ),
      inc(k0, get(kc)),
      op.brIf(0, op.i32LtS(get(k0), get(K))),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// JavaScript wrapper
// ---------------------------------------------------------------------------------------------------------

/** The raw exports of an instance of the gemm module (pointers: byte offsets; strides: elements). */
export interface GemmExports {
  /** Sets this instance's scratch area (`gemmScratchBytes(config)` bytes, 16-byte aligned); call once. */
  set_scratch(ptr: number): void;
  /** Packs rows [0, mc) x depths [0, kc) of A into MR-row panels at dst (used by `gemm`; exported for tests). */
  pack_a(mc: number, kc: number, aPtr: number, strideM: number, strideK: number, dst: number): void;
  /** Packs B [K, N] (any strides) into NR-column panels at dst (see `Gemm.packB`). */
  pack_b(K: number, N: number, bPtr: number, strideK: number, strideN: number, dst: number): void;
  /** C = A B (+ bias, + old C, GELU) for rows [m0, m1) (see `GemmArgs` and `GemmFlags`). */
  gemm(
    M: number,
    N: number,
    K: number,
    aPtr: number,
    strideAM: number,
    strideAK: number,
    packedBPtr: number,
    cPtr: number,
    ldc: number,
    biasPtr: number,
    flags: number,
    m0: number,
    m1: number,
  ): void;
  /** In place: erf of n floats at ptr (bit-identical to `erfF32`). */
  erf_f32(ptr: number, n: number): void;
  /** In place: exact GELU of n floats at ptr (bit-identical to `geluF32`). */
  gelu_f32(ptr: number, n: number): void;
  /** Exact GELU of n floats at byte address src into dst (bit-identical to `geluF32`). */
  gelu_to_f32(src: number, dst: number, n: number): void;
  /** out[i] = g[i] · gelu'(x[i]) for n floats (byte addresses; bit-identical to `geluGradF32`). */
  gelu_grad_f32(x: number, g: number, out: number, n: number): void;
}

/** Arguments of one matrix product (strides in elements, pointers as byte offsets into the heap). */
export interface GemmArgs {
  /** Rows of A and C. */
  M: number;
  /** Columns of B and C. */
  N: number;
  /** Columns of A, rows of B (0 gives C = bias, + old C when accumulating). */
  K: number;
  /** A [M, K]: element (m, k) at aPtr + 4 (m strideAM + k strideAK); Aᵀ stored [K, M] has strideAM = 1. */
  aPtr: number;
  /** Elements between consecutive rows of A. */
  strideAM: number;
  /** Elements between consecutive columns of A (1: contiguous rows). */
  strideAK: number;
  /** B packed by `packB` (byte size `packedBSize(K, N)`). */
  packedBPtr: number;
  /** C [M, N]: element (m, n) at cPtr + 4 (m ldc + n). */
  cPtr: number;
  /** Elements between consecutive rows of C (>= N). */
  ldc: number;
  /** bias [N] (contiguous) or 0 for none. */
  biasPtr?: number;
  /** `GemmFlags` bits (default 0). */
  flags?: number;
}

/** A compiled gemm module, with the config it was generated for. */
export interface GemmModule {
  /** The compiled module (structured-cloneable to workers). */
  readonly module: WebAssembly.Module;
  /** Its binary. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The configuration it was generated for. */
  readonly config: GemmConfig;
  /** Whether it imports a shared memory (else a plain one). */
  readonly shared: boolean;
}

const moduleCache = new Map<string, GemmModule>();

/**
 * The generated module for `config` (default: `DEFAULT_GEMM_CONFIG`, relaxed SIMD when the runtime validates
 * it), importing a shared memory (default) or a plain one. Generated and compiled once per distinct config.
 */
export function getGemmModule(config?: Partial<GemmConfig>, shared = true): GemmModule {
  const full: GemmConfig = { ...DEFAULT_GEMM_CONFIG, relaxed: relaxedSimdSupported(), ...config };
  const key = `${JSON.stringify(full)}${shared ? '' : ':plain'}`;
  let cached = moduleCache.get(key);
  if (!cached) {
    const bytes = buildGemmModule(full, shared);
    cached = { module: new WebAssembly.Module(bytes), bytes, config: full, shared };
    moduleCache.set(key, cached);
  }
  return cached;
}

/** Instantiates `mod` on `memory` (synchronously; the module is small). */
export function instantiateGemm(mod: WebAssembly.Module, memory: WebAssembly.Memory): GemmExports {
  const instance = new WebAssembly.Instance(mod, { env: { memory } });
  return instance.exports as unknown as GemmExports;
}

/** A gemm instance on the calling thread, from `createGemm`. */
export interface Gemm {
  /** The WebAssembly instance (exports: see `GemmExports`). */
  readonly instance: GemmExports;
  /** Whether the microkernel uses relaxed-SIMD FMA. */
  readonly relaxed: boolean;
  /** The tile configuration of the module. */
  readonly config: GemmConfig;
  /** The compiled module (workers instantiate the same one). */
  readonly module: GemmModule;
  /** Byte size of B [K, N] once packed. */
  packedBSize(K: number, N: number): number;
  /**
   * Packs B (element (k, n) at bPtr + 4 (k strideK + n strideN)) into `dstPtr` (packedBSize(K, N) bytes).
   * Row-major B [K, N]: strideK = N, strideN = 1. A PyTorch Linear weight W [N, K] (B = Wᵀ): strideK = 1,
   * strideN = K.
   */
  packB(K: number, N: number, bPtr: number, strideK: number, strideN: number, dstPtr: number): void;
  /** C = A B (+ bias, + old C, GELU) for rows [m0, m1) (default all rows). */
  gemm(args: GemmArgs, m0?: number, m1?: number): void;
  /** Returns the instance's scratch area to the heap (the instance must not be used afterwards). */
  dispose(): void;
}

/**
 * Creates a gemm instance on the calling thread over `heap`: generates/compiles the module (cached),
 * instantiates it on `heap.memory` and allocates its scratch area.
 */
export function createGemm(heap: WasmHeap, config?: Partial<GemmConfig>): Gemm {
  const mod = getGemmModule(config, heap.shared);
  const instance = instantiateGemm(mod.module, heap.memory);
  const scratch = heap.alloc(gemmScratchBytes(mod.config));
  instance.set_scratch(scratch);
  const nr = mod.config.nr;
  return {
    instance,
    relaxed: mod.config.relaxed,
    config: mod.config,
    module: mod,
    packedBSize: (K, N) => packedBSize(K, N, nr),
    packB: (K, N, bPtr, strideK, strideN, dstPtr) => instance.pack_b(K, N, bPtr, strideK, strideN, dstPtr),
    gemm: (g, m0 = 0, m1 = g.M) =>
      instance.gemm(
        g.M,
        g.N,
        g.K,
        g.aPtr,
        g.strideAM,
        g.strideAK,
        g.packedBPtr,
        g.cPtr,
        g.ldc,
        g.biasPtr ?? 0,
        g.flags ?? 0,
        m0,
        m1,
      ),
    dispose: () => heap.free(scratch),
  };
}
