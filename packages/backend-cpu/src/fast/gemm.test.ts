// Tests of the generated gemm module against a float64 JavaScript reference: random shapes (odd sizes,
// M/N/K = 1), transposed A and B through strides, bias, accumulate, GELU, row ranges, several tile configs.
import { erf } from '@wf/core';
import { describe, expect, it } from 'vitest';
import { createGemm, type GemmConfig, GemmFlags, packedBSize } from './gemm-module.js';
import { WasmHeap } from './heap.js';
import { fillRandom, randomInt, seededRandom } from './test-helpers.js';

/** One product's operands, laid out in a heap. */
interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  flags: number;
  /** Row stride of C beyond N (C is a view into a wider matrix). */
  ldcPad: number;
}

/** Relative tolerance against the float64 reference, scaled by sum_k |a b| + |bias| + |C_old|. */
const TOL = 1e-5;

/**
 * Runs `c` through `run` and compares with a float64 reference; returns the worst error relative to the
 * magnitude scale of each element.
 */
function checkCase(heap: WasmHeap, c: Case, rand: () => number, run: (args: RunArgs) => void): number {
  const { M, N, K } = c;
  const ldc = N + c.ldcPad;
  const a = fillRandom(new Float32Array(M * K), rand); // logical A[m, k]
  const b = fillRandom(new Float32Array(K * N), rand); // logical B[k, n]
  const bias = fillRandom(new Float32Array(N), rand);
  const cOld = fillRandom(new Float32Array(M * ldc), rand);
  // Storage: A row-major [M, K] or transposed [K, M]; B row-major [K, N] or a Linear weight [N, K].
  const aPtr = heap.alloc(4 * M * K);
  const bPtr = heap.alloc(4 * K * N);
  const biasPtr = heap.alloc(4 * N);
  const cPtr = heap.alloc(4 * M * ldc);
  const aStore = heap.f32(aPtr, M * K);
  const bStore = heap.f32(bPtr, K * N);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) aStore[c.transA ? k * M + m : m * K + k] = a[m * K + k];
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) bStore[c.transB ? n * K + k : k * N + n] = b[k * N + n];
  heap.f32(biasPtr, N).set(bias);
  heap.f32(cPtr, M * ldc).set(cOld);
  run({
    M,
    N,
    K,
    aPtr,
    strideAM: c.transA ? 1 : K,
    strideAK: c.transA ? M : 1,
    bPtr,
    strideBK: c.transB ? 1 : N,
    strideBN: c.transB ? K : 1,
    cPtr,
    ldc,
    biasPtr: c.bias ? biasPtr : 0,
    flags: c.flags,
  });
  const out = heap.f32(cPtr, M * ldc);
  let worst = 0;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < ldc; n++) {
      const i = m * ldc + n;
      if (n >= N) {
        expect(out[i], 'padding of C untouched').toBe(cOld[i]);
        continue;
      }
      let s = 0;
      let scale = 0;
      for (let k = 0; k < K; k++) {
        s += a[m * K + k] * b[k * N + n];
        scale += Math.abs(a[m * K + k] * b[k * N + n]);
      }
      if (c.flags & GemmFlags.accumulate) {
        s += cOld[i];
        scale += Math.abs(cOld[i]);
      }
      if (c.bias) {
        s += bias[n];
        scale += Math.abs(bias[n]);
      }
      if (c.flags & GemmFlags.gelu) s = 0.5 * s * (1 + erf(s / Math.SQRT2));
      worst = Math.max(worst, Math.abs(out[i] - s) / (scale + 1e-30));
    }
  }
  for (const p of [aPtr, bPtr, biasPtr, cPtr]) heap.free(p);
  return worst;
}

/** Arguments handed to a runner: unpacked B with its strides. */
interface RunArgs {
  M: number;
  N: number;
  K: number;
  aPtr: number;
  strideAM: number;
  strideAK: number;
  bPtr: number;
  strideBK: number;
  strideBN: number;
  cPtr: number;
  ldc: number;
  biasPtr: number;
  flags: number;
}

