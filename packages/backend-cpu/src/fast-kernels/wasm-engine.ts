// The WebAssembly matrix-product engine: runs C = act(A @ B + bias) with the generated SIMD gemm module on
// the backend's heap, rows split over worker threads once the pool is up (single-threaded before, and
// always on a plain, non-shared heap); the exact GELU and its gradient are split over them too. A pool
// that fails to start leaves the engine on one thread, with the reason in `threadError`.
// Operands living outside the heap, a non-row-major C, and the tanh-GELU epilogue are handled here by
// copies and a JS pass; packed copies of constant weights are cached until their storage is released, one per
// view of the storage (offset, shape, strides): the same constant is read transposed by `linear` and
// untransposed by the backward pass's `matmul`, and each layout packs differently. Each packed copy records
// the version of the weight it was packed from (a parameter's version, see MatmulOptions.bVersion) and is
// packed again, in place, when a product brings another version.
// A product may be deferred (MatmulOptions.deferred): with worker threads, it is posted to the pool as a
// background job and `settle` finishes it later; its packed copy of B is a temporary freed then.
import { createGemm, type Gemm, GemmFlags } from '../fast/gemm-module.js';
import type { WasmHeap } from '../fast/heap.js';
import { createRowKernels, type RowKernels } from '../fast/rows-module.js';
import { GemmThreadPool, geluSpan, type PoolStats } from '../fast/thread-pool.js';
import { activate, type MatmulEngine, type MatmulOptions, type MatView } from './matmul-engine.js';

/** A WASM engine bound to one heap. */
export class WasmMatmulEngine implements MatmulEngine {
  private readonly heap: WasmHeap;
  private readonly local: Gemm;
  private pool: GemmThreadPool | undefined;
  private readonly heapBuffers = new WeakSet<ArrayBufferLike>();
  /**
   * Packed constant B by storage base (heap byte offset of the storage's first element), then by the exact
   * view packed (see `viewKey`): its heap address and the version of B it holds. Freed with the storage
   * (`releaseStorage`).
   */
  private readonly packed = new Map<number, Map<string, { ptr: number; version: number }>>();
  /** Packings done so far (cache misses and uncacheable products); for tests of the cache. */
  packCount = 0;
  /** The SIMD row kernels (layer norm, add) on the same heap. */
  readonly rows: RowKernels;
  /**
   * Resolves when the worker threads are up (immediately with one thread). Never rejects: if the workers
   * cannot start, the engine stays on one thread and `threadError` says why.
   */
  readonly ready: Promise<void>;
  /** Why the worker threads failed to start, if they did. */
  threadError: string | undefined;
  private disposed = false;
  /** Heap areas of background products (their packed B), by job number, freed once the job is retired. */
  private readonly deferredTemps: { job: number; ptr: number }[] = [];

  /** `threads` > 1 needs a shared heap (`heap.shared`); on a plain heap the engine runs on one thread. */
  constructor(heap: WasmHeap, threads: number) {
    this.heap = heap;
    this.local = createGemm(heap);
    this.rows = createRowKernels(heap);
    this.noteBuffer(heap.memory.buffer);
    this.ready =
      threads > 1 && heap.shared
        ? GemmThreadPool.create({ heap, threads }).then(
            (p) => {
              if (this.disposed) p.dispose();
              else this.pool = p;
            },
            (err: unknown) => {
              this.threadError = err instanceof Error ? err.message : String(err);
            },
          )
        : Promise.resolve();
  }

  /** Threads that run a product now (1 until the pool is up). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Whether the gemm uses relaxed-SIMD FMA. */
  get relaxed(): boolean {
    return this.local.relaxed;
  }

  /** The worker pool's counters (undefined on one thread). */
  get poolStats(): PoolStats | undefined {
    return this.pool?.stats;
  }

  /** Short description: `wasm-simd` (+ `relaxed`) and the thread count in use. */
  get name(): string {
    return `wasm-simd${this.local.relaxed ? '-relaxed' : ''} x${this.threads}`;
  }

  /** In place on this thread: erf of `n` floats at byte address `ptr` (the SIMD `erf_f32`). */
  erfInPlace(ptr: number, n: number): void {
    this.local.instance.erf_f32(ptr, n);
  }

  /**
   * Exact GELU of `n` floats at byte address `src` into `dst` (the same address: in place; the SIMD
   * `gelu_f32`), spans shared by the worker threads once the pool is up (bit-identical to one thread).
   */
  gelu(src: number, dst: number, n: number): void {
    if (this.pool) this.pool.gelu(src, dst, n);
    else geluSpan(this.local, src, dst, 0, n);
  }

