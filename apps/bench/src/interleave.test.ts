// Unit tests of the interleaved run order and the repetition policy.
import { describe, expect, it } from 'vitest';
import { dueForWarmup, interleaveOrder, MAX_WARMUP, repsFor, warmupOrder } from './interleave.js';

describe('interleaving', () => {
  it('alternates the compared tasks: A B A B', () => {
    expect(interleaveOrder([2, 2])).toEqual([0, 1, 0, 1]);
    expect(interleaveOrder([3, 3, 3])).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('drops tasks that need fewer repetitions from the later rounds', () => {
    expect(interleaveOrder([3, 1, 2])).toEqual([0, 1, 2, 0, 2, 0]);
    expect(interleaveOrder([0, 2])).toEqual([1, 1]);
    expect(interleaveOrder([])).toEqual([]);
  });

  it('never runs a task twice in a row while another still needs runs', () => {
    const reps = [5, 2, 4, 1];
    const order = interleaveOrder(reps);
    expect(order.length).toBe(12);
    for (let i = 0; i < reps.length; i++) expect(order.filter((t) => t === i).length).toBe(reps[i]);
    for (let k = 1; k < order.length; k++) {
      if (order[k] === order[k - 1]) {
        const left = reps.map((r, i) => r - order.slice(0, k).filter((t) => t === i).length);
        expect(left.filter((l, i) => l > 0 && i !== order[k]).length).toBe(0);
      }
    }
  });

  it('warms every task up in the same alternating order', () => {
    expect(warmupOrder(2, 1)).toEqual([0, 1]);
    expect(warmupOrder(3, 2)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(warmupOrder(2, 0)).toEqual([]);
  });
});

describe('repsFor', () => {
  const policy = { warmup: 1, targetMs: 1500, minReps: 1, maxReps: 5 };

  it('fits the time budget between the bounds', () => {
    expect(repsFor(policy, 10)).toBe(5);
    expect(repsFor(policy, 500)).toBe(3);
    expect(repsFor(policy, 700)).toBe(2);
    expect(repsFor(policy, 20_000)).toBe(1);
    expect(repsFor(policy, Number.POSITIVE_INFINITY)).toBe(1);
  });

  it('a fixed count wins', () => {
    expect(repsFor({ ...policy, reps: 7 }, 20_000)).toBe(7);
    expect(repsFor({ ...policy, reps: 0 }, 1)).toBe(1);
  });
});

describe('dueForWarmup', () => {
  it('keeps warming the tasks whose warm-up runs add up to less than warmupMs', () => {
    // A: 90 + 60 ms (done at 150), B: 30 ms, C: failed, D: one 400 ms run
    const warm = [[90, 60], [30], [10], [400]];
    expect(dueForWarmup({ warmupMs: 150 }, warm, (i) => i === 2)).toEqual([1]);
    expect(dueForWarmup({ warmupMs: 151 }, warm, (i) => i === 2)).toEqual([0, 1]);
  });

  it('stops at maxWarmup runs (default MAX_WARMUP), and asks nothing without warmupMs', () => {
    const tiny = [Array.from({ length: MAX_WARMUP }, () => 1), [1, 1]];
    expect(dueForWarmup({ warmupMs: 1000 }, tiny)).toEqual([1]);
    expect(dueForWarmup({ warmupMs: 1000, maxWarmup: 2 }, tiny)).toEqual([]);
    expect(dueForWarmup({}, [[1]])).toEqual([]);
  });
});
