// Issue 15: does one engine slow down the next? WFM-T at 224 px, batch 1, on every engine: blocks of runs
// of each engine alone (nothing else runs between its runs), and the same engines interleaved run by run
// (A B C A B C, as the sweep groups run them). Alone and interleaved blocks alternate twice so that drift
// of the machine hits both. A peer that is slower interleaved than alone is being slowed by the engine
// before it (e.g. worker threads that keep spinning after a run).
import type { Runner } from './engines/types.js';
import { median } from './stats.js';

/** One engine's medians alone and interleaved with the others. */
export interface InterferenceRow {
  engine: string;
  /** The engines it was interleaved with. */
  with: string[];
  aloneMs: number[];
  interleavedMs: number[];
  aloneMedianMs: number;
  interleavedMedianMs: number;
  /** interleaved / alone (medians): 1 means no interference. */
  ratio: number;
}

/** Measures `runners` (name -> prepared runner) alone and interleaved, `reps` runs per block. */
export async function measureInterference(
  runners: readonly { name: string; runner: Runner }[],
  reps: number,
): Promise<InterferenceRow[]> {
  const alone = new Map<string, number[]>(runners.map((r) => [r.name, []]));
  const inter = new Map<string, number[]>(runners.map((r) => [r.name, []]));
  const time = async (r: Runner) => {
    const t0 = performance.now();
    await r.run();
    return performance.now() - t0;
  };
  for (const r of runners) await r.runner.run(); // warm-up
  for (let pass = 0; pass < 2; pass++) {
    // Alone: the first run of a block follows another engine, so it is run but not kept.
    for (const r of runners) {
      await r.runner.run();
      for (let i = 0; i < reps; i++) alone.get(r.name)!.push(await time(r.runner));
    }
    for (let i = 0; i < reps; i++) for (const r of runners) inter.get(r.name)!.push(await time(r.runner));
  }
  return runners.map((r) => {
    const a = alone.get(r.name)!;
    const b = inter.get(r.name)!;
    return {
      engine: r.name,
      with: runners.filter((x) => x !== r).map((x) => x.name),
      aloneMs: a,
      interleavedMs: b,
      aloneMedianMs: median(a),
      interleavedMedianMs: median(b),
      ratio: median(b) / median(a),
    };
  });
}