  /**
   * out = g · gelu'(x) (exact GELU) over `n` floats at byte addresses (the SIMD `gelu_grad_f32`), spans
   * shared by the worker threads once the pool is up (bit-identical to one thread).
   */
  geluGrad(x: number, g: number, out: number, n: number): void {
    if (this.pool) this.pool.geluGrad(x, g, out, n);
    else this.local.instance.gelu_grad_f32(x, g, out, n);
  }

  /** Records a buffer of the heap's memory (views over it can be passed by pointer). */
  noteBuffer(buffer: ArrayBufferLike): void {
    this.heapBuffers.add(buffer);
  }

  /**
   * A view of `length` floats at byte `address` of the heap's current memory. Views made earlier keep the
   * buffer of their time, which a grown shared memory has outgrown (and a grown plain one has detached).
   */
  f32At(address: number, length: number): Float32Array {
    return new Float32Array(this.heap.memory.buffer, address, length);
  }

  /** {@link WasmMatmulEngine.f32At} for float64 values (`address` a multiple of 8). */
  f64At(address: number, length: number): Float64Array {
    return new Float64Array(this.heap.memory.buffer, address, length);
  }

  /** Byte address in the heap of element `offset` of `data`, or -1 when `data` lives outside the heap. */
  address(data: Float32Array, offset: number): number {
    return this.inHeap(data) ? data.byteOffset + 4 * offset : -1;
  }

  /** Whether `data` views the heap's memory (a view detached by a growth of a plain heap does not). */
  private inHeap(data: Float32Array): boolean {
    if (data.byteLength === 0 && !this.heap.shared) return false;
    return this.heapBuffers.has(data.buffer) || this.heap.ownsBuffer(data.buffer);
  }

  /** Byte address of element `offset` of `data` in the heap, copying into `temps` when it lives outside. */
  private pointer(data: Float32Array, offset: number, length: number, temps: number[]): number {
    if (this.inHeap(data)) return data.byteOffset + 4 * offset;
    const ptr = this.heap.alloc(4 * Math.max(1, length), { zero: false }); // overwritten by the copy
    temps.push(ptr);
    this.heap.f32(ptr, length).set(data.subarray(offset, offset + length));
    return ptr;
  }

  /** Extent in elements that a strided view touches. */
  private static span(v: MatView): number {
    return v.rows === 0 || v.cols === 0 ? 0 : (v.rows - 1) * v.rowStride + (v.cols - 1) * v.colStride + 1;
  }

  /** What determines a packed copy of B besides its storage: element offset, shape and strides. */
  private static viewKey(b: MatView): string {
    return `${b.offset}:${b.rows}x${b.cols}:${b.rowStride},${b.colStride}`;
  }

  private packB(b: MatView, temps: number[], constant: boolean, version: number, generation: number): number {
    // the storage's base: constants are wrapped at the start of their own storage (compile), so the view's
    // typed array starts there and `b.offset` locates the view inside it
    const cacheable = constant && this.inHeap(b.data);
    const base = b.data.byteOffset;
    const key = WasmMatmulEngine.viewKey(b);
    const hit = cacheable ? this.packed.get(base)?.get(key) : undefined;
    if (hit && hit.version === version) return hit.ptr;
    this.packCount++;
    // A stale copy (B updated since) is packed again in its own place: same view, same size.
    // (packB writes every byte of the panel, the zero padding past N included)
    const dst = hit ? hit.ptr : this.heap.alloc(this.local.packedBSize(b.rows, b.cols), { zero: false });
    if (hit) hit.version = -1; // invalid until this packing completes
    const src = this.pointer(b.data, b.offset, WasmMatmulEngine.span(b), temps);
    // a B packed once and cached is packed here; one packed per call (an activation) on all threads
    if (this.pool && !cacheable) this.pool.packB(b.rows, b.cols, src, b.rowStride, b.colStride, dst);
    else this.local.packB(b.rows, b.cols, src, b.rowStride, b.colStride, dst);
    // On a plain heap, a growth during this product detached `b.data` (the backend reruns the kernel with
    // fresh views): never cache what was packed from it.
    if (cacheable && this.heap.generation === generation) {
      if (hit) hit.version = version;
      else {
        let views = this.packed.get(base);
        if (!views) {
          views = new Map();
          this.packed.set(base, views);
        }
        views.set(key, { ptr: dst, version });
      }
    } else if (!hit) temps.push(dst);
    return dst;
  }

  /** Frees the packed copies derived from tensors on the storage starting at `base` (a heap offset). */
  releaseStorage(base: number): void {
    for (const p of this.packed.get(base)?.values() ?? []) this.heap.free(p.ptr);
    this.packed.delete(base);
  }

  /**
   * Whether a product of `work` multiply-adds (M N K) would be deferred if asked (`MatmulOptions.deferred`):
   * with worker threads and at least `minWork` of them.
   */
  defers(work: number, minWork: number): boolean {
    return this.pool !== undefined && this.pool.threads > 1 && work >= minWork;
  }

