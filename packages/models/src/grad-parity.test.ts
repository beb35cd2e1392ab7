// Gradient parity with PyTorch: for the loss sum(output * cotangent) of fixtures/grad/<run>.grad.safetensors,
// the gradient of the input and of every trainable parameter within max|g - ref| <= 1e-4 * max|ref|, on
// the cpu backend's fast and plain kernels (the gpu.js backend runs the same check in its own suite).
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors, type TensorData } from '@wf/core';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { loadModel } from './load.js';

const RUNS = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
  { run: 'wfm-dit-micro-16', weights: 'wfm-dit-micro-16' },
];

function worst(got: TensorData, ref: TensorData): { err: number; bound: number } {
  let err = 0;
  let mx = 0;
  for (let i = 0; i < ref.data.length; i++) {
    err = Math.max(err, Math.abs(got.data[i] - ref.data[i]));
    mx = Math.max(mx, Math.abs(ref.data[i]));
  }
  for (let i = 0; i < got.data.length; i++) if (Number.isNaN(got.data[i])) err = Number.POSITIVE_INFINITY;
  return { err, bound: 1e-4 * mx };
}

for (const { label, make } of [
  { label: 'cpu fast', make: () => createCpuBackend() },
  { label: 'cpu plain', make: () => createCpuBackend({ kernels: 'plain' }) },
]) {
  describe(`gradients vs PyTorch (${label})`, () => {
    for (const { run, weights } of RUNS) {
      it(`${run}: input and every trainable parameter`, async () => {
        const model = await loadModel(fixturePath(`reference/${weights}.safetensors`));
        const io = parseSafetensors(readFixture(`grad/${run}.grad.safetensors`));
        const inputs: Record<string, TensorData> =
          model.config.arch === 'wfm-dit'
            ? { x: io.tensor('x'), t: io.tensor('t'), y: io.tensor('y') }
            : { input: io.tensor('input') };
        const backend = make();
        try {
          const { outputs, grads } = await model.grad(backend, inputs, io.tensor('cotangent'));
          const out = model.outputName;
          const o = worst(outputs[out], io.tensor(out));
          expect(o.err, `${out}`).toBeLessThanOrEqual(Math.max(o.bound, 1e-4));
          const refNames = io.names().filter((n) => n.startsWith('grad.'));
          // every reference gradient is produced, and nothing more
          expect([...grads.keys()].map((n) => `grad.${n}`).sort()).toEqual([...refNames].sort());
          const bad: string[] = [];
          let ratio = 0;
          for (const name of refNames) {
            const { err, bound } = worst(grads.get(name.slice(5))!, io.tensor(name));
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
