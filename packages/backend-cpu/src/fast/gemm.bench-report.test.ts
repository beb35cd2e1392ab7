// Benchmark report of the fast gemm (prints GFLOP/s; asserts nothing about timing). Shapes: the 192x768 .
// 768x196 product of the issue, and WeightFormer-T's MLP products at 224 px (196 tokens), batch 8 and 896 px.
// Runs the mul + add kernels first, then enables relaxed SIMD (Node 20: a V8 flag) and repeats, on 1 and 2
// threads. Run alone for stable numbers:
//   cd packages/backend-cpu && npx vitest run src/fast/gemm.bench-report.test.ts
// (WF_BENCH_SECONDS=2 to measure longer; the default keeps the test suite quick.)
import { describe, expect, it } from 'vitest';
import { createGemm, type GemmArgs, GemmFlags } from './gemm-module.js';
import { WasmHeap } from './heap.js';
import { fillRandom, seededRandom } from './test-helpers.js';
import { GemmThreadPool } from './thread-pool.js';
import { tryEnableRelaxedSimd } from './wasm-emitter.js';

/** [label, M, N, K, flags] */
const SHAPES: [string, number, number, number, number][] = [
  ['issue 192x768 . 768x196', 192, 196, 768, 0],
  ['WFM-T fc1 196x192 . 192x768 +GELU', 196, 768, 192, GemmFlags.gelu],
  ['WFM-T fc2 196x768 . 768x192', 196, 192, 768, 0],
  ['batch 8 fc1 1568x192 . 192x768', 1568, 768, 192, GemmFlags.gelu],
  ['896 px fc2 3136x768 . 768x192', 3136, 192, 768, 0],
];

const SECONDS = Number(process.env.WF_BENCH_SECONDS ?? 0.1);

/** Best time in ms of `fn` over about SECONDS of repetitions (after a warm-up). */
function bestMs(fn: () => void): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  const end = performance.now() + SECONDS * 1000;
  let runs = 0;
  while (runs < 3 || performance.now() < end) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
    runs++;
  }
  return best;
}

/** A plain JavaScript i-k-j triple loop over Float32Arrays (the "scalar JS" baseline). */
function jsGemm(a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number): void {
  c.fill(0);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      const av = a[m * K + k];
      for (let n = 0; n < N; n++) c[m * N + n] += av * b[k * N + n];
    }
}

async function report(heap: WasmHeap, label: string): Promise<string[]> {
  const lines: string[] = [];
  const single = createGemm(heap);
  const pool = await GemmThreadPool.create({ heap, threads: 2 });
  const rand = seededRandom(1);
  for (const [name, M, N, K, flags] of SHAPES) {
    const a = heap.alloc(4 * M * K);
    const w = heap.alloc(4 * K * N);
    const bias = heap.alloc(4 * N);
    const packed = heap.alloc(single.packedBSize(K, N));
    const c = heap.alloc(4 * M * N);
    fillRandom(heap.f32(a, M * K), rand);
    fillRandom(heap.f32(w, K * N), rand);
    single.packB(K, N, w, 1, K, packed); // a Linear weight [N, K]
    const args: GemmArgs = {
      M,
      N,
      K,
      aPtr: a,
      strideAM: K,
      strideAK: 1,
      packedBPtr: packed,
      cPtr: c,
      ldc: N,
      biasPtr: bias,
      flags,
    };
    const flop = 2 * M * N * K;
    const t1 = bestMs(() => single.gemm(args));
    const t2 = bestMs(() => pool.gemm(args));
    const tp = bestMs(() => single.packB(K, N, w, 1, K, packed));
    const joins = pool.stats;
    lines.push(
      `${label.padEnd(9)} ${name.padEnd(36)} 1 thread ${(flop / t1 / 1e6).toFixed(1).padStart(5)} GFLOP/s ` +
        `(${t1.toFixed(3)} ms)   2 threads ${(flop / t2 / 1e6).toFixed(1).padStart(5)} GFLOP/s (${t2.toFixed(3)} ms)` +
        `   packB ${tp.toFixed(3)} ms   worker joins ${joins.workerJoins}/${joins.jobs}`,
    );
    for (const p of [a, w, bias, packed, c]) heap.free(p);
  }
  pool.dispose();
  single.dispose();
  return lines;
}

describe('gemm benchmark report', () => {
  it('prints GFLOP/s for 1 and 2 threads, without and with relaxed SIMD', async () => {
    const heap = new WasmHeap({ initialBytes: 64 << 20 });
    const lines: string[] = [];
    // Baseline: plain JavaScript on the shape.
    const [M, N, K] = [192, 196, 768];
    const rand = seededRandom(2);
    const a = fillRandom(new Float32Array(M * K), rand);
    const b = fillRandom(new Float32Array(K * N), rand);
    const c = new Float32Array(M * N);
    const tj = bestMs(() => jsGemm(a, b, c, M, N, K));
    lines.push(
      `plain JS  issue 192x768 . 768x196 (i-k-j loop)         ${((2 * M * N * K) / tj / 1e6).toFixed(1)} GFLOP/s`,
    );
    const relaxedBefore = createGemm(heap).relaxed;
    lines.push(...(await report(heap, relaxedBefore ? 'relaxed' : 'mul+add')));
    if (!relaxedBefore && tryEnableRelaxedSimd()) lines.push(...(await report(heap, 'relaxed')));
    console.log(`\n${lines.join('\n')}\n`);
    expect(lines.length).toBeGreaterThan(SHAPES.length);
  }, 120_000);
});
