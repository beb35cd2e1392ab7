// Runs one matrix product on several cores: the rows of C are shared between the calling thread and
// `threads - 1` workers, each running its own instance of the same generated gemm module on the same shared
// memory. The module's exact GELU and GELU gradient run the same way over spans of floats, and the packing
// of a B that changes between calls over its panels (job kinds).
// Dispatch goes through a small control block in a SharedArrayBuffer (Atomics.store / notify / wait);
// there is no message passing per call once the pool is up, and `gemm` is synchronous.
//
// One product (a "job"):
//   1. The calling thread writes the arguments, opens the job (STATE = 0) and bumps SEQ, waking the workers.
//   2. Every thread takes blocks of rows from the NEXT counter (Atomics.add) until all rows are taken. A
//      worker first joins the job: a compare-exchange on STATE adds one to its count, unless the job is
//      closed; only then does it read the arguments.
//   3. When it runs out of rows, the calling thread closes the job (sets the CLOSED bit of STATE), which
//      fixes the number of workers that joined, and waits until that many have finished (DONE).
// So the caller never waits for a worker that is asleep or descheduled (it just does more rows itself), and
// a worker that wakes late finds the job closed and goes back to sleep without touching anything. Arguments
// are rewritten only after all joined workers are done, so a joined worker always reads its job's arguments.
//
// Background products (`submit` / `drain`): a product the caller does not need yet is posted to a ring of
// RING_SIZE job descriptors (its own Int32 array in shared memory) and the caller goes on with other work.
// A descriptor holds the gemm arguments plus B's address and strides, and its own row counters. Its life:
//   1. POSTED by `submit` (which bumps SEQ like a foreground job, waking parked workers, but opens none).
//   2. CLAIMED by one thread (compare-exchange), which packs B into the job's packed area and then opens the
//      rows (NEXT from -1, "not packed", to 0).
//   3. Any thread takes blocks of rows (compare-exchange on NEXT) and adds the rows it computed to ROWS;
//      whoever completes the last rows marks the job FINISHED (FAILED if a thread trapped) and notifies.
//   4. `drain` retires it in order: NEXT back to -1, then EMPTY.
// Idle workers work on the oldest job that is posted or has rows left, and go back to a foreground job as
// soon as one is posted (checking SEQ between blocks of rows): the caller waits on those. `drain(keep)`
// finishes every job but the newest `keep`: it claims jobs still posted, takes rows of those in progress,
// works on newer ones while a worker computes the last rows of the oldest, and waits only when none is
// left. So a worker that is descheduled in the middle of a job holds up at most one block of rows. Rows do
// not depend on who computes them: background products are bit-identical to the single-threaded gemm.
// Taking rows needs no join protocol: a thread that read an old NEXT value of a descriptor since reused can
// only win its compare-exchange on a packed, open job (NEXT is -1 from retirement until the next packing),
// and reads that job's arguments after winning (the job cannot finish before its rows are done).
//
// Worker code: an inline JavaScript string, started with `new Worker(source, { eval: true })` in Node (or
// from a Blob URL in browsers), receiving the compiled WebAssembly.Module and the shared memory in its
// start-up data. Being a string, it survives bundling by tsup (no worker file to locate next to the
// bundle, no `import.meta.url`), and it never imports anything: the module is compiled once, on the main
// thread, and structured-cloned to each worker.
//
// Browsers: workers are Web Workers; the page must be cross-origin isolated (SharedArrayBuffer). A browser
// main thread may not `Atomics.wait`, so there the calling thread spin-waits for the workers that joined
// (covered by the Chromium test of the backend, src/browser.test.ts).
//
// Idle workers poll for the next job for IDLE_SPIN_MS, then park in Atomics.wait: after a run no thread
// of the pool uses CPU (thread-pool.test.ts measures the process's CPU time while idle).

import { createGemm, type Gemm, type GemmArgs, type GemmConfig, gemmScratchBytes } from './gemm-module.js';
import type { WasmHeap } from './heap.js';

/**
 * Exact GELU of floats [from, to) of the array at byte address `src` into the one at `dst` (in place when they
 * are the same) with `gemm`'s `gelu_f32` / `gelu_to_f32`: one span of a pool job, or a whole array on one
 * thread. (The workers' loop repeats it in its source text.)
 */
export function geluSpan(gemm: Gemm, src: number, dst: number, from: number, to: number): void {
  if (src === dst) gemm.instance.gelu_f32(dst + 4 * from, to - from);
  else gemm.instance.gelu_to_f32(src + 4 * from, dst + 4 * from, to - from);
}

