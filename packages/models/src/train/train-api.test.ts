// Unit checks of the training API's pieces: the one-cycle schedule's defining points (PyTorch OneCycleLR:
// start max/25, peak at pct*total-1, end max/25/1e4, momentum 0.95 -> 0.85 -> 0.95), cosine warm-up,
// the reference no-decay rule, clipping, cross entropy's gradient against central differences, SGD /
// Nesterov on a quadratic, AdamW's first step, reproducible shuffling / shifts, and drop-path masks.

import type { TensorData } from '@wf/core';
import { describe, expect, it } from 'vitest';
import { randomModel } from '../variants.js';
import { epochOrder, gatherBatch, stepShift } from './data.js';
import { crossEntropy } from './loss.js';
import { AdamW, clipGradNorm, referenceDecays, Sgd } from './optim.js';
import { cosineSchedule, oneCycleSchedule } from './schedule.js';
import { toyConfig, toyData } from './test-support.js';
import { Trainer } from './trainer.js';

const t = (data: number[], shape = [data.length]): TensorData => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(data),
});

describe('schedules', () => {
  it('one-cycle as PyTorch OneCycleLR', () => {
    const s = oneCycleSchedule(2e-3, 100, { pctStart: 0.1 });
    expect(s.lr(0)).toBeCloseTo(2e-3 / 25, 12);
    expect(s.lr(9)).toBeCloseTo(2e-3, 12);
    expect(s.lr(99)).toBeCloseTo(2e-3 / 25 / 1e4, 12);
    expect(s.lr(5)).toBeGreaterThan(s.lr(4));
    expect(s.lr(50)).toBeLessThan(s.lr(40));
    expect(s.momentum!(0)).toBeCloseTo(0.95, 12);
    expect(s.momentum!(9)).toBeCloseTo(0.85, 12);
    expect(s.momentum!(99)).toBeCloseTo(0.95, 12);
  });
  it('cosine with linear warm-up down to a minimum', () => {
    const s = cosineSchedule(1, 20, 4, 0.1);
    expect([0, 1, 2, 3].map((k) => s.lr(k))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s.lr(4)).toBeCloseTo(1, 12);
    expect(s.lr(19)).toBeCloseTo(0.1, 12);
  });
});

describe('optimizers', () => {
  it('reference no-decay rule', () => {
    expect(referenceDecays('blocks.0.linear1.weight', [256, 64])).toBe(true);
    expect(referenceDecays('blocks.0.norm1.weight', [64])).toBe(false);
    expect(referenceDecays('head.bias', [10])).toBe(false);
    expect(referenceDecays('pos_embed', [1, 17, 64])).toBe(false);
    expect(referenceDecays('cls_token', [1, 1, 64])).toBe(false);
    expect(referenceDecays('dist_token', [1, 1, 64])).toBe(false);
  });
  it('clipping scales to the max norm and returns the norm before', () => {
    const g = [t([3, 0]), t([4])];
    expect(clipGradNorm(g, 1)).toBeCloseTo(5, 6);
    expect(Math.hypot(...g[0].data, ...g[1].data)).toBeCloseTo(1, 5);
  });
  it('AdamW first step moves every weight by lr (bias-corrected) plus decoupled decay', () => {
    const p = new Map([['w', t([1, -2])]]);
    const opt = new AdamW({ decay: new Map([['w', 0.1]]) });
    opt.step(p, new Map([['w', t([0.5, -3])]]), 0.01);
    // p*(1 - lr*wd) - lr * m_hat / (sqrt(v_hat) + eps), m_hat = g, sqrt(v_hat) = |g|
    expect(p.get('w')!.data[0]).toBeCloseTo(1 * (1 - 0.001) - 0.01, 6);
    expect(p.get('w')!.data[1]).toBeCloseTo(-2 * (1 - 0.001) + 0.01, 6);
  });
  it('SGD with (Nesterov) momentum minimizes a quadratic', () => {
    for (const nesterov of [false, true]) {
      const p = new Map([['w', t([5])]]);
      const opt = new Sgd({ momentum: 0.9, nesterov });
      for (let i = 0; i < 200; i++) opt.step(p, new Map([['w', t([2 * p.get('w')!.data[0]])]]), 0.05);
      expect(Math.abs(p.get('w')!.data[0])).toBeLessThan(1e-3);
    }
  });
});

