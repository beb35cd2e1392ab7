// measureInterference: alone blocks and interleaved rounds alternate twice, every run is timed into the
// right list, and the ratio is interleaved over alone.
import { describe, expect, it } from 'vitest';
import type { Runner } from './engines/types.js';
import { measureInterference } from './interference.js';

const busy = (ms: number) => {
  const t = performance.now() + ms;
  while (performance.now() < t);
};

describe('measureInterference', () => {
  it('times each engine alone and interleaved with each other engine, in alternating passes', async () => {
    const calls: string[] = [];
    // B is slow right after A ran (a stand-in for a peer slowed by the engine before it): 20 ms against 2 ms,
    // so that scheduling noise on a loaded machine (CI runs every suite at once) cannot pull the ratio to
    // the bound below (with 6 against 2 ms, a CI run measured 1.998)
    const runner = (name: string, ms: () => number): Runner => ({
      planPeakBytes: null,
      async run() {
        busy(ms());
        calls.push(name);
      },
      async dispose() {},
    });
    const rows = await measureInterference(
      [
        { name: 'A', runner: runner('A', () => 1) },
        { name: 'B', runner: runner('B', () => (calls.at(-1) === 'A' ? 20 : 2)) },
      ],
      2,
    );
    // warm-up A B, then per pass: (A) A A (B) B B alone, the first of each block not kept; A B A B interleaved
    expect(calls.join('')).toBe(`AB${'AAABBBABAB'.repeat(2)}`);
    const [a, b] = rows;
    expect(a).toMatchObject({ engine: 'A', with: 'B' });
    expect(b).toMatchObject({ engine: 'B', with: 'A' });
    expect(a.aloneMs).toHaveLength(4);
    expect(b.interleavedMs).toHaveLength(4);
    expect(b.ratio).toBeCloseTo(b.interleavedMedianMs / b.aloneMedianMs, 12);
    expect(b.ratio).toBeGreaterThan(2);
  });
});

it('pins a slowdown on the neighbour that causes it (three engines, every pair)', async () => {
  let last = '';
  const runner = (name: string, ms: () => number): Runner => ({
    planPeakBytes: null,
    async run() {
      busy(ms());
      last = name;
    },
    async dispose() {},
  });
  const rows = await measureInterference(
    [
      // 10 ms runs against 100 ms ones, 5 runs a block: scheduling noise on a loaded machine (CI runs every
      // suite at once on 2 cores; with 5 ms runs and 3 a block, one CI run measured 2.58 for C with B) cannot
      // move a median across the bounds below.
      { name: 'A', runner: runner('A', () => 10) },
      { name: 'B', runner: runner('B', () => 10) },
      { name: 'C', runner: runner('C', () => (last === 'A' ? 100 : 10)) },
    ],
    5,
  );
  expect(rows.map((r) => `${r.engine}/${r.with}`)).toEqual(['A/B', 'A/C', 'B/A', 'B/C', 'C/A', 'C/B']);
  const c = (w: string) => rows.find((r) => r.engine === 'C' && r.with === w)!;
  expect(c('A').ratio).toBeGreaterThan(2);
  expect(c('B').ratio).toBeLessThan(1.8);
});
