// The reference CPU backend: implements every primitive of the @wf/core op table with plain, readable
// kernels over ndarray views of Float32Array/Int32Array storage (the living definition of each op).
import {
  type Backend,
  type BackendCapabilities,
  BackendError,
  fmtShape,
  type KernelRegistry,
  sameShape,
  sizeOf,
  stridesOf,
  type TensorData,
  type TensorType,
} from '@wf/core';
import ndarray from 'ndarray';
import { MAX_HEAP_BYTES, WasmHeap } from './fast/heap.js';
import { relaxedSimdSupported } from './fast/wasm-emitter.js';
import type { ScratchProvider } from './fast-kernels/attention.js';
import { fastDynWeightKernels } from './fast-kernels/dyn-weight.js';
import { fastElementwiseKernels } from './fast-kernels/elementwise.js';
import { jsMatmulEngine, type MatmulEngine } from './fast-kernels/matmul-engine.js';
import { fastNormReduceKernels } from './fast-kernels/norm-reduce.js';
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
   * Matrix products of the fast kernels: `wasm` (default where WebAssembly SIMD and SharedArrayBuffer
   * exist): generated SIMD kernels on a shared heap, split over worker threads; `js`: portable loops.
   */
  engine?: 'wasm' | 'js';
  /** Threads for matrix products, the calling one included (default: all cores). */
  threads?: number;
  /** Largest heap in bytes for the wasm engine (default and maximum: 2 GiB - 64 KiB). */
  maxHeapBytes?: number;
  /**
   * Whether this backend shares one heap and one set of worker threads with the other cpu backends of the
   * process (default: true when neither `threads` nor `maxHeapBytes` is given). Each backend still owns
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

/** The process's shared heap and engine (a new one when relaxed SIMD was turned on since). */
function acquireShared(): SharedEngine {
  const relaxed = relaxedSimdSupported();
  if (!sharedEngine || sharedEngine.relaxed !== relaxed) {
    const heap = new WasmHeap({ maximumBytes: MAX_HEAP_BYTES });
    sharedEngine = { heap, engine: new WasmMatmulEngine(heap, defaultThreads()), relaxed, users: 0 };
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

/** Whether this runtime can run the wasm engine (WebAssembly SIMD and shared memory). */
export function wasmEngineSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof WebAssembly === 'undefined') return false;
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
 * set (default) runs matrix products on generated WebAssembly SIMD kernels over a shared heap, split
 * across worker threads; `{ kernels: 'plain' }` runs the plain reference kernels.
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
  /** Resolves when worker threads (if any) are running; products before that use one thread. */
  readonly ready: Promise<void>;
  private readonly heap: WasmHeap | undefined;
  private disposed = false;
  private liveBytes = 0;
  private readonly released = new WeakSet<object>();
  /** The shared heap and engine, when this backend uses them. */
  private readonly shared: SharedEngine | undefined;
  /** Heap offsets this backend allocated and has not released (scratch included), for a shared heap. */
  private readonly owned = new Set<number>();

  constructor(options: CpuBackendOptions = {}) {
    this.kernelSet = options.kernels ?? 'fast';
    const useWasm =
      this.kernelSet === 'fast' && (options.engine ?? (wasmEngineSupported() ? 'wasm' : 'js')) === 'wasm';
    if (useWasm) {
      if (!wasmEngineSupported())
        throw new BackendError('engine "wasm" needs WebAssembly SIMD and SharedArrayBuffer; use engine "js"');
      const share = options.shared ?? (options.threads === undefined && options.maxHeapBytes === undefined);
      let engine: WasmMatmulEngine;
      if (share) {
        const shared = acquireShared();
        this.shared = shared;
        this.heap = shared.heap;
        engine = shared.engine;
      } else {
        this.heap = new WasmHeap({ maximumBytes: options.maxHeapBytes ?? MAX_HEAP_BYTES });
        engine = new WasmMatmulEngine(
          this.heap,
          Math.max(1, Math.floor(options.threads ?? defaultThreads())),
        );
      }
      this.engine = engine;
      this.ready = engine.ready;
      // A backend dropped without dispose() (e.g. `model.run(createCpuBackend(), x)` in a loop) would keep
      // its worker threads, and through them its heap, forever: stop them (or give back its share and its
      // storage) once the backend is collected.
      abandoned.register(this, cleanupOf(engine, this.heap, this.owned, this.shared), this.owned);
    } else {
      this.engine = jsMatmulEngine;
      this.ready = Promise.resolve();
    }
    this.kernels = this.kernelSet === 'plain' ? cpuKernels : fastKernels(this.engine, this.scratchProvider());
    this.name = this.kernelSet === 'plain' ? 'cpu:plain' : useWasm ? 'cpu' : 'cpu:js';
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
      }
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
    const n = sizeOf(type.shape);
    const at = storage.offset + byteOffset;
    const data = type.dtype === 'int32' ? this.heap!.i32(at, n) : this.heap!.f32(at, n);
    (this.engine as WasmMatmulEngine).noteBuffer(data.buffer);
    return ndarray(data, [...type.shape], stridesOf(type.shape), 0);
  }

  write(dst: CpuTensor, data: TensorData): void {
    this.check();
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
    return toTensorData(t);
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
