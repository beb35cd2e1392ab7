// Memory measurement: snapshots of `process.memoryUsage()`, a forced GC where possible, and a peak-RSS
// sampler on a worker thread (it keeps sampling while the main thread is busy inside a synchronous kernel).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

/** A snapshot of the process's memory. */
export interface MemorySnapshot {
  rssBytes: number;
  heapUsedBytes: number;
  arrayBuffersBytes: number;
  externalBytes: number;
}

/** Current memory of the process. */
export function snapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    arrayBuffersBytes: m.arrayBuffers,
    externalBytes: m.external,
  };
}

let gcFn: (() => void) | null | undefined;

/**
 * A function that forces a full GC: `globalThis.gc` under `--expose-gc`, else one obtained by setting the
 * V8 flag at run time; null if neither works.
 */
export function getGc(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') {
    gcFn = g;
    return gcFn;
  }
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    gcFn = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
let peak = 0;
const tick = () => { const r = process.memoryUsage.rss(); if (r > peak) peak = r; };
setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  tick();
  parentPort.postMessage({ id: m.id, peak });
  if (m.type === 'reset') peak = process.memoryUsage.rss();
});
`;

/** Samples the process RSS every few milliseconds on a worker thread and reports the peak. */
export class RssSampler {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, (peak: number) => void>();

  constructor(intervalMs = 5) {
    this.worker = new Worker(SAMPLER, { eval: true, workerData: { intervalMs } });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; peak: number }) => {
      this.pending.get(m.id)?.(m.peak);
      this.pending.delete(m.id);
    });
  }

  private ask(type: 'reset' | 'read'): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, type });
    });
  }

  /** Starts a new measurement window (the peak restarts from the current RSS). */
  async reset(): Promise<void> {
    await this.ask('reset');
  }

  /** Peak RSS since the last reset. */
  read(): Promise<number> {
    return this.ask('read');
  }

  /** Stops the sampler. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Least-squares slope of `ys` against their index (units of y per step); 0 with fewer than two values. */
export function growthPerStep(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (i - mx) ** 2;
    sxy += (i - mx) * (ys[i] - my);
  }
  return sxy / sxx;
}
