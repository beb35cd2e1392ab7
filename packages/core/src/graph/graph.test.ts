// Tracing and graph passes: nodes and types recorded once, composites lowered, dead code dropped,
// misuse reported with clear errors.
import { describe, expect, it } from 'vitest';
import { ArgumentError, GraphError, ShapeError } from '../errors.js';
import * as F from '../ops/functional.js';
import { formatGraph, trace } from './graph.js';
import { eliminateDeadCode, lowerGraph } from './lower.js';

const w = (shape: number[]) => ({
  dtype: 'float32' as const,
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});

describe('trace', () => {
  it('records inputs, constants and ops with inferred types', () => {
    const g = trace((b) => {
      const x = b.input('x', [2, 8]);
      return { y: F.gelu(F.linear(x, b.constant(w([4, 8]), 'W'), b.constant(w([4]), 'b'))) };
    });
    expect(g.nodes.map((n) => n.op)).toEqual(['input', 'const', 'const', 'linear', 'gelu']);
    expect(g.nodes[4].type.shape).toEqual([2, 4]);
    expect([...g.outputs]).toEqual([['y', 4]]);
    expect(formatGraph(g)).toContain('%3: float32[2,4] = linear(%0, %1, %2)');
  });

  it('names a single output "output" and rejects misuse', () => {
    expect([...trace((b) => F.exp(b.input('x', [3]))).outputs.keys()]).toEqual(['output']);
    expect(() =>
      trace((b) => {
        b.input('x', [1]);
        return F.exp(b.input('x', [1]));
      }),
    ).toThrow(ArgumentError);
    const other = trace((b) => b.input('z', [2]));
    expect(other.nodes.length).toBe(1);
    let foreign: ReturnType<typeof F.exp> | undefined;
    trace((b) => {
      foreign = b.input('a', [2]);
      return foreign;
    });
    expect(() => trace((b) => F.add(b.input('x', [2]), foreign!))).toThrow(/belongs to another graph/);
    expect(() => trace(() => ({}))).toThrow(GraphError);
    expect(() => trace((b) => F.matmul(b.input('a', [2, 3]), b.input('b', [2, 3])))).toThrow(ShapeError);
  });
});

describe('lowerGraph', () => {
  const g = trace((b) => {
    const x = b.input('x', [1, 16, 8]);
    return F.silu(F.linear(x, b.constant(w([8, 8])), b.constant(w([8]))));
  });

  it('expands every composite into primitives by default', () => {
    const ops = lowerGraph(g).nodes.map((n) => n.op);
    expect(ops).not.toContain('linear');
    expect(ops).not.toContain('silu');
    expect(ops).not.toContain('sigmoid');
    expect(ops).toEqual(expect.arrayContaining(['matmul', 'add', 'exp', 'mul']));
  });

  it('keeps the composites a backend fuses', () => {
    const ops = lowerGraph(g, (op) => op === 'linear').nodes.map((n) => n.op);
    expect(ops).toContain('linear');
    expect(ops).not.toContain('silu');
  });

  it('drops nodes no output needs, keeps graph inputs', () => {
    const dead = trace((b) => {
      const x = b.input('x', [4]);
      b.input('unused', [2]);
      F.exp(x); // dead
      return F.neg(x);
    });
    const live = eliminateDeadCode(dead);
    expect(live.nodes.map((n) => n.op)).toEqual(['input', 'input', 'neg']);
    expect(live.nodes[2].inputs).toEqual([0]);
    expect(live.outputs.get('output')).toBe(2);
  });
});