/** Random cases: sizes biased towards edges (1, odd, just above tile multiples) and all option combinations. */
function randomCases(seed: number, count: number, maxDim: number): Case[] {
  const rand = seededRandom(seed);
  const dim = (): number => {
    const r = rand();
    if (r < 0.15) return 1;
    if (r < 0.3) return randomInt(rand, 2, 5);
    return randomInt(rand, 1, maxDim);
  };
  return Array.from({ length: count }, () => ({
    M: dim(),
    N: dim(),
    K: rand() < 0.05 ? 0 : dim(),
    transA: rand() < 0.5,
    transB: rand() < 0.5,
    bias: rand() < 0.5,
    flags: randomInt(rand, 0, 3),
    ldcPad: rand() < 0.3 ? randomInt(rand, 1, 5) : 0,
  }));
}

function singleThreadRunner(heap: WasmHeap, config?: Partial<GemmConfig>): (args: RunArgs) => void {
  const g = createGemm(heap, config);
  return (r) => {
    const packed = heap.alloc(g.packedBSize(r.K, r.N));
    g.packB(r.K, r.N, r.bPtr, r.strideBK, r.strideBN, packed);
    g.gemm({ ...r, packedBPtr: packed });
    heap.free(packed);
  };
}

describe('pack_b', () => {
  it('packs row-major B and a Linear weight (Bᵀ) into zero-padded NR-column panels', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20 });
    const g = createGemm(heap);
    const nr = g.config.nr;
    const rand = seededRandom(3);
    for (const [K, N] of [
      [1, 1],
      [3, 5],
      [7, nr],
      [17, 2 * nr + 3],
      [64, 33],
    ]) {
      const b = fillRandom(new Float32Array(K * N), rand);
      for (const trans of [false, true]) {
        const src = heap.alloc(4 * K * N);
        const store = heap.f32(src, K * N);
        for (let k = 0; k < K; k++)
          for (let n = 0; n < N; n++) store[trans ? n * K + k : k * N + n] = b[k * N + n];
        expect(g.packedBSize(K, N)).toBe(packedBSize(K, N, nr));
        const dst = heap.alloc(g.packedBSize(K, N));
        heap.f32(dst, g.packedBSize(K, N) / 4).fill(Number.NaN); // padding must be written, not assumed
        g.packB(K, N, src, trans ? 1 : N, trans ? K : 1, dst);
        const packed = heap.f32(dst, g.packedBSize(K, N) / 4);
        for (let p = 0; p < Math.ceil(N / nr); p++)
          for (let k = 0; k < K; k++)
            for (let j = 0; j < nr; j++) {
              const n = p * nr + j;
              expect(packed[(p * K + k) * nr + j]).toBe(n < N ? b[k * N + n] : 0);
            }
        heap.free(src);
        heap.free(dst);
      }
    }
  });
});

describe('pack_a', () => {
  it('packs row-major, transposed and strided A into zero-padded MR-row panels', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20 });
    for (const mr of [4, 8, 3]) {
      const g = createGemm(heap, { mr, mc: 4 * mr });
      const rand = seededRandom(mr);
      for (const [mc, kc] of [
        [1, 1],
        [mr, 4],
        [mr, 7],
        [2 * mr + 1, 9],
        [3, 16],
      ]) {
        for (const layout of ['rows', 'columns', 'strided'] as const) {
          // A[m, k] stored with padding: row-major [mc, kc + 2], column-major [kc, mc + 3], or every other float.
          const [sm, sk] = layout === 'rows' ? [kc + 2, 1] : layout === 'columns' ? [1, mc + 3] : [2 * kc, 2];
          const size = (mc - 1) * sm + (kc - 1) * sk + 1;
          const src = heap.alloc(4 * size);
          const store = fillRandom(heap.f32(src, size), rand);
          const panels = Math.ceil(mc / mr);
          const dst = heap.alloc(4 * panels * kc * mr);
          heap.f32(dst, panels * kc * mr).fill(Number.NaN);
          g.instance.pack_a(mc, kc, src, sm, sk, dst);
          const packed = heap.f32(dst, panels * kc * mr);
          for (let p = 0; p < panels; p++)
            for (let k = 0; k < kc; k++)
              for (let r = 0; r < mr; r++) {
                const m = p * mr + r;
                const want = m < mc ? store[m * sm + k * sk] : 0;
                expect(packed[(p * kc + k) * mr + r], `${layout} mr=${mr} ${mc}x${kc}`).toBe(want);
              }
          heap.free(src);
          heap.free(dst);
        }
      }
      g.dispose();
    }
  });
});

