// Unit tests of the crossover interpolation on log-log curves.
import { describe, expect, it } from 'vitest';
import { crossover, crossoverBelow } from './crossover.js';

const curve = (f: (n: number) => number, ns: number[]) => ns.map((n) => ({ tokens: n, value: f(n) }));
const NS = [196, 784, 3136, 12544];

describe('crossover', () => {
  it('is exact for power laws: linear c1*N against quadratic c2*N^2 cross at N = c1 / c2', () => {
    const c = crossover(
      curve((n) => 0.5 * n, NS),
      curve((n) => 0.5 * n * n * 1e-3, NS),
    );
    expect(c.status).toBe('interpolated');
    expect(c.tokens).toBeCloseTo(1000, 6);
    expect(c).toMatchObject({ fromTokens: 196, toTokens: 12544 });
  });

  it('interpolates ln(t_wfm / t_attn) linearly in ln N between the two bracketing sizes', () => {
    // ratio wfm/attn = 2 at 784 and 1/2 at 3136: the crossover is at the geometric mean, 1568.
    const wfm = [
      { tokens: 784, value: 20 },
      { tokens: 3136, value: 10 },
    ];
    const attn = [
      { tokens: 784, value: 10 },
      { tokens: 3136, value: 20 },
    ];
    expect(crossover(wfm, attn).tokens).toBeCloseTo(1568, 6);
  });

  it('reports below-range, above-range and insufficient', () => {
    expect(
      crossover(
        curve((n) => n, NS),
        curve((n) => 2 * n, NS),
      ).status,
    ).toBe('below-range');
    expect(
      crossover(
        curve((n) => 2 * n, NS),
        curve((n) => n, NS),
      ).status,
    ).toBe('above-range');
    expect(
      crossover(
        curve((n) => n, [196]),
        curve((n) => n, [784]),
      ).status,
    ).toBe('insufficient');
  });

  it('compares only common sizes and takes the last crossing (WeightFormer stays faster after it)', () => {
    const wfm = curve((n) => ({ 196: 1, 784: 3, 3136: 2, 12544: 2 })[n]!, NS);
    const attn = curve((n) => ({ 196: 2, 784: 2, 3136: 4, 12544: 8 })[n]!, NS);
    const c = crossover([...wfm, { tokens: 50176, value: 1 }], attn);
    expect(c.status).toBe('interpolated');
    expect(c.tokens!).toBeGreaterThan(784);
    expect(c.tokens!).toBeLessThan(3136);
    expect(c.toTokens).toBe(12544);
  });

  it('a tie counts as not faster yet: the crossover is at the tie', () => {
    const c = crossover(
      curve((n) => (n <= 784 ? n : 0.1 * n), NS),
      curve((n) => n, NS),
    );
    expect(c.status).toBe('interpolated');
    expect(c.tokens!).toBeCloseTo(784, 9);
    expect(
      crossover(
        curve((n) => n, NS),
        curve((n) => n, NS),
      ).status,
    ).toBe('above-range');
  });

  it('crossoverBelow', () => {
    expect(
      crossoverBelow({ status: 'interpolated', tokens: 1000, fromTokens: 196, toTokens: 12544 }, 3136),
    ).toBe(true);
    expect(
      crossoverBelow({ status: 'interpolated', tokens: 4000, fromTokens: 196, toTokens: 12544 }, 3136),
    ).toBe(false);
    expect(
      crossoverBelow({ status: 'below-range', tokens: null, fromTokens: 196, toTokens: 12544 }, 3136),
    ).toBe(true);
    expect(
      crossoverBelow({ status: 'above-range', tokens: null, fromTokens: 196, toTokens: 12544 }, 3136),
    ).toBe(false);
    expect(
      crossoverBelow({ status: 'insufficient', tokens: null, fromTokens: null, toTokens: null }, 3136),
    ).toBe(false);
  });
});
