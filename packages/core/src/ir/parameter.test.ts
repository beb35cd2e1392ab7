// Parameter: values updated in place with a version that grows on every update, checked updates, one graph
// node per parameter in a trace, and parameters kept through graph rewrites (lowering, the gradient pass).
import { describe, expect, it } from 'vitest';
import { vjpGraph } from '../autodiff/grad.js';
import { formatGraph, trace } from '../graph/graph.js';
import { lowerGraph } from '../graph/lower.js';
import * as F from '../ops/functional.js';
import { Parameter, parametersOf } from './parameter.js';
import { tensorData } from './types.js';

describe('Parameter', () => {
  it('updates in place, bumps its version, and rejects values of another type', () => {
    const value = tensorData([2, 2], [1, 2, 3, 4]);
    const p = new Parameter('w', value);
    expect(p.version).toBe(0);
    p.set(tensorData([2, 2], [5, 6, 7, 8]));
    expect(p.value).toBe(value);
    expect([...value.data]).toEqual([5, 6, 7, 8]);
    expect(p.version).toBe(1);
    p.set(new Float32Array([0, 0, 0, 1]));
    p.value.data[0] = 9;
    p.touch();
    expect(p.version).toBe(3);
    expect(String(p)).toBe('Parameter<w float32[2,2] v3>');
    expect(() => p.set(tensorData([4], [1, 2, 3, 4]))).toThrow(/w is float32\[2,2\]; got float32\[4\]/);
    expect(() => p.set(new Float32Array(3))).toThrow(/holds 4 float32 values; got 3/);
    expect(() => p.set(new Int32Array(4))).toThrow(/got 4 int32/);
    expect(p.version).toBe(3);
    expect(() => new Parameter('bad', { dtype: 'float32', shape: [3], data: new Float32Array(2) })).toThrow(
      /2 values for shape \[3\]/,
    );
    expect([...parametersOf(new Map([['w', value]])).keys()]).toEqual(['w']);
  });

  it('is one node per trace, and stays a parameter through lowering and the gradient pass', () => {
    const w = new Parameter('w', tensorData([3, 2], [1, 2, 3, 4, 5, 6]));
    const graph = trace((g) => {
      const x = g.input('x', [4, 2]);
      return F.sum(F.layerNorm(F.add(F.linear(x, g.parameter(w)), F.sum(g.parameter(w)))));
    });
    expect(graph.nodes.filter((n) => n.param === w)).toHaveLength(1);
    expect(formatGraph(graph)).toContain('= param "w"');
    for (const g of [lowerGraph(graph), vjpGraph(graph, ['x', 'w'])]) {
      const nodes = g.nodes.filter((n) => n.param);
      expect(nodes).toHaveLength(1);
      expect(nodes[0].param).toBe(w);
      expect(nodes[0].data).toBe(w.value);
    }
    expect(vjpGraph(graph, ['w']).outputs.has('grad.w')).toBe(true);
  });
});
