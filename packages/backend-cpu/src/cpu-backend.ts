// The reference CPU backend: implements every primitive of the @wf/core op table with plain, readable
// kernels over ndarray views of Float32Array/Int32Array storage (the living definition of each op).
import {
  type Backend,
  type BackendCapabilities,
  BackendError,
  type BackendRuntime,
  isDense as denseStrides,
  fmtShape,
  type Kernel,
  type KernelRegistry,
  type OpAttrs,
  type OpName,
  sameShape,
  sizeOf,
  stridesOf,
  type TensorData,
  type TensorType,
  wrapKernels,
} from '@wf/core';
import ndarray from 'ndarray';
import { MAX_HEAP_BYTES, sharedMemoryAvailable, WasmHeap } from './fast/heap.js';
import { relaxedSimdSupported } from './fast/wasm-emitter.js';
import type { ScratchProvider } from './fast-kernels/attention.js';
import { fastDynWeightKernels } from './fast-kernels/dyn-weight.js';
import { fastElementwiseKernels } from './fast-kernels/elementwise.js';
import { jsMatmulEngine, type MatmulEngine } from './fast-kernels/matmul-engine.js';
import { fastMovementKernels } from './fast-kernels/movement.js';
import { fastNormReduceKernels } from './fast-kernels/norm-reduce.js';
import { fastPoolingKernels } from './fast-kernels/pooling.js';
import { productKernels } from './fast-kernels/products.js';
import { simdRowKernels } from './fast-kernels/simd-rows.js';
import { WasmMatmulEngine } from './fast-kernels/wasm-engine.js';
import { convKernels } from './kernels/conv.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { matmulKernels } from './kernels/matmul.js';
import { movementKernels } from './kernels/movement.js';
import { normKernels } from './kernels/norm.js';
import { reduceKernels } from './kernels/reduce.js';
import { type CpuTensor, copyInto, toTensorData, wrapBuffer } from './nd.js';

/**
 * Fewest multiply-adds (M N K over all batch entries) of a matrix product that the cpu backend defers to a
 * worker thread (`CpuBackend.defers`).
 */
export const DEFER_MIN_WORK = 1 << 19;

/** The plain reference kernels, keyed by op: the living definition of every primitive. */
export const cpuKernels: KernelRegistry<CpuTensor> = {
  ...elementwiseKernels,
  ...reduceKernels,
  ...matmulKernels,
  ...convKernels,
  ...normKernels,
  ...movementKernels,
};

/** The fast kernels over a matrix-product engine: plain kernels where no fast one applies. */
export function fastKernels(
  engine: MatmulEngine,
  scratch: ScratchProvider = jsScratch(),
): KernelRegistry<CpuTensor> {
  const js = {
    ...fastElementwiseKernels,
    ...fastNormReduceKernels,
    ...fastDynWeightKernels,
    ...fastMovementKernels,
    ...fastPoolingKernels,
    ...productKernels(engine, scratch),
  };
  return {
    ...cpuKernels,
    ...js,
    ...(engine instanceof WasmMatmulEngine ? simdRowKernels(engine, js, scratch) : {}),
  };
}

