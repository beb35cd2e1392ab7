// Learning-rate schedules as pure functions of the optimizer step (0-based: the rate used by step k), so a
// resumed run needs only the step count: constant, one-cycle exactly as PyTorch's `OneCycleLR` (with its
// momentum cycling), and cosine with linear warm-up down to a minimum.
import { WfError } from '@wf/core';

/** A schedule: learning rate (and, for one-cycle, Adam's beta1 / SGD momentum) at step `k` of `total`. */
export interface LrSchedule {
  /** Name, for logs. */
  readonly name: string;
  /** Learning rate of step `k` (0-based). */
  lr(k: number): number;
  /** The momentum (beta1 for Adam) of step `k` when the schedule cycles it, else undefined. */
  momentum?(k: number): number;
}

/** A constant learning rate. */
export function constantSchedule(lr: number): LrSchedule {
  return { name: 'constant', lr: () => lr };
}

/** Options of {@link oneCycleSchedule}; defaults are PyTorch's. */
export interface OneCycleOptions {
  /** Fraction of steps spent increasing the rate (PyTorch default 0.3). */
  pctStart?: number;
  /** Initial rate = maxLr / divFactor (25). */
  divFactor?: number;
  /** Final rate = initial / finalDivFactor (1e4). */
  finalDivFactor?: number;
  /** Cycle momentum inversely to the rate, between baseMomentum and maxMomentum (true, as PyTorch). */
  cycleMomentum?: boolean;
  /** Lowest momentum (0.85). */
  baseMomentum?: number;
  /** Highest momentum (0.95). */
  maxMomentum?: number;
}

function cosAnneal(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

/**
 * PyTorch's `OneCycleLR` (two phases, cosine annealing): from `maxLr / divFactor` up to `maxLr` over
 * `pctStart * totalSteps - 1` steps, then down to `maxLr / divFactor / finalDivFactor` at step `totalSteps - 1`.
 * With `cycleMomentum` (default, as PyTorch) the momentum / Adam beta1 goes 0.95 -> 0.85 -> 0.95.
 */
export function oneCycleSchedule(maxLr: number, totalSteps: number, opts: OneCycleOptions = {}): LrSchedule {
  if (!Number.isInteger(totalSteps) || totalSteps < 1)
    throw new WfError('E_ARGUMENT', `one-cycle needs a positive step count, got ${totalSteps}`);
  const pct = opts.pctStart ?? 0.3;
  if (!(pct > 0 && pct < 1))
    throw new WfError('E_ARGUMENT', `warm-up fraction must be in (0, 1), got ${pct}`);
  const initial = maxLr / (opts.divFactor ?? 25);
  const min = initial / (opts.finalDivFactor ?? 1e4);
  const baseM = opts.baseMomentum ?? 0.85;
  const maxM = opts.maxMomentum ?? 0.95;
  const end1 = pct * totalSteps - 1;
  const end2 = totalSteps - 1;
  const at = (k: number, a: [number, number], b: [number, number]): number => {
    if (k <= end1) return cosAnneal(a[0], a[1], end1 === 0 ? 0 : k / end1);
    return cosAnneal(b[0], b[1], (k - end1) / (end2 - end1));
  };
  const s: LrSchedule = {
    name: 'onecycle',
    lr: (k) => at(k, [initial, maxLr], [maxLr, min]),
  };
  if (opts.cycleMomentum ?? true) s.momentum = (k) => at(k, [maxM, baseM], [baseM, maxM]);
  return s;
}

/**
 * Linear warm-up from `lr / warmupSteps` to `lr` over `warmupSteps` steps, then cosine from `lr` down to
 * `minLr` at the last step (as the reference config's cosine schedule with warm-up).
 */
export function cosineSchedule(lr: number, totalSteps: number, warmupSteps: number, minLr = 0): LrSchedule {
  const w = Math.max(0, Math.floor(warmupSteps));
  return {
    name: 'cosine',
    lr: (k) => {
      if (k < w) return (lr * (k + 1)) / w;
      const span = Math.max(1, totalSteps - w - 1);
      return cosAnneal(lr, minLr, Math.min(1, (k - w) / span));
    },
  };
}