/**
 * The first nine arguments of the module's `gemm`, in its order: M, N, K, aPtr, strideAM, strideAK,
 * packedBPtr, cPtr, ldc (then come bias and flags for a foreground job, B's address and strides for a
 * background one).
 */
function gemmOperands(args: GemmArgs): number[] {
  return [
    args.M,
    args.N,
    args.K,
    args.aPtr,
    args.strideAM,
    args.strideAK,
    args.packedBPtr,
    args.cPtr,
    args.ldc,
  ];
}

/** Counters of a pool, from `GemmThreadPool.stats`. */
export interface PoolStats {
  /** Products and elementwise jobs split over threads. */
  jobs: number;
  /** Workers that joined those (a worker that woke after the caller had taken every item did not join). */
  workerJoins: number;
  /** Background products submitted (`submit`). */
  background: number;
  /** Of those, the ones the calling thread claimed (packed B and began) itself, in `drain`. */
  backgroundHere: number;
  /** Rows of background products the calling thread computed, in `drain` (of its own jobs or a worker's). */
  backgroundRowsHere: number;
}

/** Options of `GemmThreadPool.create`. */
export interface GemmThreadPoolOptions {
  /** The heap whose memory holds all operands. */
  heap: WasmHeap;
  /** Threads including the calling one (default: `os.availableParallelism()` in Node, else hardware concurrency). */
  threads?: number;
  /** Tile configuration of the gemm module (default: `DEFAULT_GEMM_CONFIG`, relaxed SIMD if available). */
  config?: Partial<GemmConfig>;
  /**
   * Products with fewer multiply-adds than this (M N K) run on the calling thread alone, where waking the
   * workers would cost more than it saves (default 2^19: a 1x1 convolution of WFM-T's 3 x 3 kernel maps,
   * 192·192·9 multiply-adds, took 28 us alone and 34-40 us with a worker).
   */
  minParallelWork?: number;
  /** How long idle workers poll before parking in Atomics.wait, in ms (default {@link IDLE_SPIN_MS}). */
  idleSpinMs?: number;
}

// Layout of the control block (Int32 slots).
/** Incremented by the calling thread to start a job; workers wait on it. */
const SEQ = 0;
/** Number of workers that finished the current job (after joining it). */
const DONE = 1;
/** Non-zero: workers exit. */
const STOP = 2;
/** Non-zero: a worker's gemm threw (the message is lost; the product is incomplete). */
const ERROR = 3;
/** The 11 gemm arguments before m0, m1 (M first). */
const ARGS = 4;
/** Next row not yet taken (threads take `GRAB` rows at a time with Atomics.add). */
const NEXT = 15;
/** Rows per take. */
const GRAB = 16;
/** Workers that joined the current job, plus the CLOSED bit once the caller stops admitting them. */
const STATE = 17;
const CLOSED = 1 << 30;
/** What the current job runs: {@link JOB_GEMM}, {@link JOB_GELU}, {@link JOB_GELU_GRAD} or {@link JOB_PACK_B}. */
const KIND = 18;
/** Slots in the control block. */
const CONTROL_SLOTS = 19;

// The ring of background jobs: RING_SIZE descriptors of RING_FIELDS Int32 slots each.
/** Background jobs posted and not yet retired, at most. */
export const RING_SIZE = 16;
/**
 * Fields of a descriptor: state, number, NEXT, ROWS, GRAB, ERR, then the gemm arguments M, N, K, aPtr,
 * strideAM, strideAK, packedBPtr, cPtr, ldc, and B's address and strides (bPtr, strideK, strideN).
 */
const RING_FIELDS = 18;
/** Descriptor field: EMPTY, POSTED, CLAIMED, FINISHED or FAILED. */
const JOB_STATE = 0;
/** Descriptor field: the job's number (the count of jobs submitted before it; orders the claims). */
const JOB_ID = 1;
/** Descriptor field: the next row not yet taken; -1 until B is packed. */
const JOB_NEXT = 2;
/** Descriptor field: rows computed so far. */
const JOB_ROWS = 3;
/** Descriptor field: rows per take. */
const JOB_GRAB = 4;
/** Descriptor field: non-zero if a thread trapped on this job. */
const JOB_ERR = 5;
/** Descriptor field: the first of the 12 product arguments. */
const JOB_ARGS = 6;
/** JOB_NEXT of a descriptor whose B is not packed (or that is retired). */
const NOT_PACKED = -1;
/** A descriptor's states. */
const EMPTY = 0;
const POSTED = 1;
const CLAIMED = 2;
const FINISHED = 3;
const FAILED = 4;
/** A job kind: rows of a gemm (ARGS: the 11 gemm arguments; items are rows of C). */
const JOB_GEMM = 0;
/** A job kind: exact GELU (ARGS: n, source, destination; items are floats, copied first unless in place). */
const JOB_GELU = 1;
/** A job kind: g · gelu'(x) (ARGS: n, x, g, out; items are floats). */
const JOB_GELU_GRAD = 2;
/**
 * A job kind: pack B for the gemm (ARGS: panels, K, N, B, strideK, strideN, dst, NR; items are NR-column
 * panels, each packed to its place in the whole packed B).
 */