  /** Deferred products posted and not yet finished by `settle`. */
  get outstanding(): number {
    return this.pool?.outstanding ?? 0;
  }

  /**
   * Finishes every deferred product but the newest `keep` (see `MatmulOptions.deferred`) and frees their
   * temporaries. Throws if one of them failed.
   */
  settle(keep = 0): void {
    const pool = this.pool;
    if (!pool) return;
    try {
      pool.drain(keep);
    } finally {
      const retired = pool.retired;
      const temps = this.deferredTemps;
      let i = 0;
      while (i < temps.length && temps[i].job < retired) this.heap.free(temps[i++].ptr);
      temps.splice(0, i);
    }
  }

  /**
   * Posts C = A B to the pool as a background job when it can run there untouched: A, B and C in the heap,
   * C row-major, no bias, no activation, a B not cached (not constant). Returns whether it did.
   */
  private matmulDeferred(a: MatView, b: MatView, c: MatView, opts: MatmulOptions): boolean {
    const pool = this.pool;
    if (!pool || opts.bias || opts.activation || opts.bConstant) return false;
    if (c.colStride !== 1 || !this.inHeap(a.data) || !this.inHeap(b.data) || !this.inHeap(c.data))
      return false;
    const [m, n, k] = [c.rows, c.cols, a.cols];
    const packed = this.heap.alloc(this.local.packedBSize(k, n), { zero: false }); // pack_b writes it all
    const job = pool.submit(
      {
        M: m,
        N: n,
        K: k,
        aPtr: a.data.byteOffset + 4 * a.offset,
        strideAM: a.rowStride,
        strideAK: a.colStride,
        packedBPtr: packed,
        cPtr: c.data.byteOffset + 4 * c.offset,
        ldc: c.rowStride,
      },
      b.data.byteOffset + 4 * b.offset,
      b.rowStride,
      b.colStride,
    );
    this.packCount++;
    // freed by `settle` once the job is retired (at once if the pool ran it here, on one thread)
    this.deferredTemps.push({ job, ptr: packed });
    return true;
  }

  matmul(a: MatView, b: MatView, c: MatView, opts: MatmulOptions = {}): void {
    const [m, n, k] = [c.rows, c.cols, a.cols];
    if (m === 0 || n === 0) return;
    if (opts.deferred && this.matmulDeferred(a, b, c, opts)) return;
    const temps: number[] = [];
    const generation = this.heap.generation;
    try {
      const aPtr = this.pointer(a.data, a.offset, WasmMatmulEngine.span(a), temps);
      const packedB = this.packB(b, temps, opts.bConstant ?? false, opts.bVersion ?? 0, generation);
      const direct = c.colStride === 1 && this.inHeap(c.data);
      let cPtr: number;
      let ldc: number;
      if (direct) {
        cPtr = c.data.byteOffset + 4 * c.offset;
        ldc = c.rowStride;
      } else {
        cPtr = this.heap.alloc(4 * m * n, { zero: false }); // the product writes every element
        temps.push(cPtr);
        ldc = n;
      }
      const biasPtr = opts.bias ? this.pointer(opts.bias.data, opts.bias.offset, n, temps) : 0;
      const flags = opts.activation === 'gelu' ? GemmFlags.gelu : 0;
      const args = {
        M: m,
        N: n,
        K: k,
        aPtr,
        strideAM: a.rowStride,
        strideAK: a.colStride,
        packedBPtr: packedB,
        cPtr,
        ldc,
        biasPtr,
        flags,
      };
      // A plain heap grew while preparing: pointers taken from the caller's views may be stale. Skip; the
      // backend reruns the kernel on fresh views (see CpuBackend).
      if (this.heap.generation !== generation && !this.heap.shared) return;
      if (this.pool) this.pool.gemm(args);
      else this.local.gemm(args);
      const tanh = opts.activation === 'gelu_tanh';
      if (!direct || tanh) {
        const src = direct ? c.data : this.heap.f32(cPtr, m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            const v = direct ? src[c.offset + i * c.rowStride + j] : src[i * n + j];
            c.data[c.offset + i * c.rowStride + j * c.colStride] = tanh ? activate(v, 'gelu_tanh') : v;
          }
      }
    } finally {
      for (const t of temps) this.heap.free(t);
    }
  }

  /** Stops the worker threads and frees the engine's heap areas. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.settle(0);
    } catch {
      // a failed background product is lost with the engine anyway
    }
    this.pool?.dispose();
    this.pool = undefined;
    for (const base of [...this.packed.keys()]) this.releaseStorage(base);
    this.local.dispose();
  }
}
