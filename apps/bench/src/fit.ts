// Least-squares fit of a power law t = c * N^k on log-log axes: the slope k is the measured complexity
// exponent (about 1 for linear-time WeightFormer, approaching 2 for softmax attention).

/** A point of a curve: tokens and a positive value (latency in ms, or FLOPs). */
export interface CurvePoint {
  tokens: number;
  value: number;
}

/** Result of a log-log least-squares fit. */
export interface LogLogFit {
  /** Exponent k of `value ~ c * tokens^k`. */
  slope: number;
  /** ln c. */
  intercept: number;
  /** Coefficient of determination on the log-log points (1 when two points). */
  r2: number;
  /** Number of points used. */
  points: number;
  /** Smallest and largest token count used. */
  fromTokens: number;
  toTokens: number;
}

/**
 * Fits `ln value = intercept + slope * ln tokens` by least squares over the points whose token count lies
 * in `[from, to]` (inclusive; default all). Returns `undefined` with fewer than two distinct token counts.
 * Non-positive values are ignored.
 */
export function fitLogLog(
  points: readonly CurvePoint[],
  range: { from?: number; to?: number } = {},
): LogLogFit | undefined {
  const lo = range.from ?? 0;
  const hi = range.to ?? Number.POSITIVE_INFINITY;
  const used = points.filter((p) => p.tokens >= lo && p.tokens <= hi && p.tokens > 0 && p.value > 0);
  if (new Set(used.map((p) => p.tokens)).size < 2) return undefined;
  const xs = used.map((p) => Math.log(p.tokens));
  const ys = used.map((p) => Math.log(p.value));
  const n = used.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return {
    slope,
    intercept,
    r2,
    points: n,
    fromTokens: Math.min(...used.map((p) => p.tokens)),
    toTokens: Math.max(...used.map((p) => p.tokens)),
  };
}
