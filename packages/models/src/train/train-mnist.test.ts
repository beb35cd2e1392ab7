// Training end to end on the built-in MNIST digits with a tiny WeightFormer from a seeded random init:
// the test accuracy must rise well above chance after a few dozen steps, and a run interrupted by a
// checkpoint (written, read back from disk into a fresh model and trainer) must end with exactly the
// weights of an uninterrupted run (shuffle, shift augmentation and schedule all keyed to the step).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@wf/backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import type { WfmConfig } from '../config.js';
import { randomModel } from '../variants.js';
import { loadTrainCheckpoint, saveTrainCheckpoint } from './checkpoint-node.js';
import { mnistTrainData } from './data-node.js';
import { Trainer, type TrainOptions } from './trainer.js';

const TINY: WfmConfig = {
  arch: 'wfm',
  imgSize: 32,
  patchSize: 8,
  inChans: 1,
  numClasses: 10,
  embedDim: 16,
  depth: 2,
  mlpRatio: 2,
  dynamicBlocks: [1],
};

const data = mnistTrainData({ testLimit: 300 });
const dir = mkdtempSync(join(tmpdir(), 'wf-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training on MNIST (cpu, tiny WeightFormer)', () => {
  it('test accuracy rises from chance', async () => {
    const backend = createCpuBackend();
    const model = randomModel(TINY, { seed: 1 });
    const t = new Trainer(model, backend, data, {
      batch: 32,
      steps: 40,
      lr: 5e-3,
      schedule: 'onecycle',
      warmup: 0.1,
      labelSmoothing: 0.1,
      seed: 0,
    });
    try {
      const before = (await t.evaluate())!.accuracy;
      let last = 0;
      while (!t.done) last = (await t.trainStep()).loss;
      const after = (await t.evaluate())!.accuracy;
      expect(Number.isFinite(last)).toBe(true);
      expect(before).toBeLessThan(0.25);
      expect(after).toBeGreaterThan(before + 0.25);
    } finally {
      await t.dispose();
      backend.dispose();
    }
  }, 120_000);

  it('interrupted and resumed from a checkpoint == uninterrupted', async () => {
    const backend = createCpuBackend();
    const opts: TrainOptions = {
      batch: 16,
      steps: 6,
      lr: 3e-3,
      schedule: 'cosine',
      warmup: 0.3,
      clipGradNorm: 1,
      labelSmoothing: 0.1,
      seed: 7,
    };
    // a tiny training set so the 6 steps cross an epoch boundary (new shuffle)
    const small = mnistTrainData({ limit: 40, testLimit: 1 });
    const full = new Trainer(randomModel(TINY, { seed: 2 }), backend, small, opts);
    while (!full.done) await full.trainStep();

    const first = new Trainer(randomModel(TINY, { seed: 2 }), backend, small, opts);
    for (let i = 0; i < 4; i++) await first.trainStep();
    const ckpt = join(dir, 'ckpt.safetensors');
    await saveTrainCheckpoint(ckpt, first);
    await first.dispose();

    const saved = await loadTrainCheckpoint(ckpt);
    expect(saved.model.config).toEqual(TINY);
    const second = new Trainer(saved.model, backend, small, opts);
    second.restore(saved.tensors, saved.meta);
    expect(second.step).toBe(4);
    while (!second.done) await second.trainStep();
    try {
      for (const [name, w] of full.model.weights)
        expect(saved.model.weights.get(name)!.data, name).toEqual(w.data);
    } finally {
      await full.dispose();
      await second.dispose();
      backend.dispose();
    }
  }, 120_000);
});
