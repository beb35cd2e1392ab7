// CPU-backend specifics beyond the shared conformance suite: compiled-graph API behaviour (validation,
// reuse across runs, abort, disposal), zero-copy views, and user errors inside kernels.
import { BackendError, compile, eager, F, GraphError, type TensorData, trace } from '@wf/core';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from './index.js';

const data = (shape: number[], f: (i: number) => number): TensorData => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) };
};

const graph = trace((g) => {
  const x = g.input('x', [2, 3]);
  const y = F.transpose(F.exp(x));
  return { y: F.softmax(F.reshape(y, [6]), 0), s: F.sum(x, 1) };
});

describe('compiled graphs on cpu', () => {
  it('runs many times with the same planned memory and gives the same answers', async () => {
    const c = await compile(graph, createCpuBackend());
    const a = await c.run({ x: data([2, 3], (i) => i / 3) });
    const b = await c.run({ x: data([2, 3], (i) => -i) });
    const a2 = await c.run({ x: data([2, 3], (i) => i / 3) });
    expect(Array.from(a2.y.data)).toEqual(Array.from(a.y.data));
    expect(Array.from(a.s.data)).toEqual([Math.fround(0 + 1 / 3 + 2 / 3), Math.fround(1 + 4 / 3 + 5 / 3)]);
    expect(Array.from(b.s.data)).toEqual([-3, -12]);
    // softmax over exp(x)ᵀ flattened: entries sum to one
    expect(Array.from(a.y.data).reduce((p, v) => p + v, 0)).toBeCloseTo(1, 6);
    c.dispose();
  });

  it('rejects missing, extra and mis-shaped inputs with one message listing all', async () => {
    const c = await compile(graph, createCpuBackend());
    await expect(c.run({})).rejects.toThrow(GraphError);
    await expect(c.run({ x: data([3, 2], () => 0), z: data([1], () => 0) })).rejects.toThrow(
      /input "x" is float32\[3,2\], the graph was traced for float32\[2,3\]; unexpected input "z"/,
    );
  });

  it('aborts between ops and is disposable once', async () => {
    const c = await compile(graph, createCpuBackend());
    const ctl = new AbortController();
    ctl.abort(new Error('stop now'));
    await expect(c.run({ x: data([2, 3], () => 1) }, { signal: ctl.signal })).rejects.toThrow('stop now');
    c.dispose();
    c.dispose();
    await expect(c.run({ x: data([2, 3], () => 1) })).rejects.toThrow(/disposed/);
  });

  it('lends dense outputs as views of its memory with borrow: the next run rewrites them in place', async () => {
    const c = await compile(graph, createCpuBackend());
    const a = await c.run({ x: data([2, 3], (i) => i / 3) }, { borrow: true });
    const first = Array.from(a.s.data);
    expect(first).toEqual(Array.from((await c.run({ x: data([2, 3], (i) => i / 3) })).s.data));
    await c.run({ x: data([2, 3], (i) => -i) });
    // the same memory now holds the second input's sums
    expect(Array.from(a.s.data)).toEqual([-3, -12]);
    c.dispose();
  });

  it('plans views as aliases: transpose costs no storage', async () => {
    const c = await compile(graph, createCpuBackend());
    const kinds = c.graph.nodes.filter((n) => n.op === 'permute').map((n) => c.plan.kind[n.id]);
    expect(kinds).toEqual(['alias']);
  });
});

describe('eager on cpu', () => {
  it('views share storage with their source; reads are dense copies', async () => {
    const be = createCpuBackend();
    const e = eager(be);
    const x = e.tensor(data([2, 3], (i) => i));
    const t = F.transpose(x);
    expect(Array.from((await e.read(t)).data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from((await e.read(F.sliceAxis(x, 1, 1, 3))).data)).toEqual([1, 2, 4, 5]);
    e.dispose();
    e.dispose();
    expect(() => e.tensor(data([1], () => 0))).toThrow(BackendError);
  });

  it('reports an out-of-range gather index naming the index and table size', async () => {
    const e = eager(createCpuBackend());
    const table = e.tensor(data([3, 2], (i) => i));
    const idx = e.tensor({ dtype: 'int32', shape: [2], data: Int32Array.of(1, 5) });
    expect(() => F.gather(table, idx)).toThrow(/gather: index 5 out of range for a table of 3 rows/);
  });
});

describe('shared heap and threads', () => {
  it('default backends share one engine; disposing one gives back its storage and leaves the other working', async () => {
    const a = createCpuBackend();
    const b = createCpuBackend();
    expect(a.engine).toBe(b.engine);
    expect(createCpuBackend({ shared: false }).engine).not.toBe(a.engine);
    const ca = await compile(graph, a);
    const cb = await compile(graph, b);
    expect(a.allocatedBytes).toBeGreaterThan(0);
    a.dispose();
    const out = await cb.run({ x: data([2, 3], (i) => i / 3) });
    expect(Array.from(out.s.data)).toEqual([Math.fround(0 + 1 / 3 + 2 / 3), Math.fround(1 + 4 / 3 + 5 / 3)]);
    await expect(ca.run({ x: data([2, 3], () => 0) })).rejects.toThrow(BackendError);
    cb.dispose();
    expect(b.allocatedBytes).toBe(0);
    b.dispose();
  });
});
