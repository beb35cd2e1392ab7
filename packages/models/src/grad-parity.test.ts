// Gradient parity with PyTorch: for the loss sum(output * cotangent) of fixtures/grad/<run>.grad.safetensors,
// the gradient of the input and of every trainable parameter within max|g - ref| <= 1e-4 * max|ref|, on
// the cpu backend's fast and plain kernels (the gpu.js backend runs the same check in its own suite).
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors } from '@wf/core';
import { fixtureInputs, GRAD_RUNS, gradFixture, parityError } from '@wf/test-fixtures/parity';
import { describe, expect, it } from 'vitest';
import { loadModel } from './load.js';

for (const { label, make } of [
  { label: 'cpu fast', make: () => createCpuBackend() },
  { label: 'cpu plain', make: () => createCpuBackend({ kernels: 'plain' }) },
]) {
  describe(`gradients vs PyTorch (${label})`, () => {
    for (const { run, weights } of GRAD_RUNS) {
      it(`${run}: input and every trainable parameter`, async () => {
        const fx = gradFixture({ run, weights }, 'grad');
        const model = await loadModel(fx.weightsPath);
        const io = parseSafetensors(fx.io);
        const backend = make();
        try {
          const { outputs, grads } = await model.grad(
            backend,
            fixtureInputs(model.config.arch, io),
            io.tensor('cotangent'),
          );
          const out = model.outputName;
          const o = parityError(outputs[out], io.tensor(out));
          expect(o.err, `${out}`).toBeLessThanOrEqual(Math.max(o.bound, 1e-4));
          const refNames = io.names().filter((n) => n.startsWith('grad.'));
          // every reference gradient is produced, and nothing more
          expect([...grads.keys()].map((n) => `grad.${n}`).sort()).toEqual([...refNames].sort());
          const bad: string[] = [];
          let ratio = 0;
          for (const name of refNames) {
            const { err, bound } = parityError(grads.get(name.slice(5))!, io.tensor(name));
            ratio = Math.max(ratio, err / bound);
            if (!(err <= bound)) bad.push(`${name}: ${err.toExponential(2)} > ${bound.toExponential(2)}`);
          }
          if (process.env.WF_GRAD_REPORT)
            console.info(`${run} (${label}): worst error / bound = ${ratio.toFixed(4)}`);
          expect(bad, bad.join('\n')).toEqual([]);
        } finally {
          await model.dispose();
          backend.dispose();
        }
      }, 120_000);
    }
  });
}
