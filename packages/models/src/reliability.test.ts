// Reliability on the cpu backend: memory stays flat over 1,000 consecutive WeightFormer inferences, disposal
// is idempotent and gives every byte back, long runs take an AbortSignal, and the graph memory planner
// stays within 1.2x of the largest live set on every model the package ships.
import { createCpuBackend } from '@wf/backend-cpu';
import { compile, type TensorData, yieldToEventLoop } from '@wf/core';
import { memoryAfterGc } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { loadBuiltinModel } from './node.js';
import { type ModelVariant, randomModel } from './variants.js';

const RUNS = 1000;
// long enough for V8 to finish optimizing the run path: its code and feedback are heap too
const WARMUP = 250;

/** A deterministic input image of `shape`. */
function image(shape: number[], seed = 1): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 + seed);
  return { dtype: 'float32', shape, data };
}

describe('memory hygiene (cpu backend)', () => {
  it(`${RUNS} consecutive wfm-mnist inferences: no growth of heap, ArrayBuffers or backend storage`, async () => {
    const backend = createCpuBackend();
    await backend.ready;
    const model = await loadBuiltinModel('wfm-mnist');
    const x = image([1, 1, 28, 28]);
    const first = (await model.run(backend, x)).logits;
    for (let i = 1; i < WARMUP; i++) {
      if (i % 25 === 0) await yieldToEventLoop();
      await model.run(backend, x);
    }
    const storage = backend.allocatedBytes;
    const snaps = [await memoryAfterGc()];
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < RUNS / 4; i++) {
        // a synchronous backend never yields to the event loop by itself: let vitest's RPC through
        if (i % 25 === 0) await yieldToEventLoop();
        const out = await model.run(backend, x);
        if (i === 0) expect(out.logits.data).toEqual(first.data);
      }
      snaps.push(await memoryAfterGc());
    }
    const growth = (key: 'heapUsed' | 'arrayBuffers' | 'external') => snaps[4][key] - snaps[0][key];
    const report = snaps.map((s) => `heap ${s.heapUsed} ab ${s.arrayBuffers} ext ${s.external}`).join('; ');
    console.log(`[memory] cpu ${RUNS} runs: ${report}; storage ${storage} B`);
    // JIT code and inline caches settle during the first runs; a leak of one 10-float output per run
    // would already add 40 kB per 1,000 runs to ArrayBuffers, and any per-run JS object to the heap.
    expect(growth('heapUsed'), report).toBeLessThan(512 * 1024);
    expect(growth('arrayBuffers'), report).toBeLessThan(16 * 1024);
    expect(growth('external'), report).toBeLessThan(16 * 1024);
    expect(snaps[4].heapUsed - snaps[2].heapUsed, report).toBeLessThan(256 * 1024);
    expect(backend.allocatedBytes).toBe(storage);
    await model.dispose();
    backend.dispose();
  });

  it('disposal is idempotent and gives every storage byte back', async () => {
    const backend = createCpuBackend();
    await backend.ready;
    const model = randomModel('wfm-tiny', { seed: 3 });
    const compiled = await model.compile(backend, { height: 64 });
    await compiled.run(image([1, 3, 64, 64]));
    expect(backend.allocatedBytes).toBeGreaterThan(0);
    compiled.dispose();
    compiled.dispose();
    expect(backend.allocatedBytes).toBe(0);
    await expect(compiled.run(image([1, 3, 64, 64]))).rejects.toThrow(/disposed/);
    await model.dispose();
    await model.dispose();
    // the model compiles again after dispose
    const again = await model.run(backend, image([1, 3, 64, 64]));
    expect(again.logits.shape).toEqual([1, 1000]);
    await model.dispose();
    expect(backend.allocatedBytes).toBe(0);
    backend.dispose();
    backend.dispose();
    await expect(model.run(backend, image([1, 3, 64, 64]))).rejects.toThrow(/disposed/);
  });
});

describe('cancellation', () => {
  it('an AbortSignal stops a long run between ops; the model stays usable and exact', async () => {
    const backend = createCpuBackend({ kernels: 'plain' });
    const model = randomModel('wfm-tiny', { seed: 5 });
    // 112 px (49 tokens) on the plain kernels: about half a second alone, long enough to abort mid-run
    const x = image([1, 3, 112, 112]);
    const compiled = await model.compile(backend, { height: 112 });
    const t0 = performance.now();
    const reference = await compiled.run(x);
    const fullMs = performance.now() - t0;

    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('stop, the user left')), 20);
    await expect(model.run(backend, x, { signal: controller.signal })).rejects.toThrow('stop, the user left');
    const abortedMs = performance.now() - started;
    console.log(`[abort] full run ${fullMs.toFixed(0)} ms, aborted after ${abortedMs.toFixed(0)} ms`);
    expect(abortedMs).toBeLessThan(fullMs);

    await expect(model.run(backend, x, { signal: AbortSignal.abort() })).rejects.toThrow();
    const after = await model.run(backend, x, { signal: new AbortController().signal });
    expect(after.logits.data).toEqual(reference.logits.data);
    await model.dispose();
    compiled.dispose();
  });
});

/** One variant per architecture and patch size (the -s/-b and -small/-base ones differ only in width). */
const PLAN_VARIANTS: ModelVariant[] = ['wfm-tiny', 'deit-tiny', 'wfm-dit-s-2', 'wfm-dit-s-4', 'wfm-dit-s-8'];

describe('memory planner', () => {
  it('the arena plan of each architecture is within 1.2x of the largest live set', async () => {
    const backend = createCpuBackend({ kernels: 'plain' });
    const rows: string[] = [];
    for (const variant of PLAN_VARIANTS) {
      const model = randomModel(variant, { seed: 1 });
      const dit = variant.startsWith('wfm-dit');
      for (const opts of [{}, { batch: 2 }, { hidden: true }, ...(dit ? [{ batch: 2, cfgScale: 4 }] : [])]) {
        await yieldToEventLoop();
        const compiled = await compile(model.graph(opts), backend);
        const { arenaBytes, maxLiveBytes } = compiled.plan;
        rows.push(`${variant} ${JSON.stringify(opts)} ${(arenaBytes / maxLiveBytes).toFixed(3)}`);
        expect(arenaBytes, rows.at(-1)).toBeLessThanOrEqual(1.2 * maxLiveBytes);
        compiled.dispose();
      }
    }
    console.log(`[plan] arena / live set: ${rows.join('; ')}`);
  });
});
