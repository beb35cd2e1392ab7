// Seeded pseudo-random numbers (mulberry32): the one generator behind reproducible random weights, inputs
// and test cases across the packages.

/** A seeded PRNG (mulberry32) returning uniform numbers in [0, 1); the same seed gives the same sequence. */
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
