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
  /**
   * Then more warm-up rounds for every task whose warm-up runs add up to less than this (ms), up to
   * `maxWarmup` runs in all: JIT and WebAssembly tier-up take a few runs (our WFM-T ran 63, 55, 43, 36 ms
   * after one warm-up run), and a run still warming up is not the engine's speed.
   */
  warmupMs?: number;
  /** Most warm-up runs per task with `warmupMs` (default {@link MAX_WARMUP}). */
  maxWarmup?: number;
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

/** Default cap of warm-up runs per task under `RepPolicy.warmupMs`. */
export const MAX_WARMUP = 10;

/**
 * The tasks due another warm-up run under `policy` (`warmupMs`), given each task's warm-up times so far;
 * `skip(i)` drops a task (e.g. one that failed).
 */
export function dueForWarmup(
  policy: Pick<RepPolicy, 'warmupMs' | 'maxWarmup'>,
  warm: readonly (readonly number[])[],
  skip: (i: number) => boolean = () => false,
): number[] {
  const budget = policy.warmupMs ?? 0;
  const cap = policy.maxWarmup ?? MAX_WARMUP;
  return warm.flatMap((w, i) =>
    !skip(i) && w.length < cap && w.reduce((a, b) => a + b, 0) < budget ? [i] : [],
  );
}

/** Repetitions for a task whose warm-up run took `warmMs`. */
export function repsFor(policy: RepPolicy, warmMs: number): number {
  if (policy.reps !== undefined) return Math.max(1, policy.reps);
  const r = Math.round(policy.targetMs / Math.max(warmMs, 1e-3));
  return Math.min(policy.maxReps, Math.max(policy.minReps, r));
}
