// Whole models on the cpu backend's fast kernels against its plain reference kernels: every stored
// tensor (embedding, each hidden state, features, logits) of the small reference models agrees within
// float32 rounding, a bound 5x tighter than the PyTorch parity bound. The per-op comparison on random
// shapes is @wf/backend-cpu's fast-vs-plain.test.ts; the whole models live here, in the package that
// builds them.
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors, type TensorData } from '@wf/core';
import { expectClose } from '@wf/core/testing';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { loadModel } from './load.js';

/** Relative bound of fast vs plain (`max|fast - plain| <= REL * max(1, max|plain|)`). */
const REL = 2e-5;

const plain = createCpuBackend({ kernels: 'plain' });
const fast = createCpuBackend();

const CASES = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'wfm-micro-80', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
  { run: 'wfm-dit-micro-16', weights: 'wfm-dit-micro-16' },
];

describe('whole models: fast kernels equal the plain ones', () => {
  it.each(CASES)('$run: every output and hidden state', async ({ run, weights }) => {
    const model = await loadModel(fixturePath(`reference/${weights}.safetensors`));
    const fx = parseSafetensors(readFixture(`reference/${run}.io.safetensors`));
    const inputs: Record<string, TensorData> =
      model.config.arch === 'wfm-dit'
        ? { x: fx.tensor('x'), t: fx.tensor('t'), y: fx.tensor('y') }
        : { input: fx.tensor('input') };
    const a = await model.run(plain, inputs, { hidden: true });
    const b = await model.run(fast, inputs, { hidden: true });
    const names = Object.keys(a);
    expect(names.sort()).toEqual(Object.keys(b).sort());
    expect(names.length).toBeGreaterThanOrEqual(3);
    const errors = names.map((k) => `${k} ${expectClose(b[k], a[k], REL, `${run}: ${k}`).toExponential(1)}`);
    console.log(`[fast vs plain] ${run}: ${errors.join(', ')}`);
    await model.dispose();
  });
});