const JOB_PACK_B = 3;
/** Fewest floats of B worth packing on all threads. */
const MIN_PARALLEL_PACK = 1 << 15;
/** Fewest floats of an elementwise job worth waking the workers for. */
const MIN_PARALLEL_SPAN = 1 << 15;

/**
 * Busy-wait iterations of the calling thread before it sleeps waiting for the workers that joined a job (a
 * few tens of microseconds; they are about to finish anyway).
 */
const SPIN = 5000;

/**
 * How long an idle worker polls for the next job before it parks in Atomics.wait, in milliseconds: long
 * enough to catch the next product of the same run without a futex wake-up (the kernels between two
 * products take tens to hundreds of microseconds), short enough that after a run every worker is asleep
 * within a fraction of a millisecond instead of keeping a core busy (bounded by time, not by a count of
 * loads whose cost varies 10x between machines).
 */
export const IDLE_SPIN_MS = 0.1;

/**
 * The worker's loop, as source text (plain JavaScript: it is evaluated, not bundled). `init(data)` is called
 * with the start-up data; `ready()` reports that the instance is up.
 */
const WORKER_LOOP = `
function run(data, ready) {
  const { module, memory, control, ring: ringBuffer, scratch, spinMs } = data;
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  ex.set_scratch(scratch);
  const ctl = new Int32Array(control);
  const ring = new Int32Array(ringBuffer);
  // Marks a background job whose last rows are done FINISHED (FAILED if a thread trapped) and wakes the caller.
  function finish(o) {
    Atomics.store(ring, o + ${JOB_STATE}, Atomics.load(ring, o + ${JOB_ERR}) ? ${FAILED} : ${FINISHED});
    Atomics.notify(ring, o + ${JOB_STATE});
  }
  // Takes and computes blocks of rows of the job at descriptor o until none is left or SEQ moves on.
  function workRows(o) {
    const a = o + ${JOB_ARGS};
    while (Atomics.load(ctl, ${SEQ}) === seen) {
      const m0 = Atomics.load(ring, o + ${JOB_NEXT});
      const grab = ring[o + ${JOB_GRAB}];
      if (m0 < 0 || m0 >= ring[a]) return;
      if (Atomics.compareExchange(ring, o + ${JOB_NEXT}, m0, m0 + grab) !== m0) continue;
      const M = ring[a];
      if (m0 >= M) return;
      const m1 = Math.min(M, m0 + grab);
      try {
        ex.gemm(M, ring[a + 1], ring[a + 2], ring[a + 3], ring[a + 4], ring[a + 5], ring[a + 6], ring[a + 7],
          ring[a + 8], 0, 0, m0, m1);
      } catch (e) {
        Atomics.store(ring, o + ${JOB_ERR}, 1);
      }
      if (Atomics.add(ring, o + ${JOB_ROWS}, m1 - m0) + (m1 - m0) === M) finish(o);
    }
  }
  // Works on the oldest background job that is posted (claiming it and packing its B) or has rows left: false
  // when there is none.
  function runBackground() {
    let best = -1;
    let bestId = 0;
    for (let o = 0; o < ${RING_SIZE * RING_FIELDS}; o += ${RING_FIELDS}) {
      const state = Atomics.load(ring, o + ${JOB_STATE});
      if (state !== ${POSTED} && state !== ${CLAIMED}) continue;
      if (state === ${CLAIMED}) {
        const next = Atomics.load(ring, o + ${JOB_NEXT});
        if (next < 0 || next >= ring[o + ${JOB_ARGS}]) continue;
      }
      const id = ring[o + ${JOB_ID}];
      if (best < 0 || id - bestId < 0) {
        best = o;
        bestId = id;
      }
    }
    if (best < 0) return false;
    if (Atomics.load(ring, best + ${JOB_STATE}) === ${POSTED}) {
      // Another thread may have claimed it meanwhile: then look again.
      if (Atomics.compareExchange(ring, best + ${JOB_STATE}, ${POSTED}, ${CLAIMED}) !== ${POSTED}) return true;
      const a = best + ${JOB_ARGS};
      try {
        ex.pack_b(ring[a + 2], ring[a + 1], ring[a + 9], ring[a + 10], ring[a + 11], ring[a + 6]);
      } catch (e) {
        Atomics.store(ring, best + ${JOB_ERR}, 1);
        finish(best);
        return true;
      }
      Atomics.store(ring, best + ${JOB_NEXT}, 0);
    }
    workRows(best);
    return true;
  }
  // Read the job counter before reporting ready: the first job may be posted as soon as we are.
  let seen = Atomics.load(ctl, ${SEQ});
  ready();
  for (;;) {
    let seq = Atomics.load(ctl, ${SEQ});
    // Between foreground jobs, background ones (posting one bumps SEQ too, so none waits for a parked worker).
    if (seq === seen && runBackground()) continue;
    if (seq === seen && spinMs > 0) {
      const until = performance.now() + spinMs;
      for (let i = 1; seq === seen; i++) {
        seq = Atomics.load(ctl, ${SEQ});
        if ((i & 127) === 0 && performance.now() > until) break;
      }
    }
    // Park: sleep until the caller bumps SEQ (no CPU used while idle).
    while (seq === seen) {
      Atomics.wait(ctl, ${SEQ}, seen);
      seq = Atomics.load(ctl, ${SEQ});
    }
    seen = seq;
    if (Atomics.load(ctl, ${STOP}) !== 0) return;
    // Join the open job, or skip it if the caller has closed it already.
    let state = Atomics.load(ctl, ${STATE});
    while ((state & ${CLOSED}) === 0) {
      const old = Atomics.compareExchange(ctl, ${STATE}, state, state + 1);
      if (old === state) break;
      state = old;
    }
    if ((state & ${CLOSED}) !== 0) continue;
    try {
      const a = ${ARGS};
      const kind = ctl[${KIND}];
      const M = ctl[a];
      const grab = ctl[${GRAB}];
      for (let m0 = Atomics.add(ctl, ${NEXT}, grab); m0 < M; m0 = Atomics.add(ctl, ${NEXT}, grab)) {
        const m1 = Math.min(M, m0 + grab);
        if (kind === ${JOB_GEMM})
          ex.gemm(M, ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 7],
            ctl[a + 8], ctl[a + 9], ctl[a + 10], m0, m1);
        else if (kind === ${JOB_GELU}) {
          if (ctl[a + 1] === ctl[a + 2]) ex.gelu_f32(ctl[a + 2] + 4 * m0, m1 - m0);
          else ex.gelu_to_f32(ctl[a + 1] + 4 * m0, ctl[a + 2] + 4 * m0, m1 - m0);
        }
        else if (kind === ${JOB_GELU_GRAD})
          ex.gelu_grad_f32(ctl[a + 1] + 4 * m0, ctl[a + 2] + 4 * m0, ctl[a + 3] + 4 * m0, m1 - m0);
        else {
          const K = ctl[a + 1], N = ctl[a + 2], nr = ctl[a + 7];
          ex.pack_b(K, Math.min(N, m1 * nr) - m0 * nr, ctl[a + 3] + 4 * m0 * nr * ctl[a + 5], ctl[a + 4],
            ctl[a + 5], ctl[a + 6] + 4 * K * nr * m0);
        }
      }
    } catch (e) {
      Atomics.store(ctl, ${ERROR}, 1);
    } finally {
      Atomics.add(ctl, ${DONE}, 1);
      Atomics.notify(ctl, ${DONE});
    }
  }
}
`;

