// Summary statistics of repeated timings: median, min and max of a list of milliseconds.

/** Median, min and max of repeated measurements (milliseconds). */
export interface TimingStats {
  /** Number of timed runs (warm-up excluded). */
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, min and max of a non-empty list of milliseconds. */
export function summarize(ms: readonly number[]): TimingStats {
  if (ms.length === 0) throw new RangeError('no timings to summarize');
  return { runs: ms.length, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms) };
}
