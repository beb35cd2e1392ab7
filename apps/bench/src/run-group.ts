// Runs one interleaving group: every task warms up, then the timed runs alternate task by task
// (A B A B ...), each task getting as many repetitions as its policy allows. Memory is sampled around
// every timed run: process figures after it, and the RSS peak during it (from the sampler thread).

import type { Runner } from './engines/types.js';
import { dueForWarmup, interleaveOrder, type RepPolicy, repsFor, warmupOrder } from './interleave.js';
import { type MemorySnapshot, type RssSampler, snapshot } from './memory.js';
import type { EngineKind, Family, ModelId, Purpose, Row, WorkloadId } from './schema.js';
import { waitForIdle } from './settle.js';
import { median, summarize } from './stats.js';

/** What a task measures: the identity of its row. */
export interface TaskKey {
  purpose: Purpose;
  workload: WorkloadId;
  model: ModelId;
  family: Family;
  engine: string;
  kind: EngineKind;
  tokens: number;
  px: number | null;
  batch: number;
  threads: number | null;
}

/** A prepared task of a group. */
export interface GroupTask {
  key: TaskKey;
  runner: Runner;
  /** FLOPs of one run (cost model). */
  flops: number;
  /** RSS growth while it was prepared, when measured. */
  prepareRssBytes: number | null;
}

/** Progress callbacks of a group. */
export interface GroupProgress {
  /** More runs are now planned. */
  plan(runs: number): void;
  /** One run finished. */
  tick(label: string): void;
}

/** A task that failed, and the error. */
export interface TaskFailure {
  key: TaskKey;
  error: string;
}

/** The row id of a task. */
export function rowId(k: TaskKey): string {
  return `${k.purpose}/${k.model}/${k.engine}/N${k.tokens}/b${k.batch}`;
}

/** A short label of a task for progress lines. */
export function taskLabel(k: TaskKey): string {
  return `${k.model} ${k.engine} N=${k.tokens}${k.batch > 1 ? ` b${k.batch}` : ''}`;
}

/** Wall-clock and process CPU milliseconds (user + system, every thread of the process) of one run. */
async function timeRun(runner: Runner): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await runner.run();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

/** Runs a group; returns a row per task that completed and the failures. */
export async function runGroup(
  tasks: readonly GroupTask[],
  policy: RepPolicy,
  group: number,
  sampler: RssSampler | null,
  progress?: GroupProgress,
): Promise<{ rows: Row[]; failures: TaskFailure[] }> {
  const failed = new Map<number, string>();
  const warm: number[][] = tasks.map(() => []);
  progress?.plan(tasks.length * policy.warmup);
  const warmUp = async (i: number) => {
    if (failed.has(i)) return;
    try {
      warm[i].push((await timeRun(tasks[i].runner)).ms);
    } catch (e) {
      failed.set(i, (e as Error).message.split('\n')[0]);
    }
    progress?.tick(`warm-up ${taskLabel(tasks[i].key)}`);
  };
  for (const i of warmupOrder(tasks.length, policy.warmup)) await warmUp(i);
  // then rounds (still interleaved) for the tasks whose warm-up took less than policy.warmupMs
  for (let due = dueForWarmup(policy, warm, (i) => failed.has(i)); due.length; ) {
    progress?.plan(due.length);
    for (const i of due) await warmUp(i);
    due = dueForWarmup(policy, warm, (i) => failed.has(i));
  }
  const reps = tasks.map((_, i) =>
    failed.has(i)
      ? 0
      : repsFor(policy, warm[i].length ? warm[i][warm[i].length - 1] : Number.POSITIVE_INFINITY),
  );
  progress?.plan(reps.reduce((a, b) => a + b, 0));
  const samples: number[][] = tasks.map(() => []);
  const cpu: number[][] = tasks.map(() => []);
  const settled: number[][] = tasks.map(() => []);
  const peaks: number[] = tasks.map(() => 0);
  const runDelta: number[] = tasks.map(() => 0);
  const mem: MemorySnapshot[] = tasks.map(() => ({
    rssBytes: 0,
    heapUsedBytes: 0,
    arrayBuffersBytes: 0,
    externalBytes: 0,
  }));
  for (const i of interleaveOrder(reps)) {
    if (failed.has(i)) {
      progress?.tick(taskLabel(tasks[i].key));
      continue;
    }
    try {
      if (policy.settle) settled[i].push(await waitForIdle(policy.settle));
      await sampler?.reset();
      const before = process.memoryUsage.rss();
      const t = await timeRun(tasks[i].runner);
      samples[i].push(t.ms);
      cpu[i].push(t.cpuMs);
      if (sampler) {
        const peak = await sampler.read();
        peaks[i] = Math.max(peaks[i], peak);
        runDelta[i] = Math.max(runDelta[i], peak - before);
      }
      const s = snapshot();
      const m = mem[i];
      m.rssBytes = Math.max(m.rssBytes, s.rssBytes);
      m.heapUsedBytes = Math.max(m.heapUsedBytes, s.heapUsedBytes);
      m.arrayBuffersBytes = Math.max(m.arrayBuffersBytes, s.arrayBuffersBytes);
      m.externalBytes = Math.max(m.externalBytes, s.externalBytes);
    } catch (e) {
      failed.set(i, (e as Error).message.split('\n')[0]);
    }
    progress?.tick(taskLabel(tasks[i].key));
  }
  const rows: Row[] = [];
  const failures: TaskFailure[] = [];
  tasks.forEach((t, i) => {
    const err = failed.get(i);
    if (err !== undefined || samples[i].length === 0) {
      failures.push({ key: t.key, error: err ?? 'no timed run' });
      return;
    }
    const stats = summarize(samples[i]);
    rows.push({
      id: rowId(t.key),
      ...t.key,
      group,
      warmupMs: warm[i],
      samplesMs: samples[i],
      cpuSamplesMs: cpu[i],
      cpuMedianMs: median(cpu[i]),
      ...(policy.settle ? { settleMs: settled[i] } : {}),
      ...stats,
      flops: t.flops,
      gflopsPerSecond: t.flops / (stats.medianMs * 1e6),
      memory: {
        rssPeakBytes: sampler ? Math.max(peaks[i], mem[i].rssBytes) : null,
        ...mem[i],
        planPeakBytes: t.runner.planPeakBytes,
        prepareRssBytes: t.prepareRssBytes,
        runRssBytes: sampler ? runDelta[i] : null,
      },
    });
  });
  return { rows, failures };
}