/** Scratch memory in the JS heap, reused between calls. */
function jsScratch(): ScratchProvider {
  let buf: Float32Array = new Float32Array(0);
  return (n) => {
    if (buf.length < n) buf = new Float32Array(n);
    return buf;
  };
}

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** `fast` (default): optimized kernels and fused linear/affine epilogues; `plain`: the reference kernels. */
  kernels?: 'fast' | 'plain';
  /**
   * Matrix products of the fast kernels: `wasm` (default where WebAssembly SIMD exists): generated SIMD
   * kernels on a WebAssembly heap, split over worker threads where shared memory exists; `js`: portable
   * loops.
   */
  engine?: 'wasm' | 'js';
  /** Threads for matrix products, the calling one included (default: all cores). */
  threads?: number;
  /**
   * Shared heap memory, needed for threads (default: where SharedArrayBuffer exists, i.e. Node and
   * cross-origin isolated pages). `false`: a plain memory and one thread, as on an ordinary web page.
   */
  sharedMemory?: boolean;
  /** Largest heap in bytes for the wasm engine (default and maximum: 2 GiB - 64 KiB). */
  maxHeapBytes?: number;
  /** First size of the wasm engine's heap in bytes (default 16 MiB; it grows on demand). */
  initialHeapBytes?: number;
  /**
   * Where the one-time notice goes when the wasm engine runs on one thread for want of cross-origin
   * isolation (default `console.info`; `null`: no notice).
   */
  notice?: ((message: string) => void) | null;
  /**
   * Whether this backend shares one heap and one set of worker threads with the other cpu backends of the
   * process (default: true when none of `threads`, `maxHeapBytes`, `initialHeapBytes` and `sharedMemory` is given). Each backend still owns
   * its storage, freed by `dispose`; the threads stop when the last sharing backend is disposed or
   * garbage-collected. Without sharing, every backend starts its own worker threads (about 9 MB each).
   */
  shared?: boolean;
}

/** The heap and engine that default cpu backends share, with how many backends use them. */
interface SharedEngine {
  heap: WasmHeap;
  engine: WasmMatmulEngine;
  relaxed: boolean;
  users: number;
}

let sharedEngine: SharedEngine | undefined;

/**
 * The process's shared heap and engine (a new one when relaxed SIMD was turned on since): on shared
 * memory with all cores where SharedArrayBuffer exists, else on a plain memory with one thread.
 */
function acquireShared(): SharedEngine {
  const relaxed = relaxedSimdSupported();
  if (!sharedEngine || sharedEngine.relaxed !== relaxed) {
    const shared = sharedMemoryAvailable();
    const heap = new WasmHeap({ maximumBytes: MAX_HEAP_BYTES, shared });
    const engine = new WasmMatmulEngine(heap, shared ? defaultThreads() : 1);
    sharedEngine = { heap, engine, relaxed, users: 0 };
  }
  sharedEngine.users++;
  return sharedEngine;
}

/** One backend stops using `shared`; the last one stops its threads. */
function releaseShared(shared: SharedEngine): void {
  if (--shared.users > 0) return;
  shared.engine.dispose();
  if (sharedEngine === shared) sharedEngine = undefined;
}

/** What the CPU backend runs, from `CpuBackend.runtime()`. */
export interface CpuRuntime extends BackendRuntime {
  /** `wasm-simd` (generated WebAssembly SIMD), `js` (JavaScript fast kernels) or `plain` (reference). */
  readonly engine: 'wasm-simd' | 'js' | 'plain';
  /** The gemm uses relaxed-SIMD FMA. */
  readonly relaxedSimd: boolean;
  /** Threads asked for (option `threads`, default all cores). */
  readonly requestedThreads: number;
  /** Whether the wasm heap is shared memory (false on a page that is not cross-origin isolated). */
  readonly sharedMemory: boolean;
}

/** Whether this is a browser page or worker (not Node). */
function inBrowser(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } }; navigator?: unknown };
  return typeof g.process?.versions?.node !== 'string' && typeof g.navigator !== 'undefined';
}

/** Why shared memory is unavailable, in a few words. */
function noSharedMemoryReason(): string {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return 'page not cross-origin isolated';
  return 'SharedArrayBuffer unavailable';
}

/** The one-time threads notice was given (once per page or process). */
let noticeGiven = false;

/** The notice: how to get threads on the web. */
export const THREADS_NOTICE =
  '@wf/backend-cpu: WebAssembly SIMD runs on one thread because this page is not cross-origin isolated ' +
  '(no SharedArrayBuffer). To use every core, serve the page with the headers ' +
  '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" ' +
  '(or "credentialless"); see "Threads in the browser" in the backends guide (docs/guide/backends.md).';