/** Node entry: start-up data from `workerData`, readiness by message. */
const NODE_WORKER_SOURCE = `${WORKER_LOOP}
const { parentPort, workerData } = require('node:worker_threads');
run(workerData, () => parentPort.postMessage('ready'));
`;

/** Web Worker entry: start-up data from the first message, readiness by message. */
const WEB_WORKER_SOURCE = `${WORKER_LOOP}
self.onmessage = (event) => { self.onmessage = null; run(event.data, () => self.postMessage('ready')); };
`;

/** Start-up data of a worker (structured-cloned). */
interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** The ring of background job descriptors. */
  ring: SharedArrayBuffer;
  scratch: number;
  /** Idle polling before parking, in ms. */
  spinMs: number;
}

/** The part of a worker the pool uses, in Node or in a browser. */
interface PoolWorker {
  /** Resolves when the worker's instance is up; rejects if it fails to start. */
  ready: Promise<void>;
  terminate(): void;
}

/** Node's worker_threads module, if running in Node. */
type WorkerThreads = typeof import('node:worker_threads');

/** The `process` global where there is one (Node), typed loosely so that this file also builds for browsers. */
const nodeProcess = (
  globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }
).process;

/** Whether this is Node (worker_threads, not Web Workers). */
const isNode = typeof nodeProcess?.versions?.node === 'string';

