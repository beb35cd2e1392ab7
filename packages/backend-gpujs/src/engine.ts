// One gpu.js `GPU` instance in one mode, seen as a device: it runs generated kernel sources over flat
// float32 values, uploads host arrays and reads values back. Every kernel is compiled once per (source,
// output size) and cached; kernels run in pipeline mode with immutable outputs, so each call yields a new
// device value (a GL texture, a WebGPU buffer handle, or a Float32Array on webasm/cpu) that the caller owns
// and frees. WebGPU (and webasm with worker threads) return Promises; the other modes are synchronous.
import type { GpuJsInstance, GpuJsKernel, GpuJsLib } from './gpujs.js';
import type { ConcreteMode } from './modes.js';

/** A value resident on an engine's device: a GL texture, a WebGPU buffer handle or a Float32Array. */
export type DeviceValue = unknown;

/** Something that may be a Promise. */
export type MaybePromise<T> = T | Promise<T>;

/** Texture-like handles (GL textures, WebGPU buffer results) of gpu.js pipeline mode. */
interface PipelineHandle {
  toArray(): unknown;
  delete(): void;
}

/** Raised when gpu.js cannot compile or run a generated kernel; carries the source for debugging. */
export class KernelBuildError extends Error {
  /** The kernel source that failed. */
  readonly source: string;
  constructor(mode: string, source: string, cause: unknown) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`gpu.js ${mode} could not compile or run a kernel: ${msg.split('\n')[0]}`, { cause });
    this.name = 'KernelBuildError';
    this.source = source;
  }
}

