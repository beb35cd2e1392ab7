// Timing helpers: repeated measurements summarized as median / min / max milliseconds.
/** Summary of repeated timings in milliseconds. */
export interface TimingSummary {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

/** Median, min and max of a list of milliseconds. */
export function summarize(ms: readonly number[]): TimingSummary {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { runs: s.length, medianMs: median, minMs: s[0], maxMs: s[s.length - 1] };
}

/** Formats a timing summary for the terminal. */
export function formatTiming(t: TimingSummary): string {
  return `median ${t.medianMs.toFixed(2)} ms, min ${t.minMs.toFixed(2)} ms, max ${t.maxMs.toFixed(2)} ms over ${t.runs} runs`;
}
