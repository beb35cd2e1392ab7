// ERF parity with the reference's erf.py on the gpu.js backend: on the `inputs` of
// fixtures/grad/<run>.erf.safetensors, `erf` and `erf_norm` within 1e-4 * max|ref|, in modes cpu, webasm
// and headlessgl (the WeightFormer only; headless GL skips with the reason outside CI when it cannot run).
import { parseSafetensors } from '@wf/core';
import { erf, loadModel } from '@wf/models';
import { ERF_RUNS, erfErrors, gradFixture } from '@wf/test-fixtures/parity';
import { expect, it } from 'vitest';
import { describeEachMode } from './test-support.js';

await describeEachMode(
  (mode) => `erf vs the reference erf.py (gpujs:${mode})`,
  (mode, backend) => {
    // headless GL compiles every kernel anew (minutes on a loaded 2-core machine): the WeightFormer only
    it.each(mode === 'headlessgl' ? ERF_RUNS.slice(0, 1) : ERF_RUNS)(
      '$run: erf and erf_norm',
      async (run) => {
        const fx = gradFixture(run, 'erf');
        const model = await loadModel(fx.weightsPath);
        const io = parseSafetensors(fx.io);
        try {
          const res = await erf(model, io.tensor('inputs'), { backend: backend(), batchSize: 4 });
          for (const { name, err, bound } of erfErrors(res, io)) {
            expect(err, name).toBeLessThanOrEqual(bound);
            console.log(
              `[erf parity] gpujs:${mode} ${run.run} ${name}: ${((err / bound) * 100).toFixed(1)}% of bound`,
            );
          }
        } finally {
          await model.dispose();
        }
      },
      180_000,
    );
  },
);
