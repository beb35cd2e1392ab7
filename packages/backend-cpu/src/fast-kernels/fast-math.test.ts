// fastExp, fastErf and fastTanh against Math.exp, a float64 erf and Math.tanh: within float32 resolution
// over the float32 range, and the edge values (NaN, ±Infinity, underflow, overflow).
import { erf } from '@wf/core';
import { describe, expect, it } from 'vitest';
import { fastErf, fastExp, fastTanh } from './fast-math.js';

const grid = (lo: number, hi: number, n: number) =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

describe('fast math', () => {
  it('fastExp: relative error below 1e-8 on [-87, 88]; edges', () => {
    let worst = 0;
    for (const x of grid(-87, 88, 200_001)) worst = Math.max(worst, Math.abs(fastExp(x) / Math.exp(x) - 1));
    expect(worst).toBeLessThan(1e-8);
    expect(fastExp(0)).toBe(1);
    expect(fastExp(Number.NaN)).toBeNaN();
    expect(fastExp(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(fastExp(-100)).toBe(0);
    expect(fastExp(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(fastExp(100)).toBe(Number.POSITIVE_INFINITY);
  });

  it('fastErf: absolute error below 2e-7; odd, saturating, NaN', () => {
    let worst = 0;
    for (const x of grid(-8, 8, 100_001)) worst = Math.max(worst, Math.abs(fastErf(x) - erf(x)));
    expect(worst).toBeLessThan(2e-7);
    expect(fastErf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(fastErf(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(fastErf(Number.NaN)).toBeNaN();
  });

  it('fastTanh: absolute error below 1e-7; edges', () => {
    let worst = 0;
    for (const x of grid(-25, 25, 100_001)) worst = Math.max(worst, Math.abs(fastTanh(x) - Math.tanh(x)));
    expect(worst).toBeLessThan(1e-7);
    expect(fastTanh(0)).toBe(0);
    expect(fastTanh(Number.POSITIVE_INFINITY)).toBe(1);
    expect(fastTanh(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(fastTanh(Number.NaN)).toBeNaN();
  });
});
