// Training exactness against PyTorch: fixtures/grad/<run>.trainstep.safetensors hold 3 AdamW steps (cross
// entropy with label smoothing 0.1, total-norm clipping 5, weight decay 0.05 with the reference's no-decay
// rule) in float64 PyTorch. The Trainer, fed the steps' inputs as a tensor file with no shuffle and no
// augmentation, must reproduce the loss of every step (1e-4 relative), the gradient norm, and every
// parameter after the last step within 10% of that tensor's largest update. Exempt: the key third of
// softmax attention's `qkv.bias`, whose gradient is exactly zero, so AdamW turns float32 rounding into
// updates of up to the learning rate.
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors, type TensorData } from '@wf/core';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../load.js';
import type { TrainData } from './data.js';
import { Trainer } from './trainer.js';

const RUNS = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
];

describe('training steps vs PyTorch (cpu)', () => {
  for (const { run, weights } of RUNS) {
    it(`${run}: 3 AdamW steps`, async () => {
      const model = await loadModel(fixturePath(`reference/${weights}.safetensors`));
      const before = new Map([...model.weights].map(([n, t]) => [n, Float32Array.from(t.data)]));
      const ref = parseSafetensors(readFixture(`grad/${run}.trainstep.safetensors`));
      const meta = ref.metadata;
      const steps = Number(meta.steps);
      const inputs = Array.from({ length: steps }, (_, s) => ref.tensor(`input.${s}`));
      const batch = inputs[0].shape[0];
      const per = inputs[0].data.length;
      const images = new Float32Array(per * steps);
      for (const [s, t] of inputs.entries()) images.set(t.data, s * per);
      const labels = new Int32Array(batch * steps);
      for (let s = 0; s < steps; s++) labels.set(ref.tensor(`labels.${s}`).data, s * batch);
      const [, c, h, w] = inputs[0].shape;
      const data: TrainData = { name: run, train: { images, imageShape: [c, h, w], labels } };
      const backend = createCpuBackend();
      const trainer = new Trainer(model, backend, data, {
        batch,
        epochs: 1,
        lr: Number(meta.lr),
        weightDecay: Number(meta.weight_decay),
        clipGradNorm: Number(meta.clip_grad_norm),
        labelSmoothing: 0.1,
        schedule: 'constant',
        shuffle: false,
        augment: false,
      });
      try {
        expect(trainer.totalSteps).toBe(steps);
        const refLoss = ref.tensor('loss').data;
        const refNorm = ref.tensor('grad_norm').data;
        for (let s = 0; s < steps; s++) {
          const rec = await trainer.trainStep();
          expect(Math.abs(rec.loss - refLoss[s]), `loss of step ${s}`).toBeLessThanOrEqual(
            1e-4 * Math.abs(refLoss[s]),
          );
          expect(Math.abs(rec.grad_norm - refNorm[s]), `grad_norm of step ${s}`).toBeLessThanOrEqual(
            1e-3 * refNorm[s],
          );
        }
        const bad: string[] = [];
        let worst = 0;
        let worstName = '';
        const names = ref.names().filter((n) => n.startsWith('param.'));
        expect(names.length).toBe(model.trainableWeights.length);
        for (const key of names) {
          const name = key.slice(6);
          const r: TensorData = ref.tensor(key);
          const p = model.weights.get(name)!.data;
          const p0 = before.get(name)!;
          const exempt = (i: number) =>
            name.endsWith('qkv.bias') && i >= r.data.length / 3 && i < (2 * r.data.length) / 3;
          let upd = 0;
          let err = 0;
          for (let i = 0; i < r.data.length; i++) {
            if (exempt(i)) continue;
            upd = Math.max(upd, Math.abs(r.data[i] - p0[i]));
            err = Math.max(err, Math.abs(p[i] - r.data[i]));
          }
          if (err / upd > worst) {
            worst = err / upd;
            worstName = name;
          }
          if (!(err <= 0.1 * upd))
            bad.push(`${name}: ${err.toExponential(2)} > 0.1 * ${upd.toExponential(2)}`);
        }
        if (process.env.WF_GRAD_REPORT)
          console.info(`${run}: worst param error / largest update = ${worst.toFixed(4)} (${worstName})`);
        expect(bad, bad.join('\n')).toEqual([]);
      } finally {
        await trainer.dispose();
        await model.dispose();
        backend.dispose();
      }
    }, 120_000);
  }
});
