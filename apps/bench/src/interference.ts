// Issue 15: does one engine slow down the next? WFM-T at 224 px, batch 1, on every engine: blocks of runs
// of each engine alone (nothing else runs between its runs), and each pair of engines interleaved run by
// run (A B A B), so that a slowdown can be pinned on one neighbour. Alone blocks and pair rounds
// alternate twice so that drift of the machine hits both. An engine slower next to another than alone is
// being slowed by it (e.g. by worker threads that keep spinning after a run).
import type { Runner } from './engines/types.js';
import { median } from './stats.js';

/** One engine's median alone and interleaved with one other engine. */
export interface InterferenceRow {
  engine: string;
  /** The engine it was interleaved with. */
  with: string;
  aloneMs: number[];
  interleavedMs: number[];
  aloneMedianMs: number;
  interleavedMedianMs: number;
  /** interleaved / alone (medians): 1 means no interference. */
  ratio: number;
}

/** Measures `runners` alone and in every pair, `reps` runs per block (see the file header). */
export async function measureInterference(
  runners: readonly { name: string; runner: Runner }[],
  reps: number,
): Promise<InterferenceRow[]> {
  const alone = new Map<string, number[]>(runners.map((r) => [r.name, []]));
  const pairs: [number, number][] = [];
  for (let i = 0; i < runners.length; i++) for (let j = i + 1; j < runners.length; j++) pairs.push([i, j]);
  const inter = new Map<string, number[]>(); // `${engine}\n${with}` -> times
  const key = (a: number, b: number) => `${runners[a].name}\n${runners[b].name}`;
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
    for (const [a, b] of pairs)
      for (let i = 0; i < reps; i++)
        for (const [x, y] of [
          [a, b],
          [b, a],
        ]) {
          const ms = await time(runners[x].runner);
          inter.set(key(x, y), [...(inter.get(key(x, y)) ?? []), ms]);
        }
  }
  const rows: InterferenceRow[] = [];
  for (let x = 0; x < runners.length; x++)
    for (let y = 0; y < runners.length; y++) {
      if (x === y) continue;
      const a = alone.get(runners[x].name)!;
      const b = inter.get(key(x, y))!;
      rows.push({
        engine: runners[x].name,
        with: runners[y].name,
        aloneMs: a,
        interleavedMs: b,
        aloneMedianMs: median(a),
        interleavedMedianMs: median(b),
        ratio: median(b) / median(a),
      });
    }
  return rows;
}
