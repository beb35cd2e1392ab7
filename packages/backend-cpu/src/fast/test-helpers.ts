// Helpers shared by the fast-path tests: a seeded random generator and a float64 reference matrix product.

/** A seeded pseudo-random generator (mulberry32) returning floats in [0, 1): core's `seededRandom`. */
export { seededRandom } from '@wf/core';

/** A random integer in [lo, hi] from `rand`. */
export function randomInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Fills `out` with uniform values in [-1, 1) from `rand`. */
export function fillRandom(out: Float32Array, rand: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rand() * 2 - 1;
  return out;
}
