// Weights as parameters: a model compiled at two shapes holds one copy of its weights per backend, and an
// update (`setWeights`, an in-place edit plus `weightsUpdated`, a training step, a new `pos_embed` for a
// resized ViT grid) is seen by every compiled pass at its next run without recompiling, on the cpu fast
// backend (whose packed weight copies must follow) and the plain one. Checked against the float64 oracle.
import { createCpuBackend } from '@wf/backend-cpu';
import { residentParameters, type TensorData } from '@wf/core';
import { evaluateF64, expectClose } from '@wf/core/testing';
import { readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { loadModel } from './load.js';
import { WfModel } from './model.js';
import { toyConfig, toyData } from './train/test-support.js';
import { Trainer } from './train/trainer.js';
import { randomModel } from './variants.js';

const microBytes = readFixture('reference/wfm-micro.safetensors');

/** A seeded perturbation of `t` (same shape), far enough from it to move every output. */
function perturbed(t: TensorData, seed: number): TensorData {
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < data.length; i++) data[i] = t.data[i] * -1.5 + 0.05 * Math.sin(seed + i);
  return { dtype: 'float32', shape: [...t.shape], data };
}

function image(size: number, seed: number): TensorData {
  const data = new Float32Array(3 * size * size).map((_, i) => Math.sin(seed + i * 0.37));
  return { dtype: 'float32', shape: [1, 3, size, size], data };
}

describe.each([
  ['cpu (fast kernels)', () => createCpuBackend()],
  ['cpu (plain kernels)', () => createCpuBackend({ kernels: 'plain' })],
])('parameters on %s', (_, makeBackend) => {
  it('two compiled shapes share one copy of the weights and both see an update without recompiling', async () => {
    const backend = makeBackend();
    const model = await loadModel(microBytes);
    try {
      const sizes = [64, 80];
      const compiled = await Promise.all(sizes.map((s) => model.compile(backend, { height: s })));
      // One copy of every weight, whatever the number of compiled shapes.
      let weightBytes = 0;
      for (const t of model.weights.values()) weightBytes += t.data.byteLength;
      const held = residentParameters(backend);
      expect(held.count).toBe(model.weights.size);
      expect(held.bytes).toBeLessThan(weightBytes + 4 * model.weights.size + 1);
      const inputs = sizes.map((s, i) => image(s, i));
      const check = async (label: string) => {
        const outs: TensorData[] = [];
        for (const [i, s] of sizes.entries()) {
          const got = (await compiled[i].run(inputs[i])).logits;
          // The oracle reads the parameters' current values.
          const want = evaluateF64(model.graph({ height: s }), { input: inputs[i] }).logits;
          expectClose(got, want, 1e-4, `${label} at ${s}px`);
          outs.push(got);
        }
        return outs;
      };
      const before = await check('first run');
      for (const [i, c] of compiled.entries()) expect((await c.run(inputs[i])).logits).toEqual(before[i]);
      // Every linear, conv and norm weight of the first two blocks and the head change.
      const update = new Map(
        [...model.weights]
          .filter(([n]) => n.startsWith('blocks.0.') || n.startsWith('blocks.1.') || n.startsWith('head.'))
          .map(([n, t], k) => [n, perturbed(t, k)] as const),
      );
      model.setWeights(update);
      const after = await check('after setWeights');
      for (const i of [0, 1]) expect(after[i].data).not.toEqual(before[i].data);
      // In place, then weightsUpdated.
      const head = model.weights.get('head.weight')!.data;
      for (let i = 0; i < head.length; i++) head[i] *= 0.5;
      model.weightsUpdated(['head.weight']);
      await check('after an in-place edit');
      // Same compiled passes, nothing recompiled, still one copy.
      expect(await model.compile(backend, { height: 64 })).toBe(compiled[0]);
      expect(await model.compile(backend, { height: 80 })).toBe(compiled[1]);
      expect(model.compiledCount).toBe(2);
      expect(residentParameters(backend).count).toBe(model.weights.size);
      expect(() => model.setWeights({ 'head.weight': image(8, 0) })).toThrow(
        /head\.weight.*got float32\[1,3,8,8\]/,
      );
      expect(() => model.setWeights({ nope: image(8, 0) })).toThrow(/no weight named "nope"/);
    } finally {
      await model.dispose();
      expect(residentParameters(backend).count).toBe(0);
      backend.dispose();
    }
  });
});

describe('parameters through training and derived tables', () => {
  it('a forward pass compiled before a training step runs with the stepped weights', async () => {
    const backend = createCpuBackend();
    const model = randomModel(toyConfig(), { seed: 5 });
    const data = toyData((i) => Math.cos(i * 0.3));
    const x: TensorData = { dtype: 'float32', shape: [1, 1, 16, 16], data: data.train.images.slice(0, 256) };
    const compiled = await model.compile(backend);
    const before = (await compiled.run(x)).logits;
    const tr = new Trainer(model, backend, data, { batch: 8, steps: 1, augment: false, lr: 0.05 });
    await tr.trainStep();
    await tr.dispose();
    const after = (await compiled.run(x)).logits;
    expect(after.data).not.toEqual(before.data);
    expectClose(after, evaluateF64(model.graph(), { input: x }).logits, 1e-4, 'after a training step');
    await model.dispose();
    backend.dispose();
  }, 60_000);

  it('a ViT compiled at another grid follows an update of pos_embed', async () => {
    const backend = createCpuBackend();
    const model = await loadModel(readFixture('reference/deit-micro-64.safetensors'), { heads: 2 });
    const size = 96; // not the native 64: the position table is resized
    const x = image(size, 3);
    const compiled = await model.compile(backend, { height: size });
    await compiled.run(x);
    const pos = perturbed(model.weights.get('pos_embed')!, 9);
    model.setWeights({ pos_embed: pos });
    const got = (await compiled.run(x)).logits;
    // A fresh model with the new weights, traced from scratch, is the reference.
    const fresh = new WfModel(
      model.config,
      new Map([...model.weights].map(([n, t]) => [n, { ...t, data: t.data.slice() }])),
    );
    expectClose(
      got,
      evaluateF64(fresh.graph({ height: size }), { input: x }).logits,
      1e-4,
      'resized pos_embed',
    );
    await model.dispose();
    backend.dispose();
  });
});
