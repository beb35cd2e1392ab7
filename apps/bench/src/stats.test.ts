// Unit tests of the timing summary.
import { describe, expect, it } from 'vitest';
import { median, summarize } from './stats.js';

describe('median / summarize', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('summarizes runs, min and max without reordering the input', () => {
    const ms = [5, 1, 9, 3];
    expect(summarize(ms)).toEqual({ runs: 4, medianMs: 4, minMs: 1, maxMs: 9 });
    expect(ms).toEqual([5, 1, 9, 3]);
  });

  it('rejects an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
  });
});
