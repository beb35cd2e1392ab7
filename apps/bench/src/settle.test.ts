// Tests of waitForIdle: on a scripted clock (busy slices, then idle; never idle), and on the real process
// with a worker thread that spins for a while.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTLE, type SettleClock, waitForIdle } from './settle.js';

/** A clock whose process uses `busy[k]` cores during the k-th sleep (the last value repeats). */
function scripted(busy: number[]): SettleClock & { sleeps: number } {
  let t = 0;
  let cpu = 0;
  const clock = {
    sleeps: 0,
    now: () => t,
    cpuMs: () => cpu,
    sleep: async (ms: number) => {
      cpu += ms * busy[Math.min(clock.sleeps, busy.length - 1)];
      t += ms;
      clock.sleeps++;
    },
  };
  return clock;
}

describe('waitForIdle', () => {
  it('waits through busy slices and returns at the first idle one', async () => {
    const clock = scripted([1.8, 1, 0.9, 0.1]);
    const waited = await waitForIdle({ sliceMs: 2, idleCores: 0.25, maxMs: 100 }, clock);
    expect(clock.sleeps).toBe(4);
    expect(waited).toBe(8);
  });

  it('returns after one slice when the process is already idle', async () => {
    const clock = scripted([0]);
    expect(await waitForIdle(DEFAULT_SETTLE, clock)).toBe(DEFAULT_SETTLE.sliceMs);
    expect(clock.sleeps).toBe(1);
  });

  it('gives up after maxMs when the process never goes idle', async () => {
    const clock = scripted([1]);
    const waited = await waitForIdle({ sliceMs: 2, idleCores: 0.25, maxMs: 20 }, clock);
    expect(waited).toBe(20);
    expect(clock.sleeps).toBe(10);
  });

  it('waits for a worker thread that keeps a core busy after its work returned', async () => {
    // The worker spins for 80 ms after start-up, then sleeps: waitForIdle must wait through (most of) the spin.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage('up');
       const end = Date.now() + 80; while (Date.now() < end);
       setTimeout(() => {}, 10000);`,
      { eval: true },
    );
    try {
      await new Promise((resolve) => worker.once('message', resolve));
      const t0 = performance.now();
      const waited = await waitForIdle({ ...DEFAULT_SETTLE, maxMs: 2000 });
      expect(waited).toBeGreaterThanOrEqual(20);
      expect(waited).toBeLessThan(2000);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(20);
    } finally {
      await worker.terminate();
    }
  });
});