/**
 * A Node built-in module: `process.getBuiltinModule` (Node >= 20.16) or, before that, a dynamic import whose
 * specifier is a variable so that bundlers targeting browsers leave it alone.
 */
async function nodeBuiltin<T>(name: string): Promise<T> {
  const sync = nodeProcess?.getBuiltinModule?.(name);
  if (sync) return sync as T;
  return (await import(/* @vite-ignore */ name)) as T;
}

/** Starts one worker in Node. */
function spawnNodeWorker(wt: WorkerThreads, init: WorkerInit): PoolWorker {
  const worker = new wt.Worker(NODE_WORKER_SOURCE, { eval: true, workerData: init });
  // A pool that is never disposed must not keep the process alive.
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`gemm worker exited during start-up (code ${code})`)));
  });
  return {
    ready,
    terminate: () => {
      worker.terminate().catch(() => undefined);
    },
  };
}

/** Starts one Web Worker (browsers). */
function spawnWebWorker(init: WorkerInit): PoolWorker {
  const url = URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => reject(new Error(`gemm worker failed to start: ${e.message}`));
  }).finally(() => URL.revokeObjectURL(url));
  worker.postMessage(init);
  return { ready, terminate: () => worker.terminate() };
}

/** Default thread count: all cores. */
async function defaultThreads(): Promise<number> {
  if (isNode) return (await nodeBuiltin<typeof import('node:os')>('node:os')).availableParallelism();
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** Whether this thread may block in Atomics.wait (anywhere but a browser's main thread). */
function canBlock(): boolean {
  return isNode || typeof (globalThis as { document?: unknown }).document === 'undefined';
}

/**
 * A gemm that splits rows of C over the calling thread and `threads - 1` worker threads, all running the same
 * generated module on the heap's shared memory. Create with `GemmThreadPool.create`; call `dispose` when done
 * (a forgotten pool does not keep Node alive).
 */
export class GemmThreadPool {
  /** Threads taking part in a product, including the calling one. */
  readonly threads: number;
  /** The calling thread's instance (also used for `packB` and the elementwise exports). */
  readonly local: Gemm;
  private readonly heap: WasmHeap;
  private readonly workers: PoolWorker[];
  private readonly control: Int32Array;
  private readonly ring: Int32Array;
  private readonly scratch: number[];
  private readonly minParallelWork: number;
  private readonly blocking: boolean;
  private disposed = false;
  private jobs = 0;
  private joins = 0;
  /** Background jobs submitted so far (the next one's number). */
  private submitted = 0;
  /** Background jobs retired so far (all those numbered below it are finished and their slots free). */
  private retiredJobs = 0;
  /** Background jobs the calling thread claimed itself (in `drain`). */
  private ranHere = 0;
  /** Rows of background products the calling thread computed (in `drain`). */
  private rowsHere = 0;

  private constructor(
    heap: WasmHeap,
    local: Gemm,
    workers: PoolWorker[],
    control: Int32Array,
    ring: Int32Array,
    scratch: number[],
    minParallelWork: number,
  ) {
    this.heap = heap;
    this.local = local;
    this.workers = workers;
    this.control = control;
    this.ring = ring;
    this.scratch = scratch;
    this.minParallelWork = minParallelWork;
    this.threads = workers.length + 1;
    this.blocking = canBlock();
  }

  /**
   * Compiles (or reuses) the gemm module, instantiates it on the calling thread and starts `threads - 1`
   * workers, resolving when all are ready. With `threads = 1` no worker is started.
   */
  static async create(opts: GemmThreadPoolOptions): Promise<GemmThreadPool> {
    if (!opts.heap.shared)
      throw new Error('GemmThreadPool: the heap is not shared memory (no SharedArrayBuffer); use threads: 1');
    const threads = Math.max(1, Math.floor(opts.threads ?? (await defaultThreads())));
    const local = createGemm(opts.heap, opts.config);
    const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
    control[STATE] = CLOSED; // no job yet
    const ring = new Int32Array(new SharedArrayBuffer(4 * RING_SIZE * RING_FIELDS)); // all EMPTY
    const scratch: number[] = [];
    const workers: PoolWorker[] = [];
    const wt = threads > 1 && isNode ? await nodeBuiltin<WorkerThreads>('node:worker_threads') : undefined;
    try {
      for (let w = 0; w < threads - 1; w++) {
        const init: WorkerInit = {
          module: local.module.module,
          memory: opts.heap.memory,
          control: control.buffer as SharedArrayBuffer,
          ring: ring.buffer as SharedArrayBuffer,
          scratch: opts.heap.alloc(gemmScratchBytes(local.config)),
          spinMs: opts.idleSpinMs ?? IDLE_SPIN_MS,
        };
        scratch.push(init.scratch);
        workers.push(wt ? spawnNodeWorker(wt, init) : spawnWebWorker(init));
      }
      await Promise.all(workers.map((w) => w.ready));
    } catch (err) {
      Atomics.store(control, STOP, 1);
      for (const w of workers) w.terminate();
      for (const s of scratch) opts.heap.free(s);
      local.dispose();
      throw err;
    }
    return new GemmThreadPool(
      opts.heap,
      local,
      workers,
      control,
      ring,
      scratch,
      opts.minParallelWork ?? 1 << 19,
    );
  }

  /** Counters since creation (see {@link PoolStats}). */
  get stats(): PoolStats {
    return {
      jobs: this.jobs,
      workerJoins: this.joins,
      background: this.submitted,
      backgroundHere: this.ranHere,
      backgroundRowsHere: this.rowsHere,
    };
  }

  /** Background jobs retired so far: every job whose number (from `submit`) is below this is finished. */
  get retired(): number {
    return this.retiredJobs;
  }

  /** Background jobs submitted and not yet retired. */
  get outstanding(): number {
    return this.submitted - this.retiredJobs;
  }

  /**
   * Posts C = A B as a background job and returns at once with the job's number (0, 1, 2, ...): B [K, N] is
   * read at `bPtr` with strides (in elements) `strideK`, `strideN` and packed into `args.packedBPtr`
   * (`packedBSize(K, N)` bytes) by the thread that claims the job, then the rows of C are computed by any
   * threads. No bias, no flags. A, B, C and the packed area must stay untouched until `drain` has retired the
   * job. With RING_SIZE jobs outstanding, first drains the oldest. With one thread, or nothing to compute,
   * runs the product here and now.
   */
  submit(args: GemmArgs, bPtr: number, strideK: number, strideN: number): number {
    if (this.disposed) throw new Error('GemmThreadPool: used after dispose');
    if ((args.biasPtr ?? 0) !== 0 || (args.flags ?? 0) !== 0)
      throw new Error('GemmThreadPool.submit: background products take no bias and no flags');
    const id = this.submitted;
    const { M, N, K } = args;
    if (this.threads === 1 || M === 0 || N === 0) {
      if (M > 0 && N > 0) {
        this.local.packB(K, N, bPtr, strideK, strideN, args.packedBPtr);
        this.local.gemm(args);
      }
      this.submitted++;
      this.retiredJobs++;
      return id;
    }
    if (this.outstanding >= RING_SIZE) this.drain(RING_SIZE - 1);
    const ring = this.ring;
    const o = (id % RING_SIZE) * RING_FIELDS;
    const values = [...gemmOperands(args), bPtr, strideK, strideN];
    ring[o + JOB_ID] = id;
    ring[o + JOB_NEXT] = NOT_PACKED;
    ring[o + JOB_ROWS] = 0;
    ring[o + JOB_ERR] = 0;
    ring[o + JOB_GRAB] = this.rowGrab(M);
    for (let i = 0; i < values.length; i++) ring[o + JOB_ARGS + i] = values[i];
    // posting (a sequentially consistent write) publishes the plain writes above
    Atomics.store(ring, o + JOB_STATE, POSTED);
    this.submitted++;
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
    return id;
  }

  /**
   * Finishes every background job but the newest `keep` and retires them (oldest first). This thread claims
   * those still posted and computes rows of those in progress; while a worker computes the last rows of the
   * oldest, it works on newer jobs, and waits only when none has work left. Throws if one of them failed
   * (every job is still retired first, so the pool stays usable).
   */
  drain(keep = 0): void {
    const ring = this.ring;
    const target = this.submitted - Math.max(0, keep);
    let failed = false;
    while (this.retiredJobs < target) {
      const o = (this.retiredJobs % RING_SIZE) * RING_FIELDS;
      const state = Atomics.load(ring, o + JOB_STATE);
      if (state === FINISHED || state === FAILED) {
        if (state === FAILED) failed = true;
        // closed to late row-takers before the descriptor can be reused (see the file header)
        Atomics.store(ring, o + JOB_NEXT, NOT_PACKED);
        Atomics.store(ring, o + JOB_STATE, EMPTY);
        this.retiredJobs++;
        continue;
      }
      if (this.workHere(o)) continue;
      // the oldest has no work left for us (a worker packs its B or computes its last rows): a newer one?
      let worked = false;
      for (let id = this.retiredJobs + 1; id < this.submitted && !worked; id++)
        worked = this.workHere((id % RING_SIZE) * RING_FIELDS);
      // B being packed (no wake-up follows): look again at once; last rows being computed: sleep until notified
      if (!worked && this.blocking && Atomics.load(ring, o + JOB_NEXT) !== NOT_PACKED)
        Atomics.wait(ring, o + JOB_STATE, CLAIMED, 1);
    }
    if (failed) throw new Error('GemmThreadPool: a background product failed');
  }

  /**
   * Works on the background job at descriptor `o` on this thread: claims and packs it if it is posted, then
   * computes blocks of its rows until none is left. False if there was nothing to do.
   */
  private workHere(o: number): boolean {
    const ring = this.ring;
    const a = o + JOB_ARGS;
    let worked = false;
    if (Atomics.compareExchange(ring, o + JOB_STATE, POSTED, CLAIMED) === POSTED) {
      this.ranHere++;
      worked = true;
      try {
        this.local.packB(ring[a + 2], ring[a + 1], ring[a + 9], ring[a + 10], ring[a + 11], ring[a + 6]);
      } catch {
        Atomics.store(ring, o + JOB_ERR, 1);
        this.finish(o);
        return true;
      }
      Atomics.store(ring, o + JOB_NEXT, 0);
    }
    for (;;) {
      const m0 = Atomics.load(ring, o + JOB_NEXT);
      const grab = ring[o + JOB_GRAB];
      if (m0 < 0 || m0 >= ring[a]) return worked;
      if (Atomics.compareExchange(ring, o + JOB_NEXT, m0, m0 + grab) !== m0) continue;
      const M = ring[a];
      if (m0 >= M) return worked;
      const m1 = Math.min(M, m0 + grab);
      worked = true;
      this.rowsHere += m1 - m0;
      try {
        this.local.gemm(
          {
            M,
            N: ring[a + 1],
            K: ring[a + 2],
            aPtr: ring[a + 3],
            strideAM: ring[a + 4],
            strideAK: ring[a + 5],
            packedBPtr: ring[a + 6],
            cPtr: ring[a + 7],
            ldc: ring[a + 8],
          },
          m0,
          m1,
        );
      } catch {
        Atomics.store(ring, o + JOB_ERR, 1);
      }
      if (Atomics.add(ring, o + JOB_ROWS, m1 - m0) + (m1 - m0) === M) this.finish(o);
    }
  }

  /** Marks the background job at descriptor `o` FINISHED (FAILED if a thread trapped on it). */
  private finish(o: number): void {
    const failed = Atomics.load(this.ring, o + JOB_ERR) !== 0;
    Atomics.store(this.ring, o + JOB_STATE, failed ? FAILED : FINISHED);
  }

  /** Byte size of B [K, N] once packed. */
  packedBSize(K: number, N: number): number {
    return this.local.packedBSize(K, N);
  }

  /**
   * C = A B (+ bias, + old C, GELU; see `GemmArgs`), rows shared by all threads. Synchronous: returns when
   * every thread is done. Throws if a thread's part failed (e.g. an out-of-bounds pointer).
   *
   * Rows are handed out dynamically: each thread (the calling one included) takes blocks of rows from a
   * shared counter until none are left, so a thread slowed down by other work on its core takes fewer. The
   * result does not depend on who computed which row (no cross-row sums): it is bit-identical to the
   * single-threaded gemm.
   */
  gemm(args: GemmArgs): void {
    if (this.disposed) throw new Error('GemmThreadPool: used after dispose');
    const { M, N, K } = args;
    if (this.threads === 1 || M * N * K < this.minParallelWork || M <= this.local.config.mr) {
      this.local.gemm(args);
      return;
    }
    const values = [...gemmOperands(args), args.biasPtr ?? 0, args.flags ?? 0];
    this.runJob(JOB_GEMM, values, this.rowGrab(M), (m0, m1) => this.local.gemm(args, m0, m1), 'gemm');
  }

  /**
   * Rows of C per take of a product (foreground or background) of `M` rows: about eight takes per thread, in
   * whole MR-row panels, at most one MC block. The caller starts alone and a parked worker joins some tens
   * of microseconds later, so with four takes each the caller often waited for the worker's last, late take
   * (eight: forward 0.91x, forward + backward 0.93x the time, A/B).
   */
  private rowGrab(M: number): number {
    const { mr, mc } = this.local.config;
    return Math.min(mc, Math.ceil(M / (8 * this.threads) / mr) * mr);
  }

  /**
   * Exact GELU of `n` floats at byte address `src` into `dst` (the same address: in place), spans shared by
   * all threads.
   */
  gelu(src: number, dst: number, n: number): void {
    if (this.disposed) throw new Error('GemmThreadPool: used after dispose');
    const span = (s: number, e: number) => geluSpan(this.local, src, dst, s, e);
    if (this.threads === 1 || n < MIN_PARALLEL_SPAN) span(0, n);
    else this.runJob(JOB_GELU, [n, src, dst], this.spanGrab(n), span, 'gelu');
  }

  /** out = g · gelu'(x) over `n` floats at byte addresses, spans shared by all threads. */
  geluGrad(x: number, g: number, out: number, n: number): void {
    if (this.disposed) throw new Error('GemmThreadPool: used after dispose');
    if (this.threads === 1 || n < MIN_PARALLEL_SPAN) {
      this.local.instance.gelu_grad_f32(x, g, out, n);
      return;
    }
    this.runJob(
      JOB_GELU_GRAD,
      [n, x, g, out],
      this.spanGrab(n),
      (s, e) => this.local.instance.gelu_grad_f32(x + 4 * s, g + 4 * s, out + 4 * s, e - s),
      'gelu_grad',
    );
  }

  /**
   * Packs B [K, N] (element (k, n) at byte address bPtr + 4 (k strideK + n strideN)) for the gemm into `dst`
   * (`packedBSize(K, N)` bytes), its NR-column panels shared by all threads (each packed to its place, so the
   * bytes are those of one `pack_b` over all of B).
   */
  packB(K: number, N: number, bPtr: number, strideK: number, strideN: number, dst: number): void {
    if (this.disposed) throw new Error('GemmThreadPool: used after dispose');
    const { nr } = this.local.config;
    const panels = Math.ceil(N / nr);
    const part = (p0: number, p1: number) =>
      this.local.packB(
        K,
        Math.min(N, p1 * nr) - p0 * nr,
        bPtr + 4 * p0 * nr * strideN,
        strideK,
        strideN,
        dst + 4 * K * nr * p0,
      );
    if (this.threads === 1 || K * N < MIN_PARALLEL_PACK || panels < 2) part(0, panels);
    else
      this.runJob(
        JOB_PACK_B,
        [panels, K, N, bPtr, strideK, strideN, dst, nr],
        Math.max(1, Math.ceil(panels / (4 * this.threads))),
        part,
        'pack_b',
      );
  }

  /**
   * Floats per take of an elementwise job: about eight takes per thread, a multiple of four (so every span
   * but the last is whole SIMD vectors, and each float is computed exactly as on one thread).
   */
  private spanGrab(n: number): number {
    return Math.max(4, Math.ceil(n / (8 * this.threads) / 4) * 4);
  }

  /**
   * Runs one job: writes its kind and arguments (`values[0]` is the item count), wakes the workers, takes
   * `grab` items at a time with `local` until none are left, then closes the job and waits for the workers
   * that joined. Throws if a worker's part failed.
   */
  private runJob(
    kind: number,
    values: readonly number[],
    grab: number,
    local: (from: number, to: number) => void,
    what: string,
  ): void {
    const ctl = this.control;
    const total = values[0];
    for (let i = 0; i < values.length; i++) ctl[ARGS + i] = values[i];
    ctl[KIND] = kind;
    ctl[GRAB] = grab;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, ERROR, 0);
    // Opening the job and bumping SEQ (sequentially consistent writes) publish the plain writes above.
    Atomics.store(ctl, STATE, 0);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    try {
      for (let m0 = Atomics.add(ctl, NEXT, grab); m0 < total; m0 = Atomics.add(ctl, NEXT, grab)) {
        local(m0, Math.min(total, m0 + grab));
      }
    } finally {
      // Close the job (no more workers may join) and wait for those that did.
      const joined = Atomics.or(ctl, STATE, CLOSED);
      this.waitForDone(joined);
      this.jobs++;
      this.joins += joined;
    }
    if (Atomics.load(ctl, ERROR) !== 0) throw new Error(`GemmThreadPool: a worker failed during ${what}`);
  }

  /**
   * Stops the workers and frees the scratch areas. Idempotent; the pool cannot be used afterwards. Workers are
   * told to exit and terminated, so they never keep the process alive.
   */
  dispose(): void {
    if (this.disposed) return;
    // background jobs write to the heap: finish them before the workers go
    try {
      this.drain(0);
    } catch {
      // a failed job's product is lost with the pool anyway
    }
    this.disposed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
    for (const w of this.workers) w.terminate();
    for (const s of this.scratch) this.heap.free(s);
    this.local.dispose();
  }

  /** Blocks until `n` workers have finished the current job (spinning first, then sleeping). */
  private waitForDone(n: number): void {
    const ctl = this.control;
    let done = Atomics.load(ctl, DONE);
    for (let i = 0; done < n && i < SPIN; i++) done = Atomics.load(ctl, DONE);
    while (done < n) {
      if (this.blocking) Atomics.wait(ctl, DONE, done, 100);
      done = Atomics.load(ctl, DONE);
    }
  }
}
