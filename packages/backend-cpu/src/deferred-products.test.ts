// Deferred weight-gradient products on the cpu backend (`defers` / `settle`): with worker threads, large
// products that only make graph outputs run in the background while the run goes on, giving the same bits
// as the same backend without deferral and agreeing with the plain kernels; one thread defers nothing.
import {
  type AnyBackend,
  compile,
  DEFERRED_OUTSTANDING,
  F,
  type Graph,
  type TensorData,
  trace,
} from '@wf/core';
import { expectClose, randomTensor, rng } from '@wf/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFER_MIN_WORK } from './cpu-backend.js';
import { WasmMatmulEngine } from './fast-kernels/wasm-engine.js';
import { createCpuBackend } from './index.js';

/** The same backend with deferral turned off (its `defers` hidden): the bits to compare with. */
const withoutDeferral = (b: AnyBackend): AnyBackend =>
  Object.create(b, { defers: { value: undefined }, settle: { value: undefined } });

/**
 * A backward-like chain over tokens x [196, 192]: h(i+1) = gelu(h(i) W(i)) + h(i), with every weight-gradient
 * product dW(i) = h(i)^T g(i) an output (192 x 192 x 196 multiply-adds each), g(i) a data gradient.
 */
const LAYERS = 10;
const graph: Graph = trace((t) => {
  let h = t.input('x', [196, 192]);
  let g = t.input('g', [196, 192]);
  const out: Record<string, ReturnType<typeof F.add>> = {};
  for (let i = 0; i < LAYERS; i++) {
    const w = t.input(`w${i}`, [192, 192]);
    out[`dw${i}`] = F.matmul(h, g, { transA: true });
    g = F.matmul(g, w, { transB: true });
    h = F.add(F.gelu(F.matmul(h, w)), h);
  }
  out.h = h;
  out.g = g;
  return out;
});

const r = rng(11);
const inputs: Record<string, TensorData> = {
  x: randomTensor([196, 192], r),
  g: randomTensor([196, 192], r),
};
for (let i = 0; i < LAYERS; i++) {
  const w = randomTensor([192, 192], r);
  (w.data as Float32Array).forEach((v, j, d) => {
    d[j] = v * 0.05;
  });
  inputs[`w${i}`] = w;
}

describe('deferred products on the cpu backend', () => {
  const fast = createCpuBackend({ threads: 2, shared: false });
  const single = createCpuBackend({ threads: 1, shared: false });
  const plain = createCpuBackend({ kernels: 'plain' });
  afterAll(() => {
    for (const b of [fast, single, plain]) b.dispose();
  });

  it('defers large output-only products to a worker thread: the same bits as without, close to plain', async () => {
    expect(192 * 192 * 196).toBeGreaterThanOrEqual(DEFER_MIN_WORK);
    const deferred = await compile(graph, fast);
    const eager = await compile(graph, withoutDeferral(fast));
    const reference = await (await compile(graph, plain)).run(inputs);
    // every dW(i), and the last data gradient (an output too)
    expect(deferred.plan.deferred).toHaveLength(LAYERS + 1);
    expect(eager.plan.deferred).toHaveLength(0);
    expect(LAYERS).toBeGreaterThan(DEFERRED_OUTSTANDING); // some are settled before the end of the run
    const engine = fast.engine as WasmMatmulEngine;
    expect(engine).toBeInstanceOf(WasmMatmulEngine);
    const before = engine.poolStats!.background;
    const want = await eager.run(inputs);
    // several runs: a product left unfinished, or an input overwritten under it, shows as a difference
    for (let run = 0; run < 4; run++) {
      const got = await deferred.run(inputs);
      expect(engine.outstanding).toBe(0);
      for (const k of Object.keys(want)) {
        const [x, y] = [got[k].data, want[k].data];
        expect(
          x.every((v, i) => Object.is(v, y[i])),
          `run ${run}: ${k}`,
        ).toBe(true);
      }
    }
    expect(engine.poolStats!.background - before).toBe(4 * (LAYERS + 1));
    for (const k of Object.keys(want)) expectClose(want[k], reference[k], 2e-5, k);
  });

  it('defers nothing on one thread, nor small products or ops other than matmul', async () => {
    expect((await compile(graph, single)).plan.deferred).toHaveLength(0);
    const type = (shape: number[]) => ({ dtype: 'float32' as const, shape });
    const small = [type([16, 16]), type([16, 16])];
    expect(fast.defers('matmul', { transA: true }, small, type([16, 16]))).toBe(false);
    expect(fast.defers('add', {}, small, type([16, 16]))).toBe(false);
    const big = [type([196, 192]), type([196, 192])];
    expect(fast.defers('matmul', { transA: true }, big, type([192, 192]))).toBe(true);
  });
});