describe('cross entropy', () => {
  it('gradient matches central differences (label smoothing 0.1)', () => {
    const logits = t([0.3, -1.2, 2.0, 0.1, 0.5, -0.4], [2, 3]);
    const labels = [2, 0];
    const { grad } = crossEntropy(logits, labels, 0.1);
    for (let i = 0; i < 6; i++) {
      const up = Float64Array.from(logits.data);
      const f = (d: number) => {
        const x = { ...logits, data: Float32Array.from(up.map((v, j) => (j === i ? v + d : v))) };
        return crossEntropy(x, labels, 0.1).loss;
      };
      expect(grad.data[i]).toBeCloseTo((f(1e-3) - f(-1e-3)) / 2e-3, 4);
    }
  });
});

describe('data', () => {
  it('shuffles and shifts reproducibly per seed', () => {
    expect(epochOrder(10, 3, 7, true)).toEqual(epochOrder(10, 3, 7, true));
    expect(epochOrder(10, 3, 7, true)).not.toEqual(epochOrder(10, 4, 7, true));
    expect([...epochOrder(10, 3, 7, true)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    const shifts = Array.from({ length: 200 }, (_, k) => stepShift(k, 1));
    expect(new Set(shifts.flat())).toEqual(new Set([-2, -1, 0, 1, 2]));
  });
  it('shift pads with the background value', () => {
    const set = {
      images: Float32Array.from([1, 2, 3, 4]),
      imageShape: [1, 2, 2] as [number, number, number],
      labels: Int32Array.of(0),
    };
    expect([...gatherBatch(set, [0], [1, 0], [9]).input.data]).toEqual([9, 1, 9, 3]);
    expect([...gatherBatch(set, [0], [0, -1], [9]).input.data]).toEqual([3, 4, 9, 9]);
  });
});

describe('drop-path', () => {
  const cfg = toyConfig();
  const data = toyData((i) => Math.sin(i));
  it('masks are per sample, 0 or 1/keep, rate rising linearly over depth, seeded by the step', async () => {
    const { createCpuBackend } = await import('@wf/backend-cpu');
    const tr = new Trainer(randomModel(cfg), createCpuBackend(), data, { batch: 8, steps: 2, dropPath: 0.5 });
    expect([0, 1, 2].map((i) => tr.dropRate(i))).toEqual([0, 0.25, 0.5]);
    const m = tr.dropPathMasks(0, 1000);
    expect(Object.keys(m).sort()).toEqual([
      'drop_path.1.0',
      'drop_path.1.1',
      'drop_path.2.0',
      'drop_path.2.1',
    ]);
    const v = m['drop_path.2.0'].data;
    expect(new Set(v)).toEqual(new Set([0, 2]));
    const dropped = v.filter((x) => x === 0).length / 1000;
    expect(dropped).toBeGreaterThan(0.4);
    expect(dropped).toBeLessThan(0.6);
    expect(tr.dropPathMasks(0, 1000)).toEqual(m);
    expect(tr.dropPathMasks(1, 1000)).not.toEqual(m);
  });
  it('changes the training step (train mode) and leaves evaluation alone', async () => {
    const { createCpuBackend } = await import('@wf/backend-cpu');
    const be = createCpuBackend();
    const run = async (dropPath: number) => {
      const tr = new Trainer(
        randomModel(cfg, { seed: 3 }),
        be,
        { ...data, test: data.train },
        { batch: 8, steps: 1, dropPath, augment: false },
      );
      const ev = await tr.evaluate();
      const rec = await tr.trainStep();
      await tr.dispose();
      return { ev, loss: rec.loss, w: tr.model.weights.get('head.weight')!.data };
    };
    const a = await run(0);
    const b = await run(0.9);
    const c = await run(0.9);
    expect(b.ev).toEqual(a.ev);
    expect(b.w).toEqual(c.w);
    expect(b.loss).not.toBe(a.loss);
    be.dispose();
  }, 60_000);
});
