// The progress bar of long runs (cli-progress, on stderr), or plain phase lines when stderr is not a TTY.
import cliProgress from 'cli-progress';
import type { BenchProgress } from './bench.js';

/** A progress bar counting runs (warm-ups and timed runs); the total grows as repetitions are planned. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): BenchProgress & { stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: ' bench [{bar}] {value}/{total} runs | {elapsed}s | {phase}: {task}',
      stream,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let started = false;
  let phase = '';
  const t0 = Date.now();
  const payload = (task: string) => ({ phase, task, elapsed: ((Date.now() - t0) / 1000).toFixed(0) });
  return {
    phase(label) {
      phase = label;
      if (!started) {
        bar.start(Math.max(total, 1), 0, payload(''));
        started = true;
      } else bar.update(payload(''));
    },
    plan(runs) {
      total += runs;
      if (started) bar.setTotal(Math.max(total, 1));
    },
    tick(task) {
      if (!started) {
        bar.start(Math.max(total, 1), 0, payload(task));
        started = true;
      }
      bar.increment(1, payload(task));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Phase lines only (for logs and CI without a terminal). */
export function phaseLines(write: (line: string) => void): BenchProgress & { stop(): void } {
  let last = '';
  return {
    phase(label) {
      if (label !== last) write(`bench: ${label}`);
      last = label;
    },
    plan() {},
    tick() {},
    stop() {},
  };
}
