// The page script of the browser test (bundled by esbuild, run in Chromium): `window.wfRun(mode)` creates
// the gpu.js backend in `mode`, runs the @wf/core conformance suite without vitest and the wfm-micro model
// parity (fixture bytes fetched from the test's server), and resolves to a JSON report including which
// adapter or renderer ran.
import { parseSafetensors } from '@wf/core';
import { runConformance } from '@wf/core/testing/runner';
import { loadModel } from '@wf/models';
import { parityError } from '@wf/test-fixtures/parity-error';
import { createGpujsBackend } from '../create.js';
import type { ConcreteMode } from '../modes.js';

/** One fixture comparison: the worst error of a stored tensor against its bound. */
interface ParityRow {
  run: string;
  tensor: string;
  err: number;
  bound: number;
}

/** What `wfRun` resolves to. */
export interface BrowserReport {
  mode: string;
  backend: string;
  device: Record<string, string>;
  skippedModes: { mode: string; reason: string }[];
  crossOriginIsolated: boolean;
  conformance: {
    total: number;
    passed: number;
    /** Cases the runner skipped, with the reason (a browser may skip none: see browser.test.ts). */
    skipped: { label: string; reason: string }[];
    failed: { label: string; message: string }[];
    ms: number;
  };
  parity: ParityRow[];
  parityFailures: string[];
  fallbacks: { op: string; from: string; to: string; reason: string }[];
}

async function bytes(path: string): Promise<Uint8Array> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`fetch ${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function wfRun(mode: ConcreteMode): Promise<BrowserReport> {
  const backend = await createGpujsBackend({ mode });
  try {
    const weights = await bytes('/fixtures/wfm-micro.safetensors');
    const runs = {
      'wfm-micro-64': await bytes('/fixtures/wfm-micro-64.io.safetensors'),
      'wfm-micro-80': await bytes('/fixtures/wfm-micro-80.io.safetensors'),
    };
    const report = await runConformance(backend, { fixtures: { weights, runs } });
    const parity: ParityRow[] = [];
    const parityFailures: string[] = [];
    const model = await loadModel(weights);
    for (const [run, io] of Object.entries(runs)) {
      const fx = parseSafetensors(io);
      const out = await model.run(backend, { input: fx.tensor('input') }, { hidden: true });
      for (const name of fx.names()) {
        if (name === 'input' || name.startsWith('dyn')) continue;
        const got = out[name];
        if (!got) {
          parityFailures.push(`${run} ${name}: missing`);
          continue;
        }
        const { err, bound } = parityError(got, fx.tensor(name), { floor: 1 });
        parity.push({ run, tensor: name, err, bound });
        if (!(err <= bound)) parityFailures.push(`${run} ${name}: max error ${err} > bound ${bound}`);
      }
    }
    await model.dispose();
    return {
      mode,
      backend: backend.name,
      device: { ...backend.info.device },
      skippedModes: [...backend.info.skipped],
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      conformance: {
        total: report.total,
        passed: report.passed,
        skipped: [...report.skipped],
        failed: [...report.failed],
        ms: report.ms,
      },
      parity,
      parityFailures,
      fallbacks: [...backend.fallbacks],
    };
  } finally {
    backend.dispose();
  }
}

(globalThis as unknown as { wfRun: typeof wfRun }).wfRun = wfRun;
