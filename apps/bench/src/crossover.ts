// Crossover: the token count from which WeightFormer is faster than attention, interpolated on the
// log-log curves. With d(N) = ln t_wfm(N) - ln t_attn(N) linear in ln N between two measured sizes, the
// crossover is where d reaches 0 after the last size at which WeightFormer was not faster.

import type { CurvePoint } from './fit.js';

/** Where WeightFormer overtakes attention. */
export interface Crossover {
  /**
   * `interpolated`: between two measured sizes; `below-range`: WeightFormer is already faster at every
   * measured size; `above-range`: it is not faster at the largest one; `insufficient`: fewer than one
   * common size.
   */
  status: 'interpolated' | 'below-range' | 'above-range' | 'insufficient';
  /** The interpolated token count (`interpolated`), else null. */
  tokens: number | null;
  /** Smallest and largest common token count compared. */
  fromTokens: number | null;
  toTokens: number | null;
}

/**
 * Crossover of two curves (`wfm` becoming lower than `attn`). Only token counts present in both are
 * compared. The result is the last upward-to-downward sign change of ln(wfm/attn), so the returned count
 * is the one beyond which WeightFormer stays faster over the measured range.
 */
export function crossover(wfm: readonly CurvePoint[], attn: readonly CurvePoint[]): Crossover {
  const a = new Map(attn.filter((p) => p.value > 0).map((p) => [p.tokens, p.value]));
  const common = wfm
    .filter((p) => p.value > 0 && a.has(p.tokens))
    .sort((p, q) => p.tokens - q.tokens)
    .map((p) => ({ n: p.tokens, d: Math.log(p.value) - Math.log(a.get(p.tokens)!) }));
  if (common.length === 0) return { status: 'insufficient', tokens: null, fromTokens: null, toTokens: null };
  const fromTokens = common[0].n;
  const toTokens = common[common.length - 1].n;
  let last = -1;
  for (let i = 0; i < common.length; i++) if (common[i].d >= 0) last = i;
  if (last === -1) return { status: 'below-range', tokens: null, fromTokens, toTokens };
  if (last === common.length - 1) return { status: 'above-range', tokens: null, fromTokens, toTokens };
  const p = common[last];
  const q = common[last + 1];
  const t = p.d / (p.d - q.d);
  const ln = Math.log(p.n) + t * (Math.log(q.n) - Math.log(p.n));
  return { status: 'interpolated', tokens: Math.exp(ln), fromTokens, toTokens };
}

/** Whether a crossover lies strictly below `tokens` (`below-range` counts as below). */
export function crossoverBelow(c: Crossover, tokens: number): boolean {
  if (c.status === 'below-range') return (c.fromTokens ?? Number.POSITIVE_INFINITY) <= tokens;
  return c.status === 'interpolated' && c.tokens !== null && c.tokens < tokens;
}
