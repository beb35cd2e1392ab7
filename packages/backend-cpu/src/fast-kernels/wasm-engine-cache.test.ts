// Tests of the wasm engine's packed-B cache for constant weights: one packed copy per view of a storage
// (offset, shape, strides), reused when the same view comes back (even through a new view object), all
// freed with the storage; a copy is packed again when B's version (a parameter's) changes. Checked
// against the portable JS engine.
import { describe, expect, it } from 'vitest';
import { WasmHeap } from '../fast/heap.js';
import { seededRandom } from '../fast/test-helpers.js';
import { jsMatmulEngine, type MatView } from './matmul-engine.js';
import { WasmMatmulEngine } from './wasm-engine.js';

describe('WasmMatmulEngine: packed constant B cache', () => {
  it('keys packed copies by storage and exact view, and frees them with the storage', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20, shared: false });
    const engine = new WasmMatmulEngine(heap, 1);
    try {
      const r = seededRandom(7);
      const n = 6; // W is n x n at the start of its own storage, like a compiled constant
      const base = heap.alloc(4 * n * n);
      const w = heap.f32(base, n * n);
      for (let i = 0; i < w.length; i++) w[i] = r() * 2 - 1;
      engine.noteBuffer(w.buffer);
      const a = Float32Array.from({ length: 3 * n }, () => r() * 2 - 1);
      const aView: MatView = { data: a, offset: 0, rows: 3, cols: n, rowStride: n, colStride: 1 };
      const views: Record<string, () => MatView> = {
        W: () => ({ data: w, offset: 0, rows: n, cols: n, rowStride: n, colStride: 1 }),
        Wᵀ: () => ({ data: w, offset: 0, rows: n, cols: n, rowStride: 1, colStride: n }),
        'W[2:, 1:] as 4 x 5 (offset)': () => ({
          data: w,
          offset: 2 * n + 1,
          rows: 4,
          cols: 5,
          rowStride: n,
          colStride: 1,
        }),
      };
      const product = (bView: MatView, k: number) => {
        const av = { ...aView, cols: k };
        const got = new Float32Array(3 * bView.cols);
        const want = new Float32Array(3 * bView.cols);
        const c = (data: Float32Array): MatView => ({
          data,
          offset: 0,
          rows: 3,
          cols: bView.cols,
          rowStride: bView.cols,
          colStride: 1,
        });
        engine.matmul(av, bView, c(got), { bConstant: true });
        jsMatmulEngine.matmul(av, bView, c(want));
        return { got, want };
      };
      const used0 = heap.usedBytes;
      let usedAfterFirstPass = 0;
      for (let pass = 0; pass < 3; pass++) {
        // alternate layouts of the same storage; fresh view objects every time
        for (const [label, make] of Object.entries(views)) {
          const v = make();
          const { got, want } = product(v, v.rows);
          for (let i = 0; i < got.length; i++)
            expect(Math.abs(got[i] - want[i]), `${label}, pass ${pass}, [${i}]`).toBeLessThan(1e-5);
        }
        if (pass === 0) usedAfterFirstPass = heap.usedBytes;
        else expect(heap.usedBytes).toBe(usedAfterFirstPass); // cache hits: nothing packed again
      }
      expect(usedAfterFirstPass).toBeGreaterThan(used0); // three packed copies are cached
      engine.releaseStorage(base);
      expect(heap.usedBytes).toBe(used0);
      heap.free(base);
    } finally {
      engine.dispose();
    }
  });

  it('packs a weight again when its version changes, in place, and reuses it while it does not', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 20, shared: false });
    const engine = new WasmMatmulEngine(heap, 1);
    try {
      const r = seededRandom(11);
      const n = 5;
      const base = heap.alloc(4 * n * n);
      const w = heap.f32(base, n * n);
      engine.noteBuffer(w.buffer);
      const a = Float32Array.from({ length: 2 * n }, () => r() * 2 - 1);
      const av: MatView = { data: a, offset: 0, rows: 2, cols: n, rowStride: n, colStride: 1 };
      const run = (version: number) => {
        const bv: MatView = { data: w, offset: 0, rows: n, cols: n, rowStride: 1, colStride: n };
        const got = new Float32Array(2 * n);
        const want = new Float32Array(2 * n);
        const c = (data: Float32Array): MatView => ({
          data,
          offset: 0,
          rows: 2,
          cols: n,
          rowStride: n,
          colStride: 1,
        });
        engine.matmul(av, bv, c(got), { bConstant: true, bVersion: version });
        jsMatmulEngine.matmul(av, bv, c(want));
        for (let i = 0; i < got.length; i++)
          expect(Math.abs(got[i] - want[i]), `v${version} [${i}]`).toBeLessThan(1e-5);
      };
      for (let i = 0; i < w.length; i++) w[i] = r() * 2 - 1;
      run(0);
      const packs = engine.packCount;
      const used = heap.usedBytes;
      run(0); // same version: the cached copy
      expect(engine.packCount).toBe(packs);
      // the weight is updated in place (same storage, same view): a stale copy would give old products
      for (let i = 0; i < w.length; i++) w[i] = r() * 2 - 1;
      run(1);
      expect(engine.packCount).toBe(packs + 1);
      expect(heap.usedBytes).toBe(used); // packed again where the old copy was
      run(1);
      expect(engine.packCount).toBe(packs + 1);
      engine.releaseStorage(base);
      heap.free(base);
    } finally {
      engine.dispose();
    }
  });
});
