// The cost model: exact FLOP counts for primitives, composites costed by their lowering, and the
// complexity claim itself: DynLinear/DynDWConv grow linearly in tokens, attention quadratically.
import { describe, expect, it } from 'vitest';
import type { TensorType } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { graphCost, opCost } from './cost.js';
import { trace } from './graph.js';

const t = (...shape: number[]): TensorType => ({ shape, dtype: 'float32' });

describe('opCost', () => {
  it('counts primitives exactly', () => {
    expect(opCost('matmul', [t(3, 4, 5), t(5, 6)], {})).toEqual({
      flops: 2 * 3 * 4 * 5 * 6,
      bytes: 4 * (60 + 30 + 72),
    });
    expect(
      opCost('conv2d', [t(1, 3, 8, 8), t(4, 3, 2, 2), t(4)], { stride: [2, 2], padding: [0, 0], groups: 1 })
        .flops,
    ).toBe(4 * 4 * 4 * (2 * 3 * 2 * 2 + 1));
    expect(opCost('reshape', [t(2, 3)], { shape: [6] })).toEqual({ flops: 0, bytes: 0 });
    // adaptive pooling 10 -> 3 uses bins of 4 rows/columns: 9 cells x 16 values per channel
    expect(opCost('adaptive_avg_pool2d', [t(1, 2, 10, 10)], { outSize: [3, 3] }).flops).toBe(2 * 9 * 16);
  });

  it('costs a composite as its lowering', () => {
    const lin = opCost('linear', [t(10, 8), t(4, 8), t(4)], {});
    expect(lin.flops).toBe(2 * 10 * 8 * 4 + 10 * 4);
  });

  it('DynLinear and DynDWConv grow linearly in N, attention quadratically', () => {
    const d = 64;
    const dl = (s: number) =>
      opCost(
        'dyn_linear',
        [t(1, s * s, d), t(d, 4 * d), t(4 * d), t(d / 4 + d, d), t(d / 4 + d), t(d / 4, d), t(d, 4 * d)],
        { strategy: 'bilateral', grid: [s, s] },
      ).flops;
    const dw = (s: number) =>
      opCost('dyn_dwconv', [t(1, d, s, s), t(d, 1, 3, 3), t(d), t(d, d, 1, 1), t(d), t(d, d, 1, 1)], {
        strategy: 'adaptive',
      }).flops;
    const at = (s: number) =>
      opCost('attention', [t(1, s * s, d), t(1, s * s, d), t(1, s * s, d)], { heads: 2 }).flops;
    const slope = (f: (s: number) => number) => Math.log(f(64) / f(16)) / Math.log(16);
    // Linear growth, bounded from both sides: the cost per extra token is the same at every size (an
    // affine cost a*N + b, a > 0, b >= 0: DynDWConv's N-independent part, the kernels generated from the
    // pooled map, keeps its log-log slope below 1 at these sizes), and it is no constant (slope > 0.8).
    const perToken = (f: (s: number) => number, s0: number, s1: number) =>
      (f(s1) - f(s0)) / (s1 * s1 - s0 * s0);
    for (const [name, f] of [
      ['dyn_linear', dl],
      ['dyn_dwconv', dw],
    ] as const) {
      const rates = [perToken(f, 16, 32), perToken(f, 32, 64), perToken(f, 64, 128)];
      console.log(
        `[cost] ${name}: log-log slope ${slope(f).toFixed(4)}, flops per token ${rates.join(', ')}`,
      );
      for (const r of rates) expect(r / rates[0], name).toBeCloseTo(1, 2);
      expect(f(16) - 256 * rates[0], `${name}: N-independent part`).toBeGreaterThanOrEqual(0);
      expect(slope(f), name).toBeGreaterThan(0.8);
      expect(slope(f), name).toBeLessThan(1.05);
    }
    expect(slope(dl)).toBeGreaterThan(0.95);
    expect(slope(at)).toBeGreaterThan(1.9);
    expect(slope(at)).toBeLessThan(2.05);
  });

  it('sums a graph node by node', () => {
    const g = trace((b) => F.exp(F.add(b.input('x', [5]), b.input('y', [5]))));
    const c = graphCost(g);
    expect(c.nodes.map((n) => n.op)).toEqual(['add', 'exp']);
    expect(c.flops).toBe(10);
    expect(c.bytes).toBe(4 * (15 + 10));
  });
});
