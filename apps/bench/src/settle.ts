// Waits for the process to go idle before a timed run. An engine's threads can keep working after its run
// has returned: on the 2-core bench machine onnxruntime-web's workers keep about one core busy for some
// 20 ms after each run, so an engine timed right after it loses a core for half of a 40 ms run (the
// interference table shows it: our WFM-T at 38 ms alone took 51 ms interleaved with onnxruntime-web). The
// interleaved rows wait for that leftover work to end, so each run is timed from the same quiet machine
// and measures its own engine; the interference table keeps measuring the neighbours' leftover work.

/** How `waitForIdle` decides that the process is idle. */
export interface SettleOptions {
  /** Length of one measurement slice, ms. */
  sliceMs: number;
  /** The process is idle once it used at most this many cores over a slice (CPU ms / wall ms). */
  idleCores: number;
  /** Most time to wait, ms: a process that never goes idle (e.g. a sampler thread) is timed anyway. */
  maxMs: number;
}

/**
 * Defaults: 10 ms slices, idle at or below 0.3 cores, at most 200 ms. The process's CPU time advances in
 * scheduler ticks, so shorter slices read a spinning thread as anything from 0.1 to 3 cores; over 10 ms
 * onnxruntime-web's leftover work reads 0.7 to 1.3 cores and an idle bench 0.02 to 0.04 (the RSS sampler's
 * ticks included).
 */
export const DEFAULT_SETTLE: SettleOptions = { sliceMs: 10, idleCores: 0.3, maxMs: 200 };

/** What the clock and the CPU counter read (swappable in tests). */
export interface SettleClock {
  /** Wall time, ms. */
  now(): number;
  /** CPU time of the whole process (user + system, every thread), ms. */
  cpuMs(): number;
  /** Resolves after about `ms`. */
  sleep(ms: number): Promise<void>;
}

/** The real clock: `performance.now`, `process.cpuUsage` and a timer. */
export const PROCESS_CLOCK: SettleClock = {
  now: () => performance.now(),
  cpuMs: () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Sleeps in slices of `opts.sliceMs` until the process used at most `opts.idleCores` cores over one slice,
 * or `opts.maxMs` have passed; returns the time waited, ms.
 */
export async function waitForIdle(
  opts: SettleOptions = DEFAULT_SETTLE,
  clock: SettleClock = PROCESS_CLOCK,
): Promise<number> {
  const start = clock.now();
  for (;;) {
    const t0 = clock.now();
    const c0 = clock.cpuMs();
    await clock.sleep(opts.sliceMs);
    const wall = clock.now() - t0;
    const cores = wall > 0 ? (clock.cpuMs() - c0) / wall : 0;
    const waited = clock.now() - start;
    if (cores <= opts.idleCores || waited >= opts.maxMs) return waited;
  }
}
