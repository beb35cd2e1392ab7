// Tests of the autodiff API on the float64 evaluator (backends run the gradient conformance group): grad,
// valueAndGrad and vjp against closed forms, gradients w.r.t. named constants, parameterize, the saves
// declarations enforced, and clear errors for bad names.
import { describe, expect, it } from 'vitest';
import { type Graph, trace } from '../graph/graph.js';
import { OPS, type PrimitiveOp } from '../ir/ops.js';
import { tensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { evaluateF64 } from '../testing/reference-kernels.js';
import { grad, parameterize, valueAndGrad, vjp, vjpGraph } from './grad.js';
import { VJP_RULES } from './vjp-rules.js';

const x = tensorData([2, 3], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]);
const w = tensorData([3, 2], [1, 2, -1, 0.5, 0.25, -2]);

describe('autodiff API', () => {
  it('every primitive of the op table has a rule, and only primitives', () => {
    const prims = Object.keys(OPS).filter((op) => OPS[op as PrimitiveOp].kind !== 'composite');
    expect(Object.keys(VJP_RULES).sort()).toEqual(prims.sort());
  });

  it('grad of sum(tanh(x @ w)) matches the closed form', () => {
    const g = grad((b) => F.sum(F.tanh(F.matmul(b.input('x', [2, 3]), b.input('w', [3, 2])))), ['x', 'w']);
    expect([...g.outputs.keys()].sort()).toEqual(['grad.w', 'grad.x']);
    const out = evaluateF64(g, { x, w });
    // closed form: dx = (1 - tanh(xw)^2) @ wᵀ, dw = xᵀ @ (1 - tanh(xw)^2)
    const s: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        let v = 0;
        for (let k = 0; k < 3; k++) v += x.data[i * 3 + k] * w.data[k * 2 + j];
        s.push(1 - Math.tanh(v) ** 2);
      }
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 3; k++) {
        const want = s[i * 2] * w.data[k * 2] + s[i * 2 + 1] * w.data[k * 2 + 1];
        expect(out['grad.x'].data[i * 3 + k]).toBeCloseTo(want, 12);
      }
    for (let k = 0; k < 3; k++)
      for (let j = 0; j < 2; j++) {
        const want = x.data[k] * s[j] + x.data[3 + k] * s[2 + j];
        expect(out['grad.w'].data[k * 2 + j]).toBeCloseTo(want, 12);
      }
  });

  it('valueAndGrad returns the value too; vjp takes a cotangent input', () => {
    const vg = valueAndGrad((b) => F.sum(F.mul(b.input('x', [2, 3]), 2)), ['x']);
    const out = evaluateF64(vg, { x });
    expect(out.value.data[0]).toBeCloseTo(2 * [...x.data].reduce((a, v) => a + v, 0), 6);
    expect([...out['grad.x'].data]).toEqual([2, 2, 2, 2, 2, 2]);
    const v = vjp((b) => F.exp(b.input('x', [2, 3])), ['x']);
    expect(v.inputs.has('cotangent')).toBe(true);
    const c = tensorData([2, 3], [1, 0, 2, 0, 1, 0]);
    const r = evaluateF64(v, { x, cotangent: c });
    for (let i = 0; i < 6; i++) expect(r['grad.x'].data[i]).toBeCloseTo(c.data[i] * Math.exp(x.data[i]), 6);
  });

  it('differentiates w.r.t. named constants (weights), and parameterize makes them inputs', () => {
    const fwd: Graph = trace((b) => ({ y: F.matmul(b.input('x', [2, 3]), b.constant(w, 'layer.weight')) }));
    const byConst = evaluateF64(vjpGraph(fwd, ['layer.weight']), {
      x,
      cotangent: tensorData([2, 2], [1, 1, 1, 1]),
    });
    const { graph, values } = parameterize(fwd);
    expect(graph.inputs.has('layer.weight')).toBe(true);
    expect(values.get('layer.weight')).toBe(w);
    const byInput = evaluateF64(vjpGraph(graph, ['layer.weight']), {
      x,
      'layer.weight': w,
      cotangent: tensorData([2, 2], [1, 1, 1, 1]),
    });
    expect([...byInput['grad.layer.weight'].data]).toEqual([...byConst['grad.layer.weight'].data]);
    // dW[k, j] = sum_i x[i, k]
    expect(byConst['grad.layer.weight'].data[0]).toBeCloseTo(x.data[0] + x.data[3], 6);
  });

  it('a name nothing depends on gets zeros; unknown and integer names fail clearly', () => {
    const fwd = trace((b) => {
      b.input('unused', [4]);
      return F.mul(b.input('x', [2, 3]), 3);
    });
    const out = evaluateF64(vjpGraph(fwd, ['unused']), {
      x,
      unused: tensorData([4], [1, 2, 3, 4]),
      cotangent: x,
    });
    expect([...out['grad.unused'].data]).toEqual([0, 0, 0, 0]);
    expect(() => vjpGraph(fwd, ['nope'])).toThrow(/"nope" is neither a graph input nor a named constant/);
    const ints = trace((b) => F.gather(b.input('t', [5, 2]), b.input('i', [3], 'int32')));
    expect(() => vjpGraph(ints, ['i'])).toThrow(/int32; only float32/);
  });

  it('a rule reading an input it does not save fails', () => {
    const rule = VJP_RULES.div;
    const saved = rule.saves;
    (rule as { saves: unknown }).saves = { inputs: [], output: true };
    try {
      expect(() => vjp((b) => F.div(b.input('a', [2]), b.input('b', [2])), ['a'])).toThrow(
        /reads input 1, which its saves.inputs omits/,
      );
    } finally {
      (rule as { saves: unknown }).saves = saved;
    }
  });
});
