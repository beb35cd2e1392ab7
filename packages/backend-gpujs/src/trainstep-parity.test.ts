// Training exactness on the gpu.js backend (webasm mode): the three AdamW steps of
// fixtures/grad/<run>.trainstep.safetensors run through the Trainer of @wf/models reproduce PyTorch's loss
// per step (1e-4 relative) and every parameter within 10% of its largest update (the key third of
// attention's qkv.bias exempt: its gradient is exactly zero, see the cpu test in @wf/models).
import { parseSafetensors, type TensorData } from '@wf/core';
import { loadModel, type TrainData, Trainer } from '@wf/models';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import type { GpujsBackend } from './gpujs-backend.js';

describe('training steps vs PyTorch (gpujs:webasm)', () => {
  let backend: GpujsBackend;
  beforeAll(async () => {
    backend = await createGpujsBackend({ mode: 'webasm' });
  }, 60_000);
  afterAll(() => backend?.dispose());

  it.each([
    { run: 'wfm-micro-64', weights: 'wfm-micro' },
    { run: 'deit-micro-64', weights: 'deit-micro-64' },
  ])(
    '$run: 3 AdamW steps',
    async ({ run, weights }) => {
      const model = await loadModel(fixturePath(`reference/${weights}.safetensors`));
      const before = new Map([...model.weights].map(([n, t]) => [n, Float32Array.from(t.data)]));
      const ref = parseSafetensors(readFixture(`grad/${run}.trainstep.safetensors`));
      const m = ref.metadata;
      const ins = [0, 1, 2].map((s) => ref.tensor(`input.${s}`));
      const per = ins[0].data.length;
      const images = new Float32Array(per * 3);
      for (const [s, t] of ins.entries()) images.set(t.data, s * per);
      const labels = new Int32Array(12);
      for (let s = 0; s < 3; s++) labels.set(ref.tensor(`labels.${s}`).data, s * 4);
      const [, c, h, w] = ins[0].shape;
      const data: TrainData = { name: run, train: { images, imageShape: [c, h, w], labels } };
      const trainer = new Trainer(model, backend, data, {
        batch: 4,
        lr: Number(m.lr),
        weightDecay: Number(m.weight_decay),
        clipGradNorm: Number(m.clip_grad_norm),
        labelSmoothing: 0.1,
        shuffle: false,
        augment: false,
      });
      try {
        const refLoss = ref.tensor('loss').data;
        for (let s = 0; s < 3; s++) {
          const rec = await trainer.trainStep();
          expect(Math.abs(rec.loss - refLoss[s])).toBeLessThanOrEqual(1e-4 * refLoss[s]);
        }
        const bad: string[] = [];
        for (const key of ref.names().filter((n) => n.startsWith('param.'))) {
          const name = key.slice(6);
          const r: TensorData = ref.tensor(key);
          const p = model.weights.get(name)!.data;
          const p0 = before.get(name)!;
          const third = r.data.length / 3;
          let upd = 0;
          let err = 0;
          for (let i = 0; i < r.data.length; i++) {
            if (name.endsWith('qkv.bias') && i >= third && i < 2 * third) continue;
            upd = Math.max(upd, Math.abs(r.data[i] - p0[i]));
            err = Math.max(err, Math.abs(p[i] - r.data[i]));
          }
          if (!(err <= 0.1 * upd))
            bad.push(`${name}: ${err.toExponential(2)} > 0.1 * ${upd.toExponential(2)}`);
        }
        expect(bad, bad.join('\n')).toEqual([]);
      } finally {
        await trainer.dispose();
      }
    },
    180_000,
  );
});