/** A storage block: an ArrayBuffer, or a region of the wasm engine's shared heap. */
export type CpuStorage = ArrayBuffer | { readonly offset: number; readonly bytes: number };

function defaultThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const os = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
    ? nodeParallelism()
    : undefined;
  return os ?? nav?.hardwareConcurrency ?? 1;
}

function nodeParallelism(): number | undefined {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: process.getBuiltinModule is Node >= 20.16
    const os = (process as any).getBuiltinModule?.('node:os') as
      | { availableParallelism?: () => number }
      | undefined;
    return os?.availableParallelism?.();
  } catch {
    return undefined;
  }
}

/**
 * Whether this runtime can run the wasm engine (WebAssembly SIMD). Shared memory is not needed: without it
 * the engine runs on one thread.
 */
export function wasmEngineSupported(): boolean {
  if (typeof WebAssembly === 'undefined') return false;
  // (module (func (result v128) v128.const i32x4 0 0 0 0))
  const simd = Uint8Array.of(
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    1,
    5,
    1,
    96,
    0,
    1,
    123,
    3,
    2,
    1,
    0,
    10,
    22,
    1,
    20,
    0,
    253,
    12,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    11,
  );
  return WebAssembly.validate(simd);
}

/**
 * The CPU backend. Tensors are ndarray views (reshape, permute and slice are zero-copy). The fast kernel
 * set (default) runs matrix products on generated WebAssembly SIMD kernels over a WebAssembly heap, split
 * across worker threads where shared memory exists (Node, cross-origin isolated pages) and on one thread
 * elsewhere (an ordinary web page: `runtime()` says so, and a one-time notice says how to get threads);
 * `{ kernels: 'plain' }` runs the plain reference kernels.
 */
export class CpuBackend implements Backend<CpuTensor, CpuStorage> {
  readonly name: string;
  readonly capabilities: BackendCapabilities = {
    zeroCopyViews: true,
    syncRead: true,
    dtypes: ['float32', 'int32'],
    precision: 'float32',
    subAllocation: true,
  };
  readonly kernels: KernelRegistry<CpuTensor>;
  /** Which kernel set runs. */
  readonly kernelSet: 'fast' | 'plain';
  /** The matrix-product engine of the fast kernels. */
  readonly engine: MatmulEngine;
  /**
   * Resolves when worker threads (if any) are running; products before that use one thread. `compile`
   * (@wf/core) awaits it. Never rejects: workers that fail to start leave one thread (see `runtime()`).
   */
  readonly ready: Promise<void>;
  private readonly heap: WasmHeap | undefined;
  private disposed = false;
  private liveBytes = 0;
  private readonly released = new WeakSet<object>();
  /** The shared heap and engine, when this backend uses them. */
  private readonly shared: SharedEngine | undefined;
  /** Heap offsets this backend allocated and has not released (scratch included), for a shared heap. */
  private readonly owned = new Set<number>();
  private readonly requestedThreads: number;
  /** Why the engine is not the wasm one, or why it has one thread (before the pool's own errors). */
  private readonly baseReason: string | undefined;
  /** Plain heap only: heap views by typed array (offset, length, int), to replace them once detached. */
  private readonly heapViews = new WeakMap<object, { offset: number; length: number; int: boolean }>();
  private readonly freshViews = new WeakMap<object, Float32Array | Int32Array>();

