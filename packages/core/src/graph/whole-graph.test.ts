// The whole-graph capability of the Backend interface: `compile` hands a backend with `compileGraph` the
// traced graph itself (composites not lowered) and returns what it builds, without planning or kernels.
import { describe, expect, it } from 'vitest';
import type { AnyBackend } from '../backend.js';
import * as F from '../ops/functional.js';
import { type CompiledGraph, compile } from './compile.js';
import { type Graph, trace } from './graph.js';

describe('Backend.compileGraph', () => {
  it('receives the traced graph with its composites and options, and its result is returned', async () => {
    const graph = trace((g) => ({ y: F.gelu(g.input('x', [2, 3])) }));
    let seen: { graph: Graph; options: unknown } | undefined;
    const result = { marker: true } as unknown as CompiledGraph;
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
    expect(await compile(graph, backend, { fuse: false })).toBe(result);
    expect(seen?.graph).toBe(graph);
    expect(seen?.graph.nodes.some((n) => n.op === 'gelu')).toBe(true);
    expect(seen?.options).toEqual({ fuse: false });
  });
});
