// The backend interface: everything a backend must provide for @wf/core to compile and run graphs on it.
// A backend owns device storage and a registry of kernels keyed by op name. It must implement every
// primitive of the op table (OPS entries whose kind is not 'composite'); it may also register kernels for
// composites (fused kernels), which the compiler then uses instead of the composite's lowering.
//
// Memory: the compiler plans storage from liveness and asks the backend for a few storage blocks
// (`allocate`), then wraps regions of them as tensors (`wrap`). A kernel writes its result into the
// preallocated `out` tensor it is given. On a backend with `zeroCopyViews`, view ops (reshape, permute,
// slice) may instead be called with `out` undefined and must return a view that aliases their input; such
// backends' kernels must accept strided (non-contiguous) inputs.
//
// Readback is asynchronous (`read` returns a Promise); a backend that can also read synchronously
// implements `readSync`.
//
// Whole graphs: a backend that runs a complete graph itself (an inference engine such as ONNX Runtime)
// implements `compileGraph`; `compile` then hands it the traced graph and returns what it builds, and the
// per-op members serve eager mode only.
import type { CompiledGraph, CompileOptions } from './graph/compile.js';
import type { Graph } from './graph/graph.js';
import type { OpAttrs, OpName } from './ir/ops.js';
import type { DType, TensorData, TensorType } from './ir/types.js';

/** What a backend can do; the compiler and tests consult this instead of the backend's name. */
export interface BackendCapabilities {
  /** View ops may alias their input's storage (strided tensors), so they cost no copy. */
  readonly zeroCopyViews: boolean;
  /** `readSync` is available. */
  readonly syncRead: boolean;
  /** Element types the backend stores. */
  readonly dtypes: readonly DType[];
  /** Float precision of the kernels' arithmetic, for tolerances in tests. */
  readonly precision: 'float32' | 'float64';
  /**
   * `wrap` accepts a byte offset inside a storage block, so the compiler can place all intermediates in one
   * arena (tighter than one block per reuse slot). Default false.
   */
  readonly subAllocation?: boolean;
}

/** Arguments a kernel is called with. */
export interface KernelArgs<T, K extends OpName = OpName> {
  /** Input tensors, in op order. */
  readonly inputs: readonly T[];
  /** Static types of the inputs. */
  readonly inputTypes: readonly TensorType[];
  /** Static type of the output. */
  readonly type: TensorType;
  /** The op's attributes. */
  readonly attrs: OpAttrs<K>;
  /** Preallocated output to write; undefined only for view ops on zeroCopyViews backends (return an alias). */
  readonly out: T | undefined;
  /**
   * Which inputs are graph constants or parameters (weights): their contents change only between runs, so
   * a kernel may cache derived data (packed or uploaded copies) of them, valid while the input's entry of
   * `versions` stays the same. Absent in eager mode.
   */
  readonly constants?: readonly boolean[];
  /**
   * Per input, the version of its contents: a parameter's version (it grows on every update), 0 for
   * everything else. A cache of data derived from a constant input must be rebuilt when this differs from
   * the version it was made at. Absent when no input is a parameter (then every constant is at version 0).
   */
  readonly versions?: readonly number[];
}

/** A kernel: computes one op, writing `out` (or returning a view) and returning the output tensor. */
export type Kernel<T, K extends OpName = OpName> = (args: KernelArgs<T, K>) => T | Promise<T>;

/** Kernels keyed by op name. Primitives are required; composite entries are optional fused kernels. */
export type KernelRegistry<T> = { readonly [K in OpName]?: Kernel<T, K> };

/**
 * A compute backend. `T` is the backend's tensor handle, `S` its storage block.
 * Implementations: `@wf/backend-cpu` (`createCpuBackend`), `@wf/backend-gpujs`.
 */
export interface Backend<T = unknown, S = unknown> {
  /** Short name shown in logs and benchmarks, e.g. `cpu` or `gpujs:webgl2`. */
  readonly name: string;
  /** What the backend supports. */
  readonly capabilities: BackendCapabilities;
  /** Kernels by op name. */
  readonly kernels: KernelRegistry<T>;
  /**
   * Optional: whether the fused kernel this backend registers for composite `op` takes this application
   * (its attributes and input types), e.g. DynLinear only for the bilateral strategy. Lowering consults it
   * (`fusedKernelFilter`): an application it declines runs as the composite's lowering on the backend's
   * other kernels, so a fused kernel never needs a fallback of its own. Absent: a registered fused kernel
   * takes every application.
   */
  fuses?<K extends OpName>(op: K, attrs: OpAttrs<K>, inputTypes: readonly TensorType[]): boolean;
  /** Allocates a storage block of at least `bytes` bytes, zero-filled. */
  allocate(bytes: number): S;
  /** Frees a storage block (idempotent). */
  release(storage: S): void;
  /**
   * Optional: the value in `storage` is dead until the next write to it. Compiled graphs call this after
   * a value's last use (never for inputs, constants or outputs). A backend that allocates memory per
   * value rather than per storage block (gpu.js textures) frees it here, so the device holds no more than
   * the live set; one that owns its blocks' memory leaves this out.
   */
  discard?(storage: S): void;
  /**
   * A dense row-major tensor of `type` in `storage`, at `byteOffset` (always 0 unless
   * `capabilities.subAllocation`; then a multiple of 64).
   */
  wrap(storage: S, type: TensorType, byteOffset?: number): T;
  /** Overwrites a dense tensor's contents with host data of the same type and size. */
  write(dst: T, data: TensorData): void;
  /** Reads a tensor back to the host as dense row-major data. */
  read(t: T): Promise<TensorData>;
  /** Synchronous readback, where `capabilities.syncRead`. */
  readSync?(t: T): TensorData;
  /**
   * Optional whole-graph capability: compiles a complete traced graph (composites not lowered) into one
   * executable of the backend's own, e.g. an ONNX Runtime session. When present, `compile(graph, backend)`
   * returns this instead of planning memory and calling kernels op by op; the result must honour the
   * `CompiledGraph` contract (named inputs and outputs, one run at a time, `dispose` frees it).
   */
  compileGraph?(graph: Graph, options?: CompileOptions): Promise<CompiledGraph>;
  /** Frees everything the backend holds; later calls fail with a BackendError. Idempotent. */
  dispose(): void;
  /**
   * Optional: resolves when the backend runs at full speed (e.g. its worker threads are up). `compile`
   * awaits it, so every caller gets the full backend from the first run. Must not reject.
   */
  readonly ready?: Promise<void>;
  /** Optional: what actually runs (engine, threads, and why), for logs, `wf run --json` and benchmarks. */
  runtime?(): BackendRuntime;
}

/** What a backend actually runs, from `Backend.runtime()`. */
export interface BackendRuntime {
  /** The engine, e.g. `wasm-simd`, `js`, `plain`, `webgl2`. */
  readonly engine: string;
  /** Threads a kernel runs on now. */
  readonly threads: number;
  /** Why the engine or thread count is not the best this backend has (absent when it is). */
  readonly reason?: string;
  /** One line, e.g. `wasm-simd x1: page not cross-origin isolated`. */
  readonly summary: string;
}

/** Any backend, whatever its handle types. */
// biome-ignore lint/suspicious/noExplicitAny: handle types are opaque to the core
export type AnyBackend = Backend<any, any>;