  constructor(options: CpuBackendOptions = {}) {
    this.kernelSet = options.kernels ?? 'fast';
    this.requestedThreads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
    const simd = wasmEngineSupported();
    const useWasm = this.kernelSet === 'fast' && (options.engine ?? (simd ? 'wasm' : 'js')) === 'wasm';
    if (useWasm) {
      if (!simd) throw new BackendError('engine "wasm" needs WebAssembly SIMD; use engine "js"');
      const canShare = sharedMemoryAvailable();
      if (options.sharedMemory && !canShare)
        throw new BackendError(
          `sharedMemory: true needs SharedArrayBuffer (${noSharedMemoryReason()}); leave it unset`,
        );
      const sharedMemory = options.sharedMemory ?? canShare;
      const share =
        options.shared ??
        (options.threads === undefined &&
          options.maxHeapBytes === undefined &&
          options.initialHeapBytes === undefined &&
          options.sharedMemory === undefined);
      let engine: WasmMatmulEngine;
      if (share) {
        const shared = acquireShared();
        this.shared = shared;
        this.heap = shared.heap;
        engine = shared.engine;
      } else {
        this.heap = new WasmHeap({
          maximumBytes: options.maxHeapBytes ?? MAX_HEAP_BYTES,
          initialBytes: options.initialHeapBytes,
          shared: sharedMemory,
        });
        engine = new WasmMatmulEngine(this.heap, sharedMemory ? this.requestedThreads : 1);
      }
      this.engine = engine;
      this.ready = engine.ready;
      // A backend dropped without dispose() (e.g. `model.run(createCpuBackend(), x)` in a loop) would keep
      // its worker threads, and through them its heap, forever: stop them (or give back its share and its
      // storage) once the backend is collected.
      abandoned.register(this, cleanupOf(engine, this.heap, this.owned, this.shared), this.owned);
      if (this.requestedThreads > 1 && !sharedMemory) {
        this.baseReason =
          options.sharedMemory === false ? 'sharedMemory: false requested' : noSharedMemoryReason();
        const notice = options.notice === undefined ? (m: string) => console.info(m) : options.notice;
        if (notice && !noticeGiven && options.sharedMemory === undefined && inBrowser()) {
          noticeGiven = true;
          notice(THREADS_NOTICE);
        }
      }
    } else {
      this.engine = jsMatmulEngine;
      this.ready = Promise.resolve();
      this.baseReason =
        this.kernelSet === 'plain'
          ? 'kernels "plain" requested'
          : options.engine === 'js'
            ? 'engine "js" requested'
            : 'WebAssembly SIMD unsupported';
    }
    const kernels =
      this.kernelSet === 'plain' ? cpuKernels : fastKernels(this.engine, this.scratchProvider());
    this.kernels = this.heap && !this.heap.shared ? this.guardGrowth(kernels) : kernels;
    this.name = this.kernelSet === 'plain' ? 'cpu:plain' : useWasm ? 'cpu' : 'cpu:js';
  }

  /**
   * What runs now: engine, threads, and why it is not more (e.g. `wasm-simd x1: page not cross-origin
   * isolated`). Threads count once `ready` has resolved.
   */
  runtime(): CpuRuntime {
    const wasm = this.engine instanceof WasmMatmulEngine ? this.engine : undefined;
    const engine = wasm ? 'wasm-simd' : this.kernelSet === 'plain' ? 'plain' : 'js';
    const threads = wasm ? wasm.threads : 1;
    let reason = this.baseReason;
    if (!reason && wasm?.threadError) reason = `worker threads failed to start: ${wasm.threadError}`;
    const shown = engine === 'plain' ? 'plain JavaScript' : engine === 'js' ? 'JavaScript' : engine;
    const summary = `${shown} x${threads}${reason ? `: ${reason}` : ''}`;
    return {
      engine,
      threads,
      reason,
      summary,
      relaxedSimd: wasm?.relaxed ?? false,
      requestedThreads: this.requestedThreads,
      sharedMemory: this.heap?.shared ?? false,
    };
  }

