// ERF parity with the reference's erf.py (fixtures/grad/<run>.erf.safetensors, float64 PyTorch): on the
// fixtures' `inputs`, `erf` and `erf_norm` within 1e-4 * max|ref| on the cpu backend's fast and plain
// kernels (the gpu.js backend runs the same check in its own suite); plus streaming, progress, non-square
// inputs and bad input.
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors, type TensorData } from '@wf/core';
import { ERF_RUNS, erfErrors, gradFixture, parityError } from '@wf/test-fixtures/parity';
import { describe, expect, it } from 'vitest';
import { erf, erfCenterToken, erfMassArea, erfNormalize } from './erf.js';
import { loadModel } from './load.js';
import { randomModel } from './variants.js';

for (const { label, make } of [
  { label: 'cpu fast', make: () => createCpuBackend() },
  { label: 'cpu plain', make: () => createCpuBackend({ kernels: 'plain' }) },
]) {
  describe(`erf vs the reference erf.py (${label})`, () => {
    for (const { run, weights } of ERF_RUNS) {
      it(`${run}: erf and erf_norm`, async () => {
        const fx = gradFixture({ run, weights }, 'erf');
        const model = await loadModel(fx.weightsPath);
        const io = parseSafetensors(fx.io);
        const backend = make();
        const seen: number[] = [];
        try {
          // batches of 3 over 4 images: two batch shapes, streamed
          const res = await erf(model, io.tensor('inputs'), {
            backend,
            batchSize: 3,
            onProgress: (p) => seen.push(p.done),
          });
          expect(seen).toEqual([3, 4]);
          expect(res.images).toBe(4);
          expect(res.erf.shape).toEqual([64, 64]);
          for (const { name, err, bound } of erfErrors(res, io)) expect(err, name).toBeLessThanOrEqual(bound);
        } finally {
          await model.dispose();
          backend.dispose();
        }
      }, 120_000);
    }
  });
}

describe('erf helpers and inputs', () => {
  it('centre token is (Hg//2, Wg//2) row-major', () => {
    expect(erfCenterToken([8, 8])).toBe(4 * 8 + 4);
    expect(erfCenterToken([3, 5])).toBe(1 * 5 + 2);
  });

  it('normalizes as erf^0.2 / max and measures mass areas', () => {
    const m: TensorData = { dtype: 'float32', shape: [2, 2], data: Float32Array.of(32, 1, 0, 1) };
    const n = erfNormalize(m);
    expect([...n.data].map((v) => +v.toFixed(6))).toEqual([1, 0.5, 0, 0.5]);
    // total 34: 50% needs the 32 (1 of 4 pixels); 99% (33.66) needs 32+1+1 (3 of 4)
    expect(erfMassArea(m, [0.5, 0.99])).toEqual([0.25, 0.75]);
    expect(erfMassArea({ ...m, data: new Float32Array(4) })).toEqual([0, 0, 0]);
  });

  it('runs non-square inputs from an async iterable, the same as one tensor', async () => {
    const model = randomModel({
      arch: 'wfm',
      imgSize: 32,
      patchSize: 8,
      inChans: 1,
      numClasses: 10,
      embedDim: 16,
      depth: 2,
      mlpRatio: 4,
      dynamicBlocks: [1],
    });
    const backend = createCpuBackend();
    const data = Float32Array.from({ length: 3 * 24 * 40 }, (_, i) => Math.sin(i * 0.37));
    const images: TensorData = { dtype: 'float32', shape: [3, 1, 24, 40], data };
    async function* gen() {
      yield { ...images, shape: [2, 1, 24, 40], data: data.subarray(0, 2 * 960) };
      yield { ...images, shape: [1, 1, 24, 40], data: data.subarray(2 * 960) };
    }
    const a = await erf(model, images, { backend, batchSize: 3 });
    const b = await erf(model, gen(), { backend });
    expect(a.erf.shape).toEqual([24, 40]);
    expect(parityError(b.erf, a.erf).err).toBeLessThanOrEqual(1e-6 * Math.max(...a.erf.data));
    // the centre token (grid 3x5: row 1, column 2) sees its own patch
    expect(a.erf.data[(8 + 3) * 40 + 16 + 3]).toBeGreaterThan(0);
    await expect(erf(model, { ...images, shape: [1, 3, 24, 40] }, { backend })).rejects.toThrow(/channels/);
    await expect(erf(model, { ...images, shape: [3, 1, 20, 48] }, { backend })).rejects.toThrow(
      /multiple of the patch size/,
    );
    const bad = Float32Array.from(data);
    bad[5] = Number.NaN;
    await expect(erf(model, { ...images, data: bad }, { backend })).rejects.toThrow(/non-finite/);
    await expect(erf(model, gen(), { backend, batchSize: 0 })).rejects.toThrow(/batchSize/);
    backend.dispose();
  });
});
