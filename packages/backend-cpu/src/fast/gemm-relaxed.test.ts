// The gemm with relaxed-SIMD FMA: enabled at run time in this test process (Node 20 has it behind a flag),
// then checked against the mul + add kernel on random shapes. Skipped where the runtime lacks it, except in
// CI (Node 20 there has it behind the flag this test sets): there the missing feature fails the suite.
import { IN_CI } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { erfF32, geluF32 } from './gelu-erf.js';
import { createGemm } from './gemm-module.js';
import { WasmHeap } from './heap.js';
import { fillRandom, randomInt, seededRandom } from './test-helpers.js';
import { tryEnableRelaxedSimd } from './wasm-emitter.js';

const relaxed = tryEnableRelaxedSimd();

describe.skipIf(!relaxed && !IN_CI)('gemm with relaxed SIMD', () => {
  it('is selected by default once supported, and agrees with the mul + add kernel', () => {
    expect(relaxed, `CI=${process.env.CI} but this runtime cannot enable relaxed SIMD`).toBe(true);
    const heap = new WasmHeap({ initialBytes: 16 << 20 });
    const fast = createGemm(heap);
    const plain = createGemm(heap, { relaxed: false });
    expect(fast.relaxed).toBe(true);
    expect(plain.relaxed).toBe(false);
    const rand = seededRandom(11);
    for (let t = 0; t < 30; t++) {
      const [M, N, K] = [randomInt(rand, 1, 60), randomInt(rand, 1, 60), randomInt(rand, 1, 400)];
      const a = heap.alloc(4 * M * K);
      const b = heap.alloc(4 * K * N);
      const packed = heap.alloc(fast.packedBSize(K, N));
      const c1 = heap.alloc(4 * M * N);
      const c2 = heap.alloc(4 * M * N);
      fillRandom(heap.f32(a, M * K), rand);
      fillRandom(heap.f32(b, K * N), rand);
      fast.packB(K, N, b, N, 1, packed);
      const flags = randomInt(rand, 0, 3);
      const args = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, ldc: N, flags };
      fast.gemm({ ...args, cPtr: c1 });
      plain.gemm({ ...args, cPtr: c2 });
      // Fused and unfused rounding differ by a few ulps of the partial sums.
      const x = heap.f32(c1, M * N);
      const y = heap.f32(c2, M * N);
      for (let i = 0; i < M * N; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-5 * Math.sqrt(K) + 1e-6);
      for (const p of [a, b, packed, c1, c2]) heap.free(p);
    }
  });

  it('keeps erf_f32 / gelu_f32 bit-identical to the scalar model (relaxed swizzle)', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20 });
    const g = createGemm(heap);
    const rand = seededRandom(12);
    const n = 10_003;
    const xs = Float32Array.from({ length: n }, () => (rand() - 0.5) * 10);
    for (const [name, model] of [
      ['erf_f32', erfF32],
      ['gelu_f32', geluF32],
    ] as const) {
      const p = heap.alloc(4 * n);
      heap.f32(p, n).set(xs);
      g.instance[name](p, n);
      const out = heap.f32(p, n);
      let mismatches = 0;
      for (let i = 0; i < n; i++) if (!Object.is(out[i], model(xs[i]))) mismatches++;
      expect(mismatches, name).toBe(0);
      heap.free(p);
    }
  });
});
