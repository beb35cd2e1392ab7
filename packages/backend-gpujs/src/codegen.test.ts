// Kernel source generation: literals, exact index division with float32 arithmetic, coordinates,
// constant subscripts, and the accuracy of the math helpers the kernels inline (evaluated here in float32).
import { erf } from '@wf/core';
import { describe, expect, it } from 'vitest';
import {
  coords,
  erfExpr,
  evalConst,
  foldConstantSubscripts,
  idiv,
  lit,
  Names,
  offset,
  sigmoidExpr,
  sinExpr,
  tanhExpr,
} from './codegen.js';

/** Runs kernel statements as JavaScript with every arithmetic result rounded to float32. */
function runF32(lines: string[], result: string, x: number): number {
  const f32 = lines
    .concat(`return ${result};`)
    .join('\n')
    .replace(/Math\.(exp|floor|abs|sqrt)\(/g, 'M.$1(');
  const M = {
    exp: (v: number) => Math.fround(Math.exp(v)),
    floor: Math.floor,
    abs: Math.abs,
    sqrt: (v: number) => Math.fround(Math.sqrt(v)),
  };
  return new Function('M', 'x', f32)(M, Math.fround(x));
}

describe('codegen', () => {
  it('writes float literals with a decimal point and no exponent', () => {
    expect(lit(3)).toBe('3.0');
    expect(lit(0.5)).toBe('0.5');
    expect(lit(-2)).toBe('(-2.0)');
    expect(lit(1e-6)).toBe('0.000001');
    expect(lit(1e-7)).toBe('0.0000001');
    expect(() => lit(Number.NaN)).toThrow(/non-finite/);
  });

  it('idiv is exact for every n < 2^24 even when division rounds the wrong way', () => {
    const divisors = [3, 7, 14, 192, 768, 3136, 4095];
    const ns = [0, 1, 2, 5, 2 ** 20 + 3, 2 ** 22 - 1, 2 ** 23 + 11, 2 ** 24 - 1, 12345678];
    for (const d of divisors) {
      const src = `${idiv('n', d, 'q', 'r')} return [q, r];`;
      // a "GPU" whose division is off by 2 ulp in either direction
      for (const skew of [1 - 2 ** -21, 1 - 2 ** -22, 1, 1 + 2 ** -22, 1 + 2 ** -21]) {
        const run = new Function('n', 'Math', src.replace(/\//g, `* ${skew} /`));
        for (const n of ns) {
          const [q, r] = run(n, Math);
          expect([q, r]).toEqual([Math.floor(n / d), n % d]);
        }
      }
    }
  });

  it('splits a flat index into row-major coordinates, skipping size-1 axes', () => {
    const names = new Names();
    const { code, c } = coords('t', [2, 1, 3, 4], names);
    const run = new Function('t', `${code} return [${c.join(', ')}];`);
    expect(run(0)).toEqual([0, 0, 0, 0]);
    expect(run(23)).toEqual([1, 0, 2, 3]);
    expect(run(13)).toEqual([1, 0, 0, 1]);
    expect(offset(c, [12, 0, 4, 1])).toMatch(/\* 12\.0/);
  });

  it('folds constant subscripts to integer literals (GLSL needs an int index)', () => {
    expect(foldConstantSubscripts('st[0.0] + st[0.0 + 3.0] + w[c1 * 2.0]')).toBe(
      'st[0] + st[3] + w[c1 * 2.0]',
    );
    expect(evalConst('(2.0 + 3.0) * 4.0 - (-1.0)')).toBe(21);
  });

  it('inlined erf, tanh, sigmoid, sin and cos are accurate in float32', () => {
    const cases: [string, (x: number) => number, (n: Names, l: string[]) => string, number, number][] = [
      ['erf', erf, (n, l) => erfExpr('x', n, l), -5, 5],
      ['tanh', Math.tanh, (n, l) => tanhExpr('x', n, l), -12, 12],
      ['sigmoid', (x) => 1 / (1 + Math.exp(-x)), (n, l) => sigmoidExpr('x', n, l), -30, 30],
      ['sin', Math.sin, (n, l) => sinExpr('x', false, n, l), -100, 100],
      ['cos', Math.cos, (n, l) => sinExpr('x', true, n, l), -100, 100],
    ];
    for (const [name, ref, make, lo, hi] of cases) {
      const lines: string[] = [];
      const r = make(new Names(), lines);
      let worst = 0;
      for (let i = 0; i <= 2000; i++) {
        const x = Math.fround(lo + ((hi - lo) * i) / 2000);
        worst = Math.max(worst, Math.abs(runF32(lines, r, x) - ref(x)));
      }
      expect(worst, name).toBeLessThan(2e-6);
    }
  });
});
