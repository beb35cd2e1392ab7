// The whole-graph capability of the Backend interface: `compile` hands a backend with `compileGraph` the
// traced graph itself (composites not lowered) and returns what it builds, without planning or kernels;
// a graph with parameters is built again at the first run after a parameter update.
import { describe, expect, it } from 'vitest';
import type { AnyBackend } from '../backend.js';
import { Parameter } from '../ir/parameter.js';
import { tensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { type CompiledGraph, compile } from './compile.js';
import { type Graph, trace } from './graph.js';

describe('Backend.compileGraph', () => {
  it('receives the traced graph with its composites and options, and runs what it builds', async () => {
    const graph = trace((g) => ({ y: F.gelu(g.input('x', [2, 3])) }));
    let seen: { graph: Graph; options: unknown } | undefined;
    const y = tensorData([2, 3], [1, 2, 3, 4, 5, 6]);
    const result = {
      graph: { marker: true },
      outputTypes: new Map([['y', { dtype: 'float32', shape: [2, 3] }]]),
      run: async () => ({ y }),
      dispose() {},
    } as unknown as CompiledGraph;
    const backend = {
      name: 'whole',
      capabilities: { zeroCopyViews: false, syncRead: false, dtypes: ['float32'], precision: 'float32' },
      kernels: {},
      allocate: () => {
        throw new Error('compile must not allocate for a whole-graph backend');
      },
      release() {},
      wrap: () => undefined,
      write() {},
      read: async () => {
        throw new Error('unused');
      },
      dispose() {},
      compileGraph: async (g: Graph, options?: unknown) => {
        seen = { graph: g, options };
        return result;
      },
    } as unknown as AnyBackend;
    const compiled = await compile(graph, backend, { fuse: false });
    expect(compiled.graph).toBe(result.graph);
    expect((await compiled.run({})).y).toBe(y);
    // output buffers (RunOptions.outputs): the engine's output is copied into the one given
    const into = tensorData([2, 3], [0, 0, 0, 0, 0, 0]);
    expect((await compiled.run({}, { outputs: { y: into } })).y).toBe(into);
    expect([...into.data]).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(compiled.run({}, { outputs: { y: tensorData([6], [0, 0, 0, 0, 0, 0]) } })).rejects.toThrow(
      /output buffer "y" is float32\[6\], the output is float32\[2,3\]/,
    );
    expect(seen?.graph).toBe(graph);
    expect(seen?.graph.nodes.some((n) => n.op === 'gelu')).toBe(true);
    expect(seen?.options).toEqual({ fuse: false });
  });

  it('builds a graph with parameters again after an update, from the current values', async () => {
    const w = new Parameter('w', tensorData([2], [1, 2]));
    const graph = trace((g) => ({ y: F.add(g.input('x', [2]), g.parameter(w)) }));
    const built: number[][] = [];
    let disposed = 0;
    const backend = {
      name: 'whole',
      capabilities: { zeroCopyViews: false, syncRead: false, dtypes: ['float32'], precision: 'float32' },
      kernels: {},
      dispose() {},
      compileGraph: async (g: Graph) => {
        const data = [...g.nodes.find((n) => n.param)!.data!.data]; // what an engine copies in
        built.push(data);
        return {
          inputTypes: new Map(),
          outputTypes: new Map(),
          run: async () => ({ y: tensorData([2], data) }),
          dispose: () => disposed++,
        } as unknown as CompiledGraph;
      },
    } as unknown as AnyBackend;
    const compiled = await compile(graph, backend);
    expect([...(await compiled.run({})).y.data]).toEqual([1, 2]);
    await compiled.run({});
    expect(built).toHaveLength(1);
    w.set(tensorData([2], [7, 8]));
    expect([...(await compiled.run({})).y.data]).toEqual([7, 8]);
    expect(built).toHaveLength(2);
    expect(disposed).toBe(1);
    compiled.dispose();
    expect(disposed).toBe(2);
  });
});
