// Memory of the documented patterns: a model's compiled-graph cache is bounded and frees what it evicts,
// disposing a backend drops its graphs, and the getting-started loop (a new cpu backend per call, never
// disposed) keeps resident memory flat.
import { createCpuBackend } from '@wf/backend-cpu';
import { describe, expect, test } from 'vitest';
import { preprocessMnistDigit } from './image/preprocess.js';
import { loadBuiltinModel } from './node.js';

const mb = () => process.memoryUsage().rss / 2 ** 20;

describe('compiled-graph cache', () => {
  test('is bounded, frees evictions, and drops the graphs of a disposed backend', async () => {
    const model = await loadBuiltinModel('wfm-mnist');
    model.maxCompiled = 2;
    const backend = createCpuBackend();
    const first = await model.compile(backend, { batch: 1 });
    await model.compile(backend, { batch: 2 });
    await model.compile(backend, { batch: 3 });
    expect(model.compiledCount).toBe(2);
    // The evicted graph (batch 1, least recently used) was freed.
    await new Promise((r) => setTimeout(r, 0));
    await expect(first.run(preprocessMnistDigit(new Float32Array(784)))).rejects.toThrow(/disposed/);
    const other = createCpuBackend();
    await model.compile(other, { batch: 1 });
    expect(model.compiledCount).toBe(2);
    other.dispose();
    expect(model.compiledCount).toBe(1);
    backend.dispose();
    expect(model.compiledCount).toBe(0);
    await model.dispose();
  });
});

describe('backends per model', () => {
  test('passes are kept for at most maxBackends backends; the least recently used one is dropped', async () => {
    const model = await loadBuiltinModel('wfm-mnist');
    expect(model.maxBackends).toBe(2);
    const bs = [createCpuBackend(), createCpuBackend(), createCpuBackend()];
    const first = await model.compile(bs[0]);
    const second = await model.compile(bs[1]);
    await model.compile(bs[0]); // bs[0] is now the most recently used
    expect(model.compiledCount).toBe(2);
    await model.compile(bs[2]);
    expect(model.compiledCount).toBe(2);
    const x = preprocessMnistDigit(new Float32Array(784));
    await expect(second.run(x)).rejects.toThrow(/disposed/);
    expect((await first.run(x)).logits.shape).toEqual([1, 10]);
    for (const b of bs) b.dispose();
    expect(model.compiledCount).toBe(0);
    await model.dispose();
  });
});

describe('getting-started pattern', () => {
  test('model.run(createCpuBackend(), x) 50 times stays within 100 MB of the first call', async () => {
    const model = await loadBuiltinModel('wfm-mnist');
    const x = preprocessMnistDigit(new Float32Array(784).fill(0.5));
    await model.run(createCpuBackend(), x);
    const base = mb();
    let peak = base;
    for (let i = 1; i < 50; i++) {
      const { logits } = await model.run(createCpuBackend(), x);
      expect(logits.shape).toEqual([1, 10]);
      peak = Math.max(peak, mb());
    }
    expect(peak - base).toBeLessThan(100);
    expect(model.compiledCount).toBeLessThanOrEqual(model.maxCompiled);
    await model.dispose();
  }, 60_000);
});
