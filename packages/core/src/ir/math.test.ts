// Checks erf and sigmoid against published values (Abramowitz & Stegun table 7.1 / mpmath to 16 digits).
import { describe, expect, it } from 'vitest';
import { erf, sigmoid } from './math.js';

describe('erf', () => {
  const table: [number, number][] = [
    [0, 0],
    [0.01, 0.011283415555849618],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.5, 0.999593047982555],
    [3, 0.9999779095030014],
    [4.5, 0.9999999998033839],
  ];
  it.each(table)('erf(%f) to 1e-15 relative, odd symmetry', (x, want) => {
    expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(1e-15 * Math.max(1e-300, Math.abs(want)) + 1e-17);
    expect(erf(-x) + erf(x)).toBe(0);
  });
  it('saturates, propagates NaN, and is continuous at the branch switch', () => {
    expect(erf(10)).toBe(1);
    expect(erf(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
    // across the series / continued-fraction switch at 2 the step matches the derivative 2/sqrt(pi) e^-x^2
    const h = 1e-6;
    const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-4);
    expect(Math.abs(erf(2 + h) - erf(2 - h) - 2 * h * slope)).toBeLessThan(1e-14);
  });
});

describe('sigmoid', () => {
  it('matches 1/(1+e^-x) and stays finite for large |x|', () => {
    for (const x of [-3, -0.5, 0, 0.25, 4]) expect(sigmoid(x)).toBeCloseTo(1 / (1 + Math.exp(-x)), 15);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });
});
