// ERF parity with the reference's erf.py on the gpu.js backend: on the `inputs` of
// fixtures/grad/<run>.erf.safetensors, `erf` and `erf_norm` within 1e-4 * max|ref|, in modes cpu, webasm
// and headlessgl (the WeightFormer only; headless GL skips with the reason outside CI when it cannot run).
import { parseSafetensors, type TensorData } from '@wf/core';
import { erf, loadModel } from '@wf/models';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import type { GpujsBackend } from './gpujs-backend.js';
import { NODE_TEST_MODES, skipReason } from './test-support.js';

const RUNS = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
];

function mapError(got: TensorData, ref: TensorData): { err: number; bound: number } {
  let err = 0;
  let mx = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(got.data[i] - ref.data[i]);
    err = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(err, d);
    mx = Math.max(mx, Math.abs(ref.data[i]));
  }
  return { err, bound: 1e-4 * mx };
}

for (const { mode } of NODE_TEST_MODES.filter((m) => !m.threads)) {
  const reason = await skipReason(mode);
  describe(`erf vs the reference erf.py (gpujs:${mode})`, () => {
    if (reason) {
      it.skip(`headless GL cannot run here: ${reason}`, () => {});
      return;
    }
    let backend: GpujsBackend;
    beforeAll(async () => {
      backend = await createGpujsBackend({ mode });
    }, 60_000);
    afterAll(() => backend?.dispose());

    // headless GL compiles every kernel anew (minutes on a loaded 2-core machine): the WeightFormer only
    it.each(mode === 'headlessgl' ? RUNS.slice(0, 1) : RUNS)(
      '$run: erf and erf_norm',
      async ({ run, weights }) => {
        const model = await loadModel(fixturePath(`reference/${weights}.safetensors`));
        const io = parseSafetensors(readFixture(`grad/${run}.erf.safetensors`));
        try {
          const res = await erf(model, io.tensor('inputs'), { backend, batchSize: 4 });
          for (const [got, name] of [
            [res.erf, 'erf'],
            [res.erfNorm, 'erf_norm'],
          ] as const) {
            const { err, bound } = mapError(got, io.tensor(name));
            expect(err, name).toBeLessThanOrEqual(bound);
            console.log(
              `[erf parity] gpujs:${mode} ${run} ${name}: ${((err / bound) * 100).toFixed(1)}% of bound`,
            );
          }
        } finally {
          await model.dispose();
        }
      },
      180_000,
    );
  });
}
