// Regression tests of the fast kernels' packed-weight cache on gradient graphs: a constant weight used by
// `linear` (packed transposed) is used again by the backward pass's `matmul` (untransposed), and the fast
// path once reused the first packed copy for the second use (wrong input gradients, off by ~1.5). Every
// case here is compared fast vs plain vs the float64 reference evaluator of @wf/core/testing.
import { compile, F, type Graph, gradName, type TensorData, trace, vjpGraph } from '@wf/core';
import { evaluateF64, expectClose, randomTensor, rng } from '@wf/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from './index.js';

const plain = createCpuBackend({ kernels: 'plain' });
const fast = createCpuBackend();
afterAll(() => {
  plain.dispose?.();
  fast.dispose?.();
});

/** Runs `graph` on both backends (twice each, so a cache filled by the first run is read by the second). */
async function checkAll(graph: Graph, inputs: Record<string, TensorData>, label: string): Promise<void> {
  const ref = evaluateF64(graph, inputs);
  for (const [name, be] of [
    ['plain', plain],
    ['fast', fast],
  ] as const) {
    const compiled = await compile(graph, be);
    try {
      for (const round of [1, 2]) {
        const out = await compiled.run(inputs);
        for (const k of graph.outputs.keys())
          expectClose(out[k], ref[k], 1e-4, `${label}: ${k} (${name}, run ${round})`);
      }
    } finally {
      compiled.dispose();
    }
  }
}

const r = rng(0x9_2026);

describe('fast kernels: gradients through constant weights', () => {
  it('linear with constant weight and bias: d sum(y*y) / dx (the reported repro)', async () => {
    const [m, k, n] = [5, 7, 6];
    const w = randomTensor([n, k], r);
    const b = randomTensor([n], r);
    const g = trace((t) => {
      const x = t.input('x', [m, k]);
      const y = F.linear(x, t.constant(w), t.constant(b));
      return F.sum(F.mul(y, y));
    });
    const vjp = vjpGraph(g, ['x'], { seed: 'ones' });
    const inputs = { x: randomTensor([m, k], r) };
    await checkAll(vjp, inputs, 'linear repro');
    // and fast == plain directly, on the gradient output
    const [p, f] = await Promise.all([compile(vjp, plain), compile(vjp, fast)]);
    try {
      const [a, c] = [await p.run(inputs), await f.run(inputs)];
      expectClose(c[gradName('x')], a[gradName('x')], 2e-5, 'linear repro: fast vs plain');
    } finally {
      p.dispose();
      f.dispose();
    }
  });

  it('two linears with constant weights, gelu, batch axes', async () => {
    const [bt, m, k, h, n] = [2, 3, 9, 13, 4];
    const w1 = randomTensor([h, k], r);
    const w2 = randomTensor([n, h], r);
    const g = trace((t) => {
      const x = t.input('x', [bt, m, k]);
      const hdn = F.linear(x, t.constant(w1), t.constant(randomTensor([h], r)), 'gelu');
      return F.linear(hdn, t.constant(w2), undefined);
    });
    const vjp = vjpGraph(g, ['x']);
    await checkAll(vjp, { x: randomTensor([bt, m, k], r), cotangent: randomTensor([bt, m, n], r) }, 'mlp');
  });

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('matmul with a constant B, transA %s transB %s', async (transA, transB) => {
    const [m, k, n] = [6, 5, 7];
    const bData = randomTensor(transB ? [n, k] : [k, n], r);
    const g = trace((t) => {
      const a = t.input('a', transA ? [k, m] : [m, k]);
      return F.matmul(a, t.constant(bData), { transA, transB });
    });
    const vjp = vjpGraph(g, ['a']);
    await checkAll(
      vjp,
      { a: randomTensor(transA ? [k, m] : [m, k], r), cotangent: randomTensor([m, n], r) },
      `matmul transA ${transA} transB ${transB}`,
    );
  });

  it('one square constant used with different layouts in the forward pass itself', async () => {
    const n = 8;
    const w = randomTensor([n, n], r);
    const g = trace((t) => {
      const x = t.input('x', [3, n]);
      const c = t.constant(w);
      return {
        lin: F.linear(x, c), // x @ Wᵀ
        mm: F.matmul(x, c), // x @ W
        mmT: F.matmul(x, c, { transB: true }), // x @ Wᵀ again, through matmul
        perm: F.matmul(x, F.permute(c, [1, 0])), // x @ Wᵀ through a view
        // row blocks of W: views at offset 0 and n/2 * n of the same storage
        halves: F.add(
          F.matmul(F.slice(x, [0, 0], [3, n / 2]), F.slice(c, [0, 0], [n / 2, n])),
          F.matmul(F.slice(x, [0, n / 2], [3, n]), F.slice(c, [n / 2, 0], [n, n])),
        ),
      };
    });
    await checkAll(g, { x: randomTensor([3, n], r) }, 'same constant, several layouts');
    const vjp = vjpGraph(g, ['x']);
    const cots = Object.fromEntries(
      [...g.outputs.keys()].map((k) => [`cotangent.${k}`, randomTensor([3, n], r)]),
    );
    await checkAll(vjp, { x: randomTensor([3, n], r), ...cots }, 'same constant, several layouts (grad)');
  });

  it('the gradient of a linear with constant weights matches across repeated compiles', async () => {
    const w = randomTensor([4, 6], r);
    const g = trace((t) => F.sum(F.mul(F.linear(t.input('x', [2, 6]), t.constant(w)), 3)));
    const vjp = vjpGraph(g, ['x'], { seed: 'ones' });
    const x = randomTensor([2, 6], r);
    const ref = evaluateF64(vjp, { x })[gradName('x')];
    for (let i = 0; i < 2; i++) {
      const c = await compile(vjp, fast);
      try {
        const out = (await c.run({ x }))[gradName('x')];
        expect(out.shape).toEqual([2, 6]);
        expectClose(out, ref, 1e-4, `compile #${i}`);
      } finally {
        c.dispose();
      }
    }
  });
});
