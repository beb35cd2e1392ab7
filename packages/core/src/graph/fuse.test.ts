// The activation-folding rewrite: gelu(linear) and gelu(dyn_linear) fold when the linear output has one
// use; the rewritten graph evaluates to the same numbers (float64 oracle).
import { describe, expect, it } from 'vitest';
import * as F from '../ops/functional.js';
import { randomTensor, rng } from '../testing/compare.js';
import { evaluateF64 } from '../testing/reference-kernels.js';
import { fuseActivations } from './fuse.js';
import { trace } from './graph.js';

const r = rng(11);
const w = randomTensor([6, 4], r);
const b = randomTensor([6], r);
const x = randomTensor([2, 3, 4], r);

describe('fuseActivations', () => {
  it('folds gelu into a single-use linear and keeps the numbers', () => {
    const g = trace((t) => {
      const h = F.linear(t.input('x', [2, 3, 4]), t.constant(w), t.constant(b));
      return F.gelu(h, 'tanh');
    });
    const f = fuseActivations(g);
    expect(f.nodes.map((n) => n.op)).toEqual(['input', 'const', 'const', 'linear']);
    expect(f.nodes[3].attrs).toEqual({ activation: 'gelu_tanh' });
    const a = evaluateF64(g, { x }).output.data;
    const c = evaluateF64(f, { x }).output.data;
    expect(Array.from(c)).toEqual(Array.from(a));
  });

  it('leaves a linear alone when its output is used twice or is a graph output', () => {
    const twice = trace((t) => {
      const h = F.linear(t.input('x', [2, 3, 4]), t.constant(w), t.constant(b));
      return F.add(F.gelu(h), h);
    });
    expect(fuseActivations(twice).nodes.map((n) => n.op)).toContain('gelu');
    const exposed = trace((t) => {
      const h = F.linear(t.input('x', [2, 3, 4]), t.constant(w), t.constant(b));
      return { h, y: F.gelu(h) };
    });
    expect(fuseActivations(exposed).nodes.map((n) => n.op)).toContain('gelu');
  });
});
