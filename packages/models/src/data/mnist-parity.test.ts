// MNIST parity of the built-in models: all 2,004 test logits of WeightFormer and ViT within
// max|y - ref| <= 1e-4 * max(1, max|ref|) of the float64 reference, and the accuracies exactly 98.30% and
// 96.71% (cpu backend).
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors } from '@wf/core';
import { readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { loadBuiltinModel } from '../node.js';
import { evaluateMnist } from './mnist-eval-node.js';

describe.each([
  { name: 'wfm-mnist' as const, accuracy: '98.30' },
  { name: 'vit-mnist' as const, accuracy: '96.71' },
])('$name on the MNIST test split', ({ name, accuracy }) => {
  it(`matches all 2,004 reference logits and scores ${accuracy}%`, async () => {
    const ref = parseSafetensors(readFixture(`mnist/${name}.test.safetensors`));
    const refLogits = ref.tensor('logits');
    const model = await loadBuiltinModel(name);
    const r = await evaluateMnist(model, createCpuBackend(), { batch: 167 });
    expect(Array.from(ref.tensor('labels').data)).toEqual(r.labels);
    expect(r.logits.length).toBe(2004 * 10);
    let err = 0;
    let mx = 0;
    for (let i = 0; i < refLogits.data.length; i++) {
      err = Math.max(err, Math.abs(r.logits[i] - refLogits.data[i]));
      mx = Math.max(mx, Math.abs(refLogits.data[i]));
    }
    expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, mx));
    expect((100 * r.accuracy).toFixed(2)).toBe(accuracy);
  }, 600_000);
});
