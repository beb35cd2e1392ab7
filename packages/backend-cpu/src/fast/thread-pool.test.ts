// Tests of GemmThreadPool: results identical to the single-threaded gemm (bit for bit: each row is computed
// by the same code on some thread), errors from workers, idempotent dispose, and that Node exits with
// a disposed or a forgotten pool, in a child process running the tsup bundle of the pool.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createGemm, GemmFlags } from './gemm-module.js';
import { WasmHeap } from './heap.js';
import { fillRandom, randomInt, seededRandom } from './test-helpers.js';
import { GemmThreadPool, RING_SIZE } from './thread-pool.js';

describe('GemmThreadPool', () => {
  const heap = new WasmHeap({ initialBytes: 32 << 20 });
  const pools: GemmThreadPool[] = [];
  afterAll(() => {
    for (const p of pools) p.dispose();
  });
  /** A pool of `threads` (disposed after the suite), a one-thread gemm to compare with, and a seeded stream. */
  const setup = async (threads: number, seed: number) => {
    const pool = await GemmThreadPool.create({ heap, threads });
    pools.push(pool);
    return { pool, single: createGemm(heap), rand: seededRandom(seed) };
  };

  it('parks idle workers: no CPU time used between runs', async () => {
    // Spinning workers would use ~300 ms of CPU each in the idle window below; parked ones use none.
    const pool = await GemmThreadPool.create({ heap, threads: 3, minParallelWork: 0 });
    pools.push(pool);
    const [M, N, K] = [192, 256, 256];
    const a = heap.alloc(4 * M * K);
    const packed = heap.alloc(pool.packedBSize(K, N));
    const c = heap.alloc(4 * M * N);
    const args = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: N };
    for (let i = 0; i < 20; i++) pool.gemm(args);
    expect(pool.stats.workerJoins).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 20));
    const before = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 300));
    const used = process.cpuUsage(before);
    const idleMs = performance.now() - t0;
    const cpuMs = (used.user + used.system) / 1000;
    expect(cpuMs, `${cpuMs.toFixed(1)} ms of CPU in ${idleMs.toFixed(0)} ms idle`).toBeLessThan(0.1 * idleMs);
  });

  it.each([2, 3])(
    'packs B on all threads into the bytes one pack_b gives (threads = %i)',
    async (threads) => {
      const { pool, single, rand } = await setup(threads, 10 + threads);
      // [K, N, strideK, strideN]: row-major, a transposed view (a Linear weight), N not a multiple of NR, a
      // B below the parallel threshold
      const cases: [number, number, boolean][] = [
        [196, 768, false],
        [768, 192, true],
        [300, 203, false],
        [97, 131, true],
        [8, 9, false],
      ];
      for (const [K, N, trans] of cases) {
        const b = heap.alloc(4 * K * N);
        fillRandom(heap.f32(b, K * N), rand);
        const size = pool.packedBSize(K, N);
        const [p1, p2] = [heap.alloc(size), heap.alloc(size)];
        heap.f32(p1, size / 4).fill(Number.NaN);
        heap.f32(p2, size / 4).fill(Number.NaN);
        const [sk, sn] = trans ? [1, K] : [N, 1];
        single.packB(K, N, b, sk, sn, p1);
        const jobs = pool.stats.jobs;
        pool.packB(K, N, b, sk, sn, p2);
        expect(heap.f32(p2, size / 4), `K ${K} N ${N}${trans ? ' transposed' : ''}`).toEqual(
          heap.f32(p1, size / 4),
        );
        // on all threads from 2^15 floats of B, on the calling one below
        expect(pool.stats.jobs).toBe(jobs + (K * N >= 1 << 15 ? 1 : 0));
        for (const ptr of [b, p1, p2]) heap.free(ptr);
      }
      single.dispose();
    },
  );

  it.each([1, 2, 3])(
    'gives results identical to the single-threaded gemm (threads = %i)',
    async (threads) => {
      const pool = await GemmThreadPool.create({ heap, threads, minParallelWork: 0 });
      pools.push(pool);
      expect(pool.threads).toBe(threads);
      const single = createGemm(heap);
      const rand = seededRandom(threads);
      const shapes = [
        [196, 768, 192],
        [197, 192, 768],
        [1, 5, 3],
        [2, 17, 9],
        [13, 1, 1],
        ...Array.from({ length: 20 }, () => [
          randomInt(rand, 1, 90),
          randomInt(rand, 1, 40),
          randomInt(rand, 1, 300),
        ]),
      ];
      for (const [M, N, K] of shapes) {
        const a = heap.alloc(4 * M * K);
        const b = heap.alloc(4 * K * N);
        const bias = heap.alloc(4 * N);
        const c1 = heap.alloc(4 * M * N);
        const c2 = heap.alloc(4 * M * N);
        const packed = heap.alloc(pool.packedBSize(K, N));
        fillRandom(heap.f32(a, M * K), rand);
        fillRandom(heap.f32(b, K * N), rand);
        fillRandom(heap.f32(bias, N), rand);
        fillRandom(heap.f32(c1, M * N), rand);
        heap.f32(c2, M * N).set(heap.f32(c1, M * N));
        pool.packB(K, N, b, 1, K, packed);
        const flags = randomInt(rand, 0, 3);
        const args = {
          M,
          N,
          K,
          aPtr: a,
          strideAM: K,
          strideAK: 1,
          packedBPtr: packed,
          ldc: N,
          biasPtr: bias,
          flags,
        };
        pool.gemm({ ...args, cPtr: c1 });
        single.gemm({ ...args, cPtr: c2 });
        const [x, y] = [heap.f32(c1, M * N), heap.f32(c2, M * N)];
        expect(
          x.every((v, i) => Object.is(v, y[i])),
          `${M}x${N}x${K}`,
        ).toBe(true);
        for (const p of [a, b, bias, c1, c2, packed]) heap.free(p);
      }
      single.dispose();
    },
  );

  it.each([2, 3])(
    'splits the exact GELU and its gradient over threads, bit for bit as on one thread (threads = %i)',
    async (threads) => {
      const { pool, single, rand } = await setup(threads, 10 + threads);
      const before = pool.stats.jobs;
      // sizes above and below the span threshold, with 1-3 float tails
      for (const n of [150_528, 65_537, 40_003, 4_099, 3]) {
        const [x, g, o1, o2, y1, y2, y3] = Array.from({ length: 7 }, () => heap.alloc(4 * n));
        fillRandom(heap.f32(x, n), rand);
        heap.f32(x, n).forEach((v, i, d) => {
          d[i] = 8 * v; // the erf pieces and the clamp
        });
        fillRandom(heap.f32(g, n), rand);
        pool.geluGrad(x, g, o1, n);
        single.instance.gelu_grad_f32(x, g, o2, n);
        heap.f32(y2, n).set(heap.f32(x, n));
        heap.f32(y3, n).set(heap.f32(x, n));
        pool.gelu(x, y1, n); // copied span by span, then in place
        pool.gelu(y3, y3, n); // in place
        single.instance.gelu_f32(y2, n);
        const same = (p: number, q: number) =>
          heap.f32(p, n).every((v, i) => Object.is(v, heap.f32(q, n)[i]));
        expect(same(o1, o2), `gelu_grad n ${n}`).toBe(true);
        expect(same(y1, y2), `gelu n ${n}`).toBe(true);
        expect(same(y3, y2), `gelu in place n ${n}`).toBe(true);
        for (const p of [x, g, o1, o2, y1, y2, y3]) heap.free(p);
      }
      expect(pool.stats.jobs - before, 'the three large sizes, three jobs each').toBe(9);
      single.dispose();
    },
  );

  it.each([1, 2, 3])(
    'runs background products (submit, drain) bit for bit as the single-threaded gemm (threads = %i)',
    async (threads) => {
      const { pool, single, rand } = await setup(threads, 40 + threads);
      // more jobs than the ring holds (submit drains the oldest), B row-major and transposed (a weight
      // gradient's x^T g reads x transposed), one large enough to be still running while we go on
      const shapes = [
        [192, 768, 196],
        ...Array.from({ length: RING_SIZE + 5 }, () => [
          randomInt(rand, 1, 90),
          randomInt(rand, 1, 60),
          randomInt(rand, 1, 200),
        ]),
      ];
      const jobs = shapes.map(([M, N, K], j) => {
        const [a, b, c1, c2] = [4 * M * K, 4 * K * N, 4 * M * N, 4 * M * N].map((n) => heap.alloc(n));
        const [p1, p2] = [0, 1].map(() => heap.alloc(pool.packedBSize(K, N)));
        fillRandom(heap.f32(a, M * K), rand);
        fillRandom(heap.f32(b, K * N), rand);
        heap.f32(c1, M * N).fill(Number.NaN);
        const [sk, sn] = j % 2 ? [1, K] : [N, 1];
        const args = { M, N, K, aPtr: a, strideAM: 1, strideAK: M, ldc: N };
        const id = pool.submit({ ...args, packedBPtr: p1, cPtr: c1 }, b, sk, sn);
        expect(id).toBe(pool.stats.background - 1);
        expect(pool.outstanding).toBeLessThanOrEqual(threads === 1 ? 0 : RING_SIZE);
        single.packB(K, N, b, sk, sn, p2);
        single.gemm({ ...args, packedBPtr: p2, cPtr: c2 });
        return { M, N, K, id, ptrs: [a, b, c1, c2, p1, p2] };
      });
      // drain(keep) retires all but the newest `keep`, oldest first
      pool.drain(3);
      expect(pool.outstanding).toBe(threads === 1 ? 0 : 3);
      expect(pool.retired).toBe(jobs.length - pool.outstanding);
      pool.drain();
      expect(pool.outstanding).toBe(0);
      for (const { M, N, K, ptrs } of jobs) {
        const [x, y] = [heap.f32(ptrs[2], M * N), heap.f32(ptrs[3], M * N)];
        expect(
          x.every((v, i) => Object.is(v, y[i])),
          `${M}x${N}x${K}`,
        ).toBe(true);
        for (const p of ptrs) heap.free(p);
      }
      single.dispose();
    },
  );

  it('reports a failed background product at drain, retires it, and stays usable', async () => {
    const pool = await GemmThreadPool.create({ heap, threads: 2 });
    pools.push(pool);
    const [M, N, K] = [64, 8, 8];
    const [a, b, c] = [4 * M * K, 4 * K * N, 4 * M * N].map((n) => heap.alloc(n));
    const packed = heap.alloc(pool.packedBSize(K, N));
    heap.f32(a, M * K).fill(1);
    heap.f32(b, K * N).fill(2);
    const args = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: N };
    // C's rows past the end of memory: the job traps on whichever thread runs it
    pool.submit({ ...args, ldc: 1 << 24 }, b, N, 1);
    expect(() => pool.drain()).toThrow(/background product failed/);
    expect(pool.outstanding).toBe(0);
    pool.submit(args, b, N, 1);
    pool.drain();
    expect([...heap.f32(c, M * N)].every((v) => v === 16)).toBe(true);
    expect(() => pool.submit({ ...args, flags: GemmFlags.gelu }, b, N, 1)).toThrow(/no bias and no flags/);
    for (const p of [a, b, c, packed]) heap.free(p);
  });

  it('lets a worker run background products while the caller goes on', async () => {
    const pool = await GemmThreadPool.create({ heap, threads: 2 });
    pools.push(pool);
    const [M, N, K] = [256, 256, 256];
    const [a, b] = [4 * M * K, 4 * K * N].map((n) => heap.alloc(n));
    const outs = Array.from({ length: 8 }, () => [heap.alloc(4 * M * N), heap.alloc(pool.packedBSize(K, N))]);
    // The caller goes on with its own work until the worker has written the first job's first row (it takes
    // the oldest first; on a busy machine it may take a while to wake), for up to a second per round.
    const first = heap.f32(outs[0][0], M * N);
    for (let round = 0; round < 5 && pool.stats.background - pool.stats.backgroundHere === 0; round++) {
      first.fill(Number.NaN);
      for (const [c, p] of outs)
        pool.submit({ M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: p, cPtr: c, ldc: N }, b, N, 1);
      const t0 = performance.now();
      while (Number.isNaN(first[0]) && performance.now() - t0 < 1000);
      pool.drain();
    }
    expect(pool.stats.background - pool.stats.backgroundHere).toBeGreaterThan(0);
    for (const p of [a, b, ...outs.flat()]) heap.free(p);
  });

  it('has the caller compute rows of a background product a worker has started, when it drains', async () => {
    const pool = await GemmThreadPool.create({ heap, threads: 2 });
    pools.push(pool);
    const single = createGemm(heap);
    const rand = seededRandom(77);
    // about 10 ms on one thread: the worker cannot finish it between starting and our drain
    const [M, N, K] = [2048, 256, 256];
    const [a, b, c1, c2] = [4 * M * K, 4 * K * N, 4 * M * N, 4 * M * N].map((n) => heap.alloc(n));
    const [p1, p2] = [0, 1].map(() => heap.alloc(pool.packedBSize(K, N)));
    fillRandom(heap.f32(a, M * K), rand);
    fillRandom(heap.f32(b, K * N), rand);
    const args = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, ldc: N };
    single.packB(K, N, b, N, 1, p2);
    single.gemm({ ...args, packedBPtr: p2, cPtr: c2 });
    const c = heap.f32(c1, M * N);
    // The worker must take the job first: wait until it has written C's first row (it starts at row 0), on a
    // busy machine for up to a second per round, and allow a few rounds.
    let shared = false;
    for (let round = 0; round < 10 && !shared; round++) {
      c.fill(Number.NaN);
      const before = pool.stats;
      pool.submit({ ...args, packedBPtr: p1, cPtr: c1 }, b, N, 1);
      const t0 = performance.now();
      while (Number.isNaN(c[0]) && performance.now() - t0 < 1000);
      pool.drain();
      const after = pool.stats;
      shared =
        after.backgroundHere === before.backgroundHere &&
        after.backgroundRowsHere > before.backgroundRowsHere;
      const y = heap.f32(c2, M * N);
      expect(c.every((v, i) => Object.is(v, y[i]))).toBe(true);
    }
    expect(shared, 'a job claimed by the worker, rows computed by the caller').toBe(true);
    single.dispose();
    for (const p of [a, b, c1, c2, p1, p2]) heap.free(p);
  });

  it('splits even small products when asked, and runs tiny ones on the calling thread by default', async () => {
    const pool = await GemmThreadPool.create({ heap, threads: 2 });
    pools.push(pool);
    const [M, N, K] = [8, 8, 8];
    const a = heap.alloc(4 * M * K);
    const packed = heap.alloc(pool.packedBSize(K, N));
    const c = heap.alloc(4 * M * N);
    heap.f32(a, M * K).fill(1);
    heap.f32(packed, pool.packedBSize(K, N) / 4).fill(2);
    pool.gemm({ M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: N, flags: 0 });
    expect([...heap.f32(c, M * N)].every((v) => v === 16)).toBe(true);
    pool.gemm({
      M,
      N,
      K,
      aPtr: a,
      strideAM: K,
      strideAK: 1,
      packedBPtr: packed,
      cPtr: c,
      ldc: N,
      flags: GemmFlags.accumulate,
    });
    expect([...heap.f32(c, M * N)].every((v) => v === 32)).toBe(true);
  });

  it('puts the workers to work on large products', async () => {
    const pool = await GemmThreadPool.create({ heap, threads: 2 });
    pools.push(pool);
    const [M, N, K] = [256, 512, 512];
    const a = heap.alloc(4 * M * K);
    const packed = heap.alloc(pool.packedBSize(K, N));
    const c = heap.alloc(4 * M * N);
    const args = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: N };
    // Joining depends on scheduling (a busy machine may leave all rows to the caller): allow a few tries.
    for (let i = 0; i < 50 && pool.stats.workerJoins === 0; i++) pool.gemm(args);
    expect(pool.stats.workerJoins).toBeGreaterThan(0);
    for (const p of [a, packed, c]) heap.free(p);
  });

  it('reports a failure (a trap on any thread) as an exception, and stays usable', async () => {
    const pool = await GemmThreadPool.create({ heap, threads: 2, minParallelWork: 0 });
    pools.push(pool);
    const [M, N, K] = [64, 8, 8];
    const a = heap.alloc(4 * M * K);
    const packed = heap.alloc(pool.packedBSize(K, N));
    const c = heap.alloc(4 * M * N);
    // Rows of the worker's half of C lie past the end of memory: its stores trap.
    const bad = { M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: 1 << 24 };
    expect(() => pool.gemm(bad)).toThrow();
    // Still usable: the same product with a valid ldc equals the single-threaded gemm, bit for bit, and
    // a second failure is reported again.
    const single = createGemm(heap);
    const rand = seededRandom(121);
    const b = heap.alloc(4 * K * N);
    const c2 = heap.alloc(4 * M * N);
    fillRandom(heap.f32(a, M * K), rand);
    fillRandom(heap.f32(b, K * N), rand);
    pool.packB(K, N, b, 1, K, packed);
    const good = { ...bad, ldc: N, flags: 0 };
    for (let round = 0; round < 2; round++) {
      heap.f32(c, M * N).fill(Number.NaN);
      pool.gemm(good);
      single.gemm({ ...good, cPtr: c2 });
      const [x, y] = [heap.f32(c, M * N), heap.f32(c2, M * N)];
      expect(x.every((v, i) => Object.is(v, y[i]))).toBe(true);
      expect(x.some((v) => v !== 0)).toBe(true);
      if (round === 0) expect(() => pool.gemm(bad)).toThrow();
    }
    single.dispose();
    for (const p of [a, b, packed, c, c2]) heap.free(p);
  });

  it('dispose is idempotent and frees the scratch areas; use after dispose throws', async () => {
    const before = heap.usedBytes;
    const pool = await GemmThreadPool.create({ heap, threads: 3 });
    expect(heap.usedBytes).toBeGreaterThan(before);
    pool.dispose();
    pool.dispose();
    expect(heap.usedBytes).toBe(before);
    expect(() =>
      pool.gemm({ M: 1, N: 1, K: 1, aPtr: 64, strideAM: 1, strideAK: 1, packedBPtr: 64, cPtr: 64, ldc: 1 }),
    ).toThrow(/after dispose/);
  });

  it('lets Node exit, with the pool disposed or forgotten (tsup bundle, child process)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-pool-'));
    try {
      const entry = join(dir, 'main.ts');
      const poolModule = fileURLToPath(new URL('./thread-pool.ts', import.meta.url));
      const heapModule = fileURLToPath(new URL('./heap.ts', import.meta.url));
      writeFileSync(
        entry,
        `import { GemmThreadPool } from ${JSON.stringify(poolModule)};
import { WasmHeap } from ${JSON.stringify(heapModule)};
const heap = new WasmHeap({ initialBytes: 1 << 20 });
const pool = await GemmThreadPool.create({ heap, threads: 2, minParallelWork: 0 });
const [M, N, K] = [32, 16, 8];
const a = heap.alloc(4 * M * K), packed = heap.alloc(pool.packedBSize(K, N)), c = heap.alloc(4 * M * N);
heap.f32(a, M * K).fill(1);
heap.f32(packed, pool.packedBSize(K, N) / 4).fill(1);
pool.gemm({ M, N, K, aPtr: a, strideAM: K, strideAK: 1, packedBPtr: packed, cPtr: c, ldc: N });
if (process.argv[2] === 'dispose') pool.dispose();
console.log('sum', heap.f32(c, M * N).reduce((s, v) => s + v, 0));
`,
      );
      const { build } = await import('tsup');
      await build({
        entry: { main: entry },
        outDir: dir,
        format: ['esm'],
        platform: 'node',
        config: false,
        silent: true,
      });
      for (const mode of ['dispose', 'forget']) {
        const r = spawnSync(process.execPath, [join(dir, 'main.js'), mode], {
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(r.error, `${mode}: ${r.stderr}`).toBeUndefined();
        expect(r.status, `${mode}: ${r.stderr}`).toBe(0);
        expect(r.stdout.trim()).toBe(`sum ${M_N_K_SUM}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Sum of C = ones(32, 8) ones(8, 16): 32 * 16 * 8. */
const M_N_K_SUM = 32 * 16 * 8;
