// The page script of the backend's Chromium test (bundled by esbuild): `window.wfCpu()` runs a small MLP
// graph (linear + GELU, residual add, layer norm, softmax) on the fast backend with two threads asked for
// and on the plain reference kernels, and reports what runs (`runtime()`), whether the page is cross-origin
// isolated, and the outputs. The test serves it on an isolated and on an ordinary page.
import { compile, F, type Graph, seededRandom, type TensorData, trace } from '@wf/core';
import { createCpuBackend } from '../index.js';

/** What `wfCpu` resolves to. */
export interface CpuPageReport {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  runtime: { engine: string; threads: number; reason?: string; summary: string; sharedMemory: boolean };
  /** Products split over worker threads during the runs (0 on one thread). */
  poolJobs: number;
  /** Largest |fast - plain| over the outputs, and the largest |plain|. */
  maxAbsErr: number;
  maxAbs: number;
  /** The fast outputs of the second run equal the first bit for bit. */
  repeatable: boolean;
  /** First values of `y`, to compare the two pages. */
  head: number[];
}

const [B, M, K, N] = [2, 24, 384, 320];

function tensor(shape: number[], rand: () => number): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, () => rand() * 2 - 1) };
}

function graph(): { g: Graph; x: TensorData } {
  const rand = seededRandom(15);
  const w1 = tensor([N, K], rand);
  const b1 = tensor([N], rand);
  const w2 = tensor([K, N], rand);
  const ln = tensor([K], rand);
  const g = trace((t) => {
    const x = t.input('x', [B, M, K]);
    const h = F.linear(x, t.constant(w1), t.constant(b1), 'gelu');
    const y = F.add(x, F.linear(h, t.constant(w2), undefined));
    return { y: F.layerNorm(y, t.constant(ln), t.constant(ln)), s: F.softmax(F.transpose(h)) };
  });
  return { g, x: tensor([B, M, K], rand) };
}

async function wfCpu(): Promise<CpuPageReport> {
  const { g, x } = graph();
  // A 64 KiB first heap: on the ordinary page the plain memory grows (detaching views) inside kernels.
  const fast = createCpuBackend({ threads: 2, initialHeapBytes: 1 << 16 });
  const plain = createCpuBackend({ kernels: 'plain' });
  const [cf, cp] = [await compile(g, fast), await compile(g, plain)];
  const a = await cf.run({ x });
  const a2 = await cf.run({ x });
  const ref = await cp.run({ x });
  let maxAbsErr = 0;
  let maxAbs = 0;
  let repeatable = true;
  for (const k of Object.keys(ref)) {
    for (let i = 0; i < ref[k].data.length; i++) {
      const d = Math.abs(a[k].data[i] - ref[k].data[i]);
      maxAbsErr = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxAbsErr, d);
      maxAbs = Math.max(maxAbs, Math.abs(ref[k].data[i]));
      if (!Object.is(a[k].data[i], a2[k].data[i])) repeatable = false;
    }
  }
  const rt = fast.runtime();
  const stats = (fast.engine as unknown as { poolStats?: { jobs: number } }).poolStats;
  const report: CpuPageReport = {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    runtime: {
      engine: rt.engine,
      threads: rt.threads,
      reason: rt.reason,
      summary: rt.summary,
      sharedMemory: rt.sharedMemory,
    },
    poolJobs: stats?.jobs ?? 0,
    maxAbsErr,
    maxAbs,
    repeatable,
    head: Array.from(a.y.data.slice(0, 16)),
  };
  cf.dispose();
  cp.dispose();
  fast.dispose();
  plain.dispose();
  return report;
}

(globalThis as unknown as { wfCpu: typeof wfCpu }).wfCpu = wfCpu;