/** Chains `f` after `v`, staying synchronous when `v` is not a Promise. */
export function chain<T, U>(v: MaybePromise<T>, f: (t: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/**
 * Runs `run`; when it throws, or the Promise it returns rejects, calls `cleanup` before passing the error
 * on (synchronously when `run` is synchronous).
 */
export function onFailure<T>(run: () => MaybePromise<T>, cleanup: () => void): MaybePromise<T> {
  try {
    const r = run();
    return r instanceof Promise
      ? r.catch((e) => {
          cleanup();
          throw e;
        })
      : r;
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Resolves an array of maybe-Promises, synchronously when none is a Promise. */
export function all<T>(vs: readonly MaybePromise<T>[]): MaybePromise<T[]> {
  return vs.some((v) => v instanceof Promise) ? Promise.all(vs) : (vs as T[]);
}

function isHandle(v: unknown): v is PipelineHandle {
  return typeof v === 'object' && v !== null && typeof (v as PipelineHandle).delete === 'function';
}

function flatten(v: unknown, size: number): Float32Array {
  if (v instanceof Float32Array) return v.length === size ? v : v.subarray(0, size);
  if (Array.isArray(v) && v[0] instanceof Float32Array) {
    // rows of a 2-D result: a view when they are consecutive slices of one buffer (webasm), else a copy
    const first = v[0] as Float32Array;
    const last = v[v.length - 1] as Float32Array;
    if (
      last.buffer === first.buffer &&
      last.byteOffset === first.byteOffset + (v.length - 1) * first.byteLength &&
      first.length * v.length === size
    ) {
      return new Float32Array(first.buffer, first.byteOffset, size);
    }
  }
  const out = new Float32Array(size);
  let at = 0;
  const walk = (x: unknown) => {
    if (typeof x === 'number') out[at++] = x;
    else for (const y of x as Iterable<unknown>) if (at < size) walk(y);
  };
  walk(v);
  return out;
}

/** Options of an engine. */
export interface EngineOptions {
  /** webasm: split large kernels across a worker pool (async contract). */
  threads?: boolean;
}

/** A gpu.js instance in one mode, with a kernel cache. */
export class Engine {
  /** The gpu.js mode kernels run in. */
  readonly mode: ConcreteMode;
  /** Whether `run`, `upload` and `download` return Promises. */
  readonly async: boolean;
  /** Whether values are host Float32Arrays (webasm, cpu). */
  readonly hostValues: boolean;
  /** Whether values are GL textures (webgl2, webgl, headlessgl). */
  readonly gl: boolean;
  /** Device values held now (through `DeviceBuffer`s), and their bytes; the peak since the last reset. */
  readonly memory = { values: 0, bytes: 0, peakBytes: 0 };
  private readonly gpu: GpuJsInstance;
  private readonly kernels = new Map<string, GpuJsKernel>();
  private readonly threads: boolean;
  private destroyed = false;

  constructor(lib: GpuJsLib, mode: ConcreteMode, options: EngineOptions = {}) {
    this.mode = mode;
    this.gpu = new lib.GPU({ mode });
    this.threads = mode === 'webasm' && !!options.threads;
    this.async = mode === 'webgpu' || this.threads;
    this.hostValues = mode === 'webasm' || mode === 'cpu';
    this.gl = mode === 'webgl2' || mode === 'webgl' || mode === 'headlessgl';
  }

  /** Counts a device value of `bytes` bytes as held (`sign` 1) or freed (`sign` -1). */
  track(bytes: number, sign: 1 | -1): void {
    const m = this.memory;
    m.values += sign;
    m.bytes += sign * bytes;
    if (m.bytes > m.peakBytes) m.peakBytes = m.bytes;
  }

  /** Number of compiled kernels held. */
  get kernelCount(): number {
    return this.kernels.size;
  }

  /**
   * Cache key of a kernel: its output size and source, plus the size of every array argument. Kernels are
   * built for fixed argument sizes (cpu and webasm for host-array lengths; GL shaders bake in the texture
   * sizes), and one source can read arguments of several sizes, e.g. the same slice of a 3- and a 6-element
   * tensor.
   */
  private key(source: string, size: number, output: readonly number[] | undefined, args: readonly unknown[]) {
    const lengths = args
      .map((a) => {
        if (ArrayBuffer.isView(a)) return String((a as Float32Array).length);
        const t = a as { size?: readonly number[]; output?: readonly number[] } | null;
        return t && typeof t === 'object' ? `${t.size?.join('x') ?? ''}/${t.output?.join('x') ?? ''}` : '';
      })
      .join(',');
    return `${output ? output.join('x') : size}|${lengths}|${source}`;
  }

  private kernel(
    source: string,
    size: number,
    output: readonly number[] | undefined,
    args: readonly unknown[],
  ): GpuJsKernel {
    const key = this.key(source, size, output, args);
    let k = this.kernels.get(key);
    if (!k) {
      k = this.gpu.createKernel(source, {
        output: output ? [...output] : [size],
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        loopMaxIterations: 1 << 24,
        ...(this.async ? { asyncMode: true } : {}),
      });
      this.kernels.set(key, k);
    }
    return k;
  }

  /**
   * Runs `source` (a gpu.js kernel function source over flat arrays) for `size` output cells on `args`
   * (values of this engine). Throws (or rejects with) a KernelBuildError when gpu.js cannot compile it,
   * or when gpu.js silently degraded the kernel to another backend.
   */
  run(
    source: string,
    size: number,
    args: readonly DeviceValue[],
    output?: readonly number[],
  ): MaybePromise<DeviceValue> {
    const fail = (e: unknown): never => {
      const key = this.key(source, size, output, args);
      const k = this.kernels.get(key);
      this.kernels.delete(key);
      try {
        k?.destroy();
      } catch {
        // a kernel that failed to build may not destroy cleanly
      }
      throw e instanceof KernelBuildError ? e : new KernelBuildError(this.mode, source, e);
    };
    let k: GpuJsKernel;
    let r: unknown;
    if (this.gl && output && output.length > 1) {
      // GL kernels bake argument texture sizes in: every value of one length must share one layout
      throw new KernelBuildError(
        this.mode,
        source,
        new Error(`internal: a [${output}] launch planned on GL`),
      );
    }
    try {
      k = this.kernel(source, size, output, args);
      r = k(...args);
    } catch (e) {
      return fail(e);
    }
    const check = (v: unknown) => {
      // gpu.js degrades kernels it cannot take to its cpu backend (GL kernels report mode 'gpu')
      const ran = k.kernel.constructor.mode;
      if (ran === 'cpu' && this.mode !== 'cpu') {
        return fail(
          new Error(`gpu.js ran the kernel on ${ran}: ${k.kernel.fallbackReason ?? 'unsupported'}`),
        );
      }
      // host results of 2-D kernels come back as rows: keep values flat
      return this.hostValues && !(v instanceof Float32Array) ? flatten(v, size) : v;
    };
    return r instanceof Promise ? r.then(check, fail) : check(r);
  }

  /** Puts host data on the device. */
  upload(data: Float32Array): MaybePromise<DeviceValue> {
    if (this.hostValues) return data.slice();
    return this.run('function(a) { return a[this.thread.x]; }', data.length, [data]);
  }

  /** Reads `size` values of a device value back to the host (a fresh or owned array). */
  download(value: DeviceValue, size: number): MaybePromise<Float32Array> {
    if (value instanceof Float32Array) return value.length === size ? value : value.subarray(0, size);
    if (!isHandle(value)) throw new Error(`gpu.js ${this.mode}: cannot read back ${String(value)}`);
    const arr = value.toArray();
    return arr instanceof Promise ? arr.then((a) => flatten(a, size)) : flatten(arr, size);
  }

  /** Frees a device value. */
  free(value: DeviceValue): void {
    if (isHandle(value)) value.delete();
  }

  /** The WebGL context of the GL modes (from a compiled kernel), for renderer queries. */
  glContext(): unknown {
    for (const k of this.kernels.values()) {
      const ctx = (k.kernel as { context?: unknown }).context;
      if (ctx) return ctx;
    }
    return undefined;
  }

  /** Destroys every kernel and the gpu.js instance. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.kernels.clear();
    await this.gpu.destroy();
  }
}
