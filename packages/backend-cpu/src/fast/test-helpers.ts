// Helpers shared by the fast-path tests: a seeded random generator and a float64 reference matrix product.

/** A seeded pseudo-random generator (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [lo, hi] from `rand`. */
export function randomInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Fills `out` with uniform values in [-1, 1) from `rand`. */
export function fillRandom(out: Float32Array, rand: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rand() * 2 - 1;
  return out;
}