  /**
   * Defers large matrix products that only make graph outputs (weight gradients, see `Backend.defers`) when
   * the wasm engine has worker threads: a worker runs them while this thread goes on with the rest of the run
   * (which then shares its own products with the workers left idle). At least {@link DEFER_MIN_WORK}
   * multiply-adds: smaller ones cost more to hand over than they save.
   */
  defers<K extends OpName>(
    op: K,
    attrs: OpAttrs<K>,
    inputTypes: readonly TensorType[],
    type: TensorType,
  ): boolean {
    if (op !== 'matmul' || !(this.engine instanceof WasmMatmulEngine)) return false;
    const a = inputTypes[0].shape;
    const transA = (attrs as OpAttrs<'matmul'>).transA;
    const k = transA ? a[a.length - 2] : a[a.length - 1];
    return this.engine.defers(sizeOf(type.shape) * k, DEFER_MIN_WORK);
  }

  /** Finishes all deferred products but the newest `outstanding` (see `Backend.settle`). */
  settle(outstanding: number): void {
    if (this.engine instanceof WasmMatmulEngine) this.engine.settle(outstanding);
  }

  /**
   * Plain (non-shared) heap: growing it detaches every view of the old buffer. Each kernel gets fresh views
   * of its inputs and output, and a kernel during which the heap grew runs again on fresh views (kernels
   * write only their output, which never shares memory with their inputs). The wasm engine never writes
   * through a pointer taken from a detached view.
   */
  private guardGrowth(kernels: KernelRegistry<CpuTensor>): KernelRegistry<CpuTensor> {
    const heap = this.heap!;
    return wrapKernels(
      kernels,
      <K extends OpName>(_op: K, k: Kernel<CpuTensor, K>): Kernel<CpuTensor, K> =>
        (args) => {
          for (;;) {
            for (const t of args.inputs) this.refresh(t);
            if (args.out) this.refresh(args.out);
            const generation = heap.generation;
            try {
              const r = k(args);
              if (heap.generation === generation) return r;
            } catch (err) {
              if (heap.generation === generation) throw err;
            }
          }
        },
    );
  }

  /** Replaces a detached heap view in `t` (plain heap after a growth) by a view of the current memory. */
  private refresh(t: CpuTensor): void {
    const d = t.data;
    if (d.byteLength !== 0 || !this.heap || this.heap.shared) return;
    let fresh = this.freshViews.get(d);
    if (!fresh || fresh.byteLength === 0) {
      const info = this.heapViews.get(d);
      if (!info) return;
      fresh = this.heapView(info.offset, info.length, info.int);
      this.freshViews.set(d, fresh);
    }
    (t as { data: Float32Array | Int32Array }).data = fresh;
  }

  /** A view of the heap, recorded so that it can be replaced once a growth detaches it. */
  private heapView(offset: number, length: number, int: boolean): Float32Array | Int32Array {
    const heap = this.heap!;
    const data = int ? heap.i32(offset, length) : heap.f32(offset, length);
    (this.engine as WasmMatmulEngine).noteBuffer(data.buffer);
    if (!heap.shared) this.heapViews.set(data, { offset, length, int });
    return data;
  }

  private check(): void {
    if (this.disposed) throw new BackendError('the cpu backend was disposed; create a new one');
  }

  /** Kernel scratch memory: one region of the wasm heap (or JS memory), grown on demand and reused. */
  private scratchProvider(): ScratchProvider {
    const heap = this.heap;
    if (!heap) return jsScratch();
    let offset = 0;
    let length = 0;
    let view: Float32Array = new Float32Array(0);
    return (n) => {
      if (n > length) {
        if (offset) {
          heap.free(offset);
          this.owned.delete(offset);
        }
        length = Math.max(n, 2 * length);
        offset = heap.alloc(4 * length);
        this.owned.add(offset);
        view = heap.f32(offset, length);
        (this.engine as WasmMatmulEngine).noteBuffer(view.buffer);
      } else if (view.byteLength === 0 && length > 0) view = heap.f32(offset, length); // plain heap grew
      return view;
    };
  }

  /** Bytes of storage currently allocated through this backend. */
  get allocatedBytes(): number {
    return this.liveBytes;
  }

  allocate(bytes: number): CpuStorage {
    this.check();
    this.liveBytes += bytes;
    if (!this.heap) return new ArrayBuffer(bytes);
    const offset = this.heap.alloc(bytes);
    this.owned.add(offset);
    return { offset, bytes };
  }

