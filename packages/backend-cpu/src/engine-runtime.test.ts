// Which engine the CPU backend runs and why (`runtime()`), threads from the first run (compile awaits the
// worker pool), and the one-thread WebAssembly SIMD engine over a plain (non-shared) memory that an
// ordinary web page gets: same results as the threaded engine, also when the heap grows inside kernels.
import { compile, F, type Graph, trace } from '@wf/core';
import { expectClose, randomTensor, rng } from '@wf/core/testing';
import { describe, expect, it } from 'vitest';
import { type CpuBackend, createCpuBackend } from './index.js';

const r = rng(15);
const [M, K, N] = [24, 384, 320]; // weights dominate: packing them grows the heap during the first run
const w1 = randomTensor([N, K], r);
const b1 = randomTensor([N], r);
const w2 = randomTensor([K, N], r);
const ln = randomTensor([K], r);
const mlp: Graph = trace((t) => {
  const x = t.input('x', [2, M, K]);
  const h = F.linear(x, t.constant(w1), t.constant(b1), 'gelu');
  const y = F.add(x, F.linear(h, t.constant(w2), undefined));
  return { y: F.layerNorm(y, t.constant(ln), t.constant(ln)), s: F.softmax(F.transpose(h)) };
});
const input = { x: randomTensor([2, M, K], r) };

/** The wasm heap's growth counter (private: tests only). */
const growths = (b: CpuBackend): number => (b as unknown as { heap: { generation: number } }).heap.generation;

describe('CpuBackend.runtime()', () => {
  it('reports wasm-simd with every requested thread once compile returns (no await of ready)', async () => {
    const backend = createCpuBackend({ threads: 2 });
    const c = await compile(mlp, backend);
    const rt = backend.runtime();
    expect(rt).toMatchObject({ engine: 'wasm-simd', threads: 2, requestedThreads: 2, sharedMemory: true });
    expect(rt.reason).toBeUndefined();
    expect(rt.summary).toBe('wasm-simd x2');
    await c.run(input);
    const stats = (backend.engine as unknown as { poolStats?: { jobs: number } }).poolStats;
    expect(stats?.jobs).toBeGreaterThan(0); // the first run already split products over the pool
    backend.dispose();
  });

  it('says why it runs one thread or JavaScript', () => {
    const plainHeap = createCpuBackend({ threads: 4, sharedMemory: false });
    expect(plainHeap.runtime()).toMatchObject({
      engine: 'wasm-simd',
      threads: 1,
      sharedMemory: false,
      summary: 'wasm-simd x1: sharedMemory: false requested',
    });
    expect(createCpuBackend({ engine: 'js' }).runtime().summary).toBe('JavaScript x1: engine "js" requested');
    expect(createCpuBackend({ kernels: 'plain' }).runtime().summary).toBe(
      'plain JavaScript x1: kernels "plain" requested',
    );
    expect(createCpuBackend({ threads: 1 }).runtime().summary).toBe('wasm-simd x1');
    plainHeap.dispose();
  });
});

describe('WebAssembly SIMD on a plain memory (one thread)', () => {
  it('equals the threaded engine bit for bit, across heap growths inside kernels', async () => {
    const threaded = createCpuBackend({ threads: 2 });
    const single = createCpuBackend({ sharedMemory: false, initialHeapBytes: 1 << 16 });
    const reference = createCpuBackend({ kernels: 'plain' });
    const [ct, cs, cr] = await Promise.all([
      compile(mlp, threaded),
      compile(mlp, single),
      compile(mlp, reference),
    ]);
    const before = growths(single);
    const a = await ct.run(input);
    const b = await cs.run(input);
    expect(growths(single)).toBeGreaterThan(before); // packed weights and scratch grew the heap mid-run
    const b2 = await cs.run(input);
    const ref = await cr.run(input);
    for (const k of ['y', 's']) {
      expect(Array.from(b[k].data)).toEqual(Array.from(a[k].data));
      expect(Array.from(b2[k].data)).toEqual(Array.from(a[k].data));
      expectClose(b[k], ref[k], 2e-5, k);
    }
    for (const x of [threaded, single, reference]) x.dispose();
  });

  it('refuses sharedMemory: true where SharedArrayBuffer is missing', () => {
    const sab = globalThis.SharedArrayBuffer;
    // biome-ignore lint/suspicious/noExplicitAny: simulating a page without SharedArrayBuffer
    (globalThis as any).SharedArrayBuffer = undefined;
    try {
      expect(() => createCpuBackend({ sharedMemory: true })).toThrow(/needs SharedArrayBuffer/);
      const b = createCpuBackend({ threads: 2, notice: null });
      expect(b.runtime().summary).toBe('wasm-simd x1: SharedArrayBuffer unavailable');
      b.dispose();
    } finally {
      globalThis.SharedArrayBuffer = sab;
    }
  });
});
