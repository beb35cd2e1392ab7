// Interleaved repetition order: the workloads compared in one group run as A B C A B C ..., so slow
// drift of the machine (thermal state, other processes) hits every side alike. Workloads needing fewer
// repetitions drop out of later rounds.
import type { SettleOptions } from './settle.js';

/** Warm-up order: each task `warmup` times, alternating (A B A B for two warm-ups). */
export function warmupOrder(tasks: number, warmup: number): number[] {
  const order: number[] = [];
  for (let r = 0; r < warmup; r++) for (let i = 0; i < tasks; i++) order.push(i);
  return order;
}

/**
 * Timed order for tasks needing `reps[i]` repetitions: round r runs, in task order, every task with more
 * than r repetitions. `[2, 2]` gives `[0, 1, 0, 1]`; `[3, 1, 2]` gives `[0, 1, 2, 0, 2, 0]`.
 */
export function interleaveOrder(reps: readonly number[]): number[] {
  const order: number[] = [];
  const rounds = Math.max(0, ...reps);
  for (let r = 0; r < rounds; r++) for (let i = 0; i < reps.length; i++) if (reps[i] > r) order.push(i);
  return order;
}

/** Repetition policy of a group: fixed, or as many as fit a per-task time budget. */
export interface RepPolicy {
  /** Warm-up runs per task (not timed into the statistics). */
  warmup: number;
  /** Fixed repetitions per task; when set, `targetMs` is ignored. */
  reps?: number;
  /** Time budget of one task's timed runs, from its last warm-up time. */
  targetMs: number;
  minReps: number;
  maxReps: number;
  /**
   * Before each timed run, wait for the process to go idle (see settle.ts); null or absent: time each run
   * right after the previous one.
   */
  settle?: SettleOptions | null;
}

/** Repetitions for a task whose warm-up run took `warmMs`. */
export function repsFor(policy: RepPolicy, warmMs: number): number {
  if (policy.reps !== undefined) return Math.max(1, policy.reps);
  const r = Math.round(policy.targetMs / Math.max(warmMs, 1e-3));
  return Math.min(policy.maxReps, Math.max(policy.minReps, r));
}
