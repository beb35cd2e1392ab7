// Unit tests of the log-log slope fit.
import { describe, expect, it } from 'vitest';
import { fitLogLog } from './fit.js';

const power = (c: number, k: number, ns: number[]) => ns.map((n) => ({ tokens: n, value: c * n ** k }));
const NS = [196, 784, 3136, 12544];

describe('fitLogLog', () => {
  it('recovers the exponent of an exact power law', () => {
    expect(fitLogLog(power(0.01, 1, NS))!.slope).toBeCloseTo(1, 12);
    expect(fitLogLog(power(3e-6, 2, NS))!.slope).toBeCloseTo(2, 12);
    const f = fitLogLog(power(5, 1.5, NS))!;
    expect(f.intercept).toBeCloseTo(Math.log(5), 10);
    expect(f.r2).toBeCloseTo(1, 12);
    expect(f).toMatchObject({ points: 4, fromTokens: 196, toTokens: 12544 });
  });

  it('is the least-squares line through noisy points', () => {
    // ln y = [0, 1, 3] at ln x = [0, 1, 2]: slope 1.5, intercept -1/6, r2 = 2.25 * 2 / (14/3) = 27/28.
    const pts = [0, 1, 2].map((lx, i) => ({ tokens: Math.exp(lx), value: Math.exp([0, 1, 3][i]) }));
    const f = fitLogLog(pts)!;
    expect(f.slope).toBeCloseTo(1.5, 12);
    expect(f.intercept).toBeCloseTo(-1 / 6, 12);
    expect(f.r2).toBeCloseTo(27 / 28, 12);
  });

  it('fits only the points inside the token range (inclusive)', () => {
    const pts = [...power(1, 0.5, [196]), ...power(1e-3, 1, [784, 3136, 12544])];
    const f = fitLogLog(pts, { from: 784, to: 12544 })!;
    expect(f.slope).toBeCloseTo(1, 12);
    expect(f.points).toBe(3);
  });

  it('needs two distinct token counts and ignores non-positive values', () => {
    expect(fitLogLog([])).toBeUndefined();
    expect(fitLogLog(power(1, 1, [196]))).toBeUndefined();
    expect(fitLogLog([...power(1, 1, [196]), { tokens: 196, value: 2 }])).toBeUndefined();
    expect(fitLogLog([...power(1, 1, [196]), { tokens: 784, value: 0 }])).toBeUndefined();
  });
});