  release(storage: CpuStorage): void {
    if (this.released.has(storage)) return;
    this.released.add(storage);
    if (storage instanceof ArrayBuffer) {
      this.liveBytes -= storage.byteLength;
      return;
    }
    this.liveBytes -= storage.bytes;
    if (this.disposed || !this.heap) return;
    (this.engine as WasmMatmulEngine).releaseStorage(storage.offset);
    this.heap.free(storage.offset);
    this.owned.delete(storage.offset);
  }

  wrap(storage: CpuStorage, type: TensorType, byteOffset = 0): CpuTensor {
    this.check();
    if (storage instanceof ArrayBuffer) return wrapBuffer(storage, type, byteOffset);
    const data = this.heapView(storage.offset + byteOffset, sizeOf(type.shape), type.dtype === 'int32');
    return ndarray(data, [...type.shape], stridesOf(type.shape), 0);
  }

  write(dst: CpuTensor, data: TensorData): void {
    this.check();
    this.refresh(dst);
    if (!sameShape(dst.shape, data.shape)) {
      throw new BackendError(
        `write: data ${fmtShape(data.shape)} does not fit tensor ${fmtShape(dst.shape)}`,
      );
    }
    copyInto(dst, ndarray(data.data, [...data.shape]));
  }

  async read(t: CpuTensor): Promise<TensorData> {
    return this.readSync(t);
  }

  readSync(t: CpuTensor): TensorData {
    this.check();
    this.refresh(t);
    return toTensorData(t);
  }

  /**
   * A dense tensor as a view of the backend's memory (no copy); undefined for a strided view, or on a heap
   * that is not shared memory (its buffer is replaced, and old views emptied, when it grows).
   */
  borrow(t: CpuTensor): TensorData | undefined {
    this.check();
    if (this.heap && !this.heap.shared) return undefined;
    if (!denseStrides(t.shape, t.stride)) return undefined;
    const n = sizeOf(t.shape);
    const data = t.data.subarray(t.offset, t.offset + n);
    return { dtype: data instanceof Int32Array ? 'int32' : 'float32', shape: [...t.shape], data };
  }

  /** Copies a tensor into `dst` (its dtype and shape, checked by the caller): no allocation. */
  readInto(t: CpuTensor, dst: TensorData): void {
    this.check();
    this.refresh(t);
    toTensorData(t, dst.data);
  }

  /** Stops worker threads and drops the heap. Idempotent; later calls fail with a BackendError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!(this.engine instanceof WasmMatmulEngine)) return;
    abandoned.unregister(this.owned);
    if (!this.shared) {
      this.engine.dispose();
      return;
    }
    // The heap lives on for the other backends: give back this one's storage, then its share.
    for (const offset of this.owned) {
      this.engine.releaseStorage(offset);
      this.heap!.free(offset);
    }
    this.owned.clear();
    releaseShared(this.shared);
  }
}

/**
 * What to do when a backend is collected without dispose(). A function of its own, so that the closure holds
 * the engine, heap, storage list and share only, never the backend (which would then never be collected).
 */
function cleanupOf(
  engine: WasmMatmulEngine,
  heap: WasmHeap,
  owned: Set<number>,
  shared: SharedEngine | undefined,
): () => void {
  if (!shared) return () => engine.dispose();
  return () => {
    for (const offset of owned) {
      engine.releaseStorage(offset);
      heap.free(offset);
    }
    owned.clear();
    releaseShared(shared);
  };
}

/**
 * Cleans up after cpu backends that were garbage-collected without dispose(): stops their worker threads,
 * or gives back their storage in the shared heap and their share.
 */
const abandoned = new FinalizationRegistry<() => void>((cleanup) => cleanup());

/** Creates the CPU backend (fast kernels by default; `{ kernels: 'plain' }` for the reference ones). */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(options);
}
