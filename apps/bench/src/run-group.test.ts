// runGroup's settle step: with `policy.settle`, every timed run waits for the process to go idle first and
// the row records the waits; without it, rows have no `settleMs`.
import { describe, expect, it } from 'vitest';
import type { Runner } from './engines/types.js';
import type { RepPolicy } from './interleave.js';
import { type GroupTask, runGroup, type TaskKey } from './run-group.js';
import { DEFAULT_SETTLE } from './settle.js';

const key = (engine: string): TaskKey => ({
  purpose: 'sweep',
  workload: 'models',
  model: 'wfm-tiny',
  family: 'wfm',
  engine,
  kind: 'ours',
  tokens: 196,
  px: 224,
  batch: 1,
  threads: 1,
});

const task = (engine: string, runner: Runner): GroupTask => ({
  key: key(engine),
  runner,
  flops: 1e6,
  prepareRssBytes: null,
});

const quiet = (): Runner => ({ planPeakBytes: null, async run() {}, async dispose() {} });

describe('runGroup warm-up', () => {
  it('warms each task until its warm-up runs add up to warmupMs, interleaved, before any timed run', async () => {
    const calls: string[] = [];
    const runner = (name: string, ms: number): Runner => ({
      planPeakBytes: null,
      async run() {
        const end = performance.now() + ms;
        while (performance.now() < end);
        calls.push(name);
      },
      async dispose() {},
    });
    const policy: RepPolicy = { warmup: 1, warmupMs: 25, targetMs: 0, minReps: 1, maxReps: 1, reps: 1 };
    const { rows } = await runGroup(
      [task('a', runner('a', 10)), task('b', runner('b', 30))],
      policy,
      0,
      null,
    );
    // a needs several ~10 ms runs to pass 25 ms (fewer if the machine slows them), b one 30 ms run; then
    // one timed run each
    const [a, b] = rows.map((r) => r.warmupMs);
    const sum = (xs: number[]) => xs.reduce((p, q) => p + q, 0);
    expect(b).toHaveLength(1);
    expect(a.length).toBeGreaterThan(1);
    expect(sum(a)).toBeGreaterThanOrEqual(25);
    expect(sum(a.slice(0, -1))).toBeLessThan(25);
    expect(calls).toEqual(['a', 'b', ...Array.from({ length: a.length - 1 }, () => 'a'), 'a', 'b']);
  });
});

describe('runGroup settle', () => {
  it('records a wait before every timed run when the policy settles, none otherwise', async () => {
    const policy: RepPolicy = { warmup: 1, reps: 3, targetMs: 0, minReps: 1, maxReps: 3 };
    const plain = await runGroup([task('a', quiet()), task('b', quiet())], policy, 0, null);
    expect(plain.rows.map((r) => r.settleMs)).toEqual([undefined, undefined]);
    const settled = await runGroup(
      [task('a', quiet()), task('b', quiet())],
      { ...policy, settle: DEFAULT_SETTLE },
      0,
      null,
    );
    for (const row of settled.rows) {
      expect(row.settleMs).toHaveLength(3);
      for (const w of row.settleMs ?? []) {
        expect(w).toBeGreaterThanOrEqual(DEFAULT_SETTLE.sliceMs * 0.9);
        expect(w).toBeLessThanOrEqual(DEFAULT_SETTLE.maxMs + 50);
      }
    }
  });
});
