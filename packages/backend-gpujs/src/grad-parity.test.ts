// Gradient parity with PyTorch on the gpu.js backend: for the loss sum(output * cotangent) of
// fixtures/grad/<run>.grad.safetensors, the gradient of the input and of every trainable parameter within
// max|g - ref| <= 1e-4 * max|ref|, in modes cpu, webasm and headlessgl (headless GL skips with the reason
// outside CI when it cannot run).
import { parseSafetensors } from '@wf/core';
import { loadModel } from '@wf/models';
import { fixtureInputs, GRAD_RUNS, gradFixture, parityError } from '@wf/test-fixtures/parity';
import { expect, it } from 'vitest';
import { describeEachMode } from './test-support.js';

await describeEachMode(
  (mode) => `gradients vs PyTorch (gpujs:${mode})`,
  (mode, backend) => {
    it.each(GRAD_RUNS)(
      '$run: input and every trainable parameter',
      async (run) => {
        const fx = gradFixture(run, 'grad');
        const model = await loadModel(fx.weightsPath);
        const io = parseSafetensors(fx.io);
        try {
          const { grads } = await model.grad(
            backend(),
            fixtureInputs(model.config.arch, io),
            io.tensor('cotangent'),
          );
          const refNames = io.names().filter((n) => n.startsWith('grad.'));
          expect([...grads.keys()].map((n) => `grad.${n}`).sort()).toEqual([...refNames].sort());
          const bad: string[] = [];
          let worst = 0;
          for (const name of refNames) {
            const { err, bound } = parityError(grads.get(name.slice(5))!, io.tensor(name));
            worst = Math.max(worst, err / bound);
            if (!(err <= bound)) bad.push(`${name}: ${err.toExponential(2)} > ${bound.toExponential(2)}`);
          }
          expect(bad, bad.join('\n')).toEqual([]);
          console.log(
            `[grad parity] gpujs:${mode} ${run.run}: worst error ${(worst * 100).toFixed(1)}% of bound`,
          );
        } finally {
          await model.dispose();
        }
      },
      180_000,
    );
  },
);