describe('gemm', () => {
  const configs: Partial<GemmConfig>[] = [
    {},
    { mr: 4, nr: 8, kc: 16, mc: 8, unroll: 4 }, // tiny blocks: many depth and row blocks
    { mr: 5, nr: 12, kc: 24, mc: 10, unroll: 3 },
    { mr: 3, nr: 4, kc: 7, mc: 3, unroll: 2, relaxed: false },
    { mr: 8, nr: 4, kc: 20, mc: 16, unroll: 2 },
  ];
  for (const [ci, config] of configs.entries()) {
    it(`matches a float64 reference on random shapes, config ${JSON.stringify(config)}`, () => {
      const heap = new WasmHeap({ initialBytes: 16 << 20 });
      const run = singleThreadRunner(heap, config);
      const rand = seededRandom(100 + ci);
      for (const c of randomCases(ci + 1, 60, 70)) {
        const worst = checkCase(heap, c, rand, run);
        expect(worst, JSON.stringify(c)).toBeLessThan(TOL);
      }
    });
  }

  it('handles model-sized products (196 x 768 x 192 + bias + GELU, 197 x 192 x 768 transposed)', () => {
    const heap = new WasmHeap({ initialBytes: 32 << 20 });
    const run = singleThreadRunner(heap);
    const rand = seededRandom(5);
    const cases: Case[] = [
      { M: 196, N: 768, K: 192, transA: false, transB: true, bias: true, flags: GemmFlags.gelu, ldcPad: 0 },
      {
        M: 197,
        N: 192,
        K: 768,
        transA: true,
        transB: false,
        bias: false,
        flags: GemmFlags.accumulate,
        ldcPad: 3,
      },
      { M: 1, N: 1000, K: 192, transA: false, transB: true, bias: true, flags: 0, ldcPad: 0 },
    ];
    for (const c of cases) expect(checkCase(heap, c, rand, run), JSON.stringify(c)).toBeLessThan(TOL);
  });

  it('computes only the rows [m0, m1) it is given', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20 });
    const g = createGemm(heap);
    const [M, N, K] = [13, 9, 6];
    const a = heap.alloc(4 * M * K);
    const b = heap.alloc(4 * K * N);
    const c = heap.alloc(4 * M * N);
    const packed = heap.alloc(g.packedBSize(K, N));
    heap.f32(a, M * K).fill(1);
    heap.f32(b, K * N).fill(1);
    heap.f32(c, M * N).fill(-1);
    g.packB(K, N, b, N, 1, packed);
    const args = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: N };
    g.gemm(args, 3, 8);
    g.gemm(args, 8, 8); // empty range: no-op
    const out = heap.f32(c, M * N);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) expect(out[m * N + n]).toBe(m >= 3 && m < 8 ? K : -1);
  });

  it('reuses the compiled module, and reports whether relaxed SIMD is used', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20 });
    const g1 = createGemm(heap);
    const g2 = createGemm(heap);
    expect(g1.module).toBe(g2.module);
    expect(typeof g1.relaxed).toBe('boolean');
    const used = heap.usedBytes;
    g2.dispose();
    expect(heap.usedBytes).toBeLessThan(used);
  });
});
