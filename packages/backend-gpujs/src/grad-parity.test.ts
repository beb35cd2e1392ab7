// Gradient parity with PyTorch on the gpu.js backend: for the loss sum(output * cotangent) of
// fixtures/grad/<run>.grad.safetensors, the gradient of the input and of every trainable parameter within
// max|g - ref| <= 1e-4 * max|ref|, in modes cpu, webasm and headlessgl (headless GL skips with the reason
// outside CI when it cannot run).
import { parseSafetensors, type TensorData } from '@wf/core';
import { loadModel } from '@wf/models';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import type { GpujsBackend } from './gpujs-backend.js';
import { NODE_TEST_MODES, skipReason } from './test-support.js';

const RUNS = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
  { run: 'wfm-dit-micro-16', weights: 'wfm-dit-micro-16' },
];

function gradError(got: TensorData, ref: TensorData): { err: number; bound: number } {
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
  describe(`gradients vs PyTorch (gpujs:${mode})`, () => {
    if (reason) {
      it.skip(`headless GL cannot run here: ${reason}`, () => {});
      return;
    }
    let backend: GpujsBackend;
    beforeAll(async () => {
      backend = await createGpujsBackend({ mode });
    }, 60_000);
    afterAll(() => backend?.dispose());

    it.each(RUNS)(
      '$run: input and every trainable parameter',
      async ({ run, weights }) => {
        const model = await loadModel(fixturePath(`reference/${weights}.safetensors`));
        const io = parseSafetensors(readFixture(`grad/${run}.grad.safetensors`));
        const inputs: Record<string, TensorData> =
          model.config.arch === 'wfm-dit'
            ? { x: io.tensor('x'), t: io.tensor('t'), y: io.tensor('y') }
            : { input: io.tensor('input') };
        try {
          const { grads } = await model.grad(backend, inputs, io.tensor('cotangent'));
          const refNames = io.names().filter((n) => n.startsWith('grad.'));
          expect([...grads.keys()].map((n) => `grad.${n}`).sort()).toEqual([...refNames].sort());
          const bad: string[] = [];
          let worst = 0;
          for (const name of refNames) {
            const { err, bound } = gradError(grads.get(name.slice(5))!, io.tensor(name));
            worst = Math.max(worst, err / bound);
            if (!(err <= bound)) bad.push(`${name}: ${err.toExponential(2)} > ${bound.toExponential(2)}`);
          }
          expect(bad, bad.join('\n')).toEqual([]);
          console.log(
            `[grad parity] gpujs:${mode} ${run}: worst error ${(worst * 100).toFixed(1)}% of bound`,
          );
        } finally {
          await model.dispose();
        }
      },
      180_000,
    );
  });
}
