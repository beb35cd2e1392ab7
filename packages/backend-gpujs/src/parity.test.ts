// Model parity on the gpu.js backend: every stored tensor of the reference fixtures (embed, each hidden.i,
// features, logits/output) within max|y - ref| <= 1e-4 * max(1, max|ref|), the cpu backend's bound, in
// modes cpu, webasm (also with its worker pool) and headlessgl (headless GL skips with the reason outside
// CI when it cannot run).

import { readFileSync } from 'node:fs';
import { parseSafetensors } from '@wf/core';
import { loadModel } from '@wf/models';
import { fixturePath, readFixture, sharedPath } from '@wf/test-fixtures';
import { fixtureInputs, parityError } from '@wf/test-fixtures/parity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import type { GpujsBackend } from './gpujs-backend.js';
import { NODE_TEST_MODES, skipReason } from './test-support.js';

const TOL = 1e-4;

interface Case {
  run: string;
  weights: () => string;
  io: () => Uint8Array;
}

const micro = (run: string, weights: string): Case => ({
  run,
  weights: () => fixturePath(`reference/${weights}.safetensors`),
  io: () => readFixture(`reference/${run}.io.safetensors`),
});

const CASES: Case[] = [
  micro('wfm-micro-64', 'wfm-micro'),
  micro('wfm-micro-80', 'wfm-micro'),
  micro('deit-micro-64', 'deit-micro-64'),
  micro('wfm-dit-micro-16', 'wfm-dit-micro-16'),
];
// The real WFM-T checkpoint at 224 px, from ../shared (sharedPath throws when CI=true and it is missing).
const tinyWeights = sharedPath('fixtures/reference/wfm-tiny.safetensors');
const tinyIo = sharedPath('fixtures/reference/wfm-tiny-224.io.safetensors');
if (tinyWeights && tinyIo) {
  CASES.push({
    run: 'wfm-tiny-224',
    weights: () => tinyWeights,
    io: () => new Uint8Array(readFileSync(tinyIo)),
  });
}

for (const { mode, threads } of NODE_TEST_MODES) {
  const reason = await skipReason(mode);
  const label = `gpujs:${mode}${threads ? ' (threads)' : ''}`;
  describe(`reference parity (${label})`, () => {
    if (reason) {
      it.skip(`headless GL cannot run here: ${reason}`, () => {});
      return;
    }
    let backend: GpujsBackend;
    beforeAll(async () => {
      backend = await createGpujsBackend({ mode, threads });
    }, 60_000);
    afterAll(() => backend?.dispose());

    it.each(threads ? CASES.filter((c) => c.run.includes('micro')) : CASES)(
      '$run: every stored tensor matches',
      async ({ run, weights, io }) => {
        const model = await loadModel(weights());
        const fx = parseSafetensors(io());
        const inputs = fixtureInputs(model.config.arch, fx);
        const out = await model.run(backend, inputs, { hidden: true });
        const worst = { name: '', err: 0, rel: 0 };
        let compared = 0;
        for (const name of fx.names()) {
          if (['input', 'x', 't', 'y'].includes(name) || name.startsWith('dyn')) continue;
          const ref = fx.tensor(name);
          const got = out[name];
          expect(got, `output ${name} missing`).toBeDefined();
          expect([...got.shape], name).toEqual([...ref.shape]);
          const { err, bound } = parityError(got, ref, { rel: TOL, floor: 1 });
          expect(err, `${run} ${name}: max error ${err} > bound ${bound}`).toBeLessThanOrEqual(bound);
          if (err / bound > worst.rel) Object.assign(worst, { name, err, rel: err / bound });
          compared++;
        }
        expect(compared).toBeGreaterThanOrEqual(3);
        console.log(
          `[parity] ${label} ${run}: ${compared} tensors, worst ${worst.name} max|err| ${worst.err.toExponential(2)} (${(worst.rel * 100).toFixed(1)}% of bound)`,
        );
        await model.dispose();
      },
      120_000,
    );
  });
}
