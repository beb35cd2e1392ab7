// The backend interface: everything a backend must provide for @wf/core to compile and run graphs on it.
// A backend owns device storage and a registry of kernels keyed by op name. It must implement every
// primitive of the op table (OPS entries whose kind is not 'composite'); it may also register kernels for
// composites (fused kernels), which the compiler then uses instead of the composite's lowering. The
// registry type (`KernelRegistry`) says so: a registry without a primitive does not compile, and each
// kernel's `args.attrs` is typed from its op (build tables with `defineKernels`, `opTable`).
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
import type { CompositeOp, OpAttrs, OpName, PrimitiveOp } from './ir/ops.js';
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
  /**
   * The kernel may leave its output unfinished when it returns, to be completed by `Backend.settle`: set
   * only for ops the backend accepted with `Backend.defers`, in compiled runs, which keep the inputs and
   * the output untouched until then. A kernel may ignore it (and compute the output at once).
   */
  readonly deferred?: boolean;
}

/** A kernel: computes one op, writing `out` (or returning a view) and returning the output tensor. */
export type Kernel<T, K extends OpName = OpName> = (args: KernelArgs<T, K>) => T | Promise<T>;

/**
 * Kernels for exactly the ops `K`, each typed by its own key: the `layer_norm` entry is a
 * `Kernel<T, 'layer_norm'>`, whose `args.attrs` is `{ eps: number }`. Every op of `K` is required.
 */
export type KernelTable<T, K extends OpName = OpName> = { readonly [P in K]: Kernel<T, P> };

/** Kernels for any subset of the ops, each typed by its own key: a piece of a registry. */
export type PartialKernels<T> = { readonly [K in OpName]?: Kernel<T, K> };

/** Fused kernels: kernels for any subset of the composites, each typed by its own key. */
export type FusedKernels<T> = { readonly [K in CompositeOp]?: Kernel<T, K> };

/**
 * Kernels keyed by op name, each typed by its key. Every primitive is required, so a backend whose
 * registry lacks one fails to compile; composite entries are optional fused kernels. (Registries built at
 * run time are still checked by `missingKernels` and `unimplementedPrimitives`.)
 */
export type KernelRegistry<T> = KernelTable<T, PrimitiveOp> & FusedKernels<T>;

/**
 * The kernel `registry` has for op `K`, typed for `K`; undefined for a composite without a fused kernel
 * (and, in a registry built at run time, for anything missing).
 */
export function kernelOf<T, K extends OpName>(registry: KernelRegistry<T>, op: K): Kernel<T, K> | undefined {
  // every registry is a PartialKernels, which a generic op indexes as Kernel<T, K>
  const kernels: PartialKernels<T> = registry;
  return kernels[op];
}

/**
 * Checks a piece of a kernel registry and keeps its exact keys, so pieces spread into a
 * `KernelRegistry<T>` prove that every primitive is there. Each entry's `args` (and so `args.attrs`) is
 * typed from its key; a key that is not an op is an error.
 *
 * @example
 * const normKernels = defineKernels<CpuTensor>()({
 *   layer_norm: (args) => layerNorm(args.inputs, args.attrs.eps), // attrs: { eps: number }
 * });
 */
export function defineKernels<T>(): <const R extends PartialKernels<T>>(
  table: R & { readonly [X in Exclude<keyof R, OpName>]: never },
) => NoInfer<R> {
  return (table) => table;
}

/**
 * A table with one entry `make(op)` per op of `ops`, keyed by op. Builds the kernels of a family of ops
 * from one factory (the unary ops, the reductions) without losing the keys: a kernel for the whole
 * family `K` is a kernel for each of its ops, so the result is a `KernelTable<T, K>` when `make` returns
 * `Kernel<T, K>`.
 */
export function opTable<K extends OpName, V>(
  ops: readonly K[],
  make: (op: K) => V,
): { readonly [P in K]: V } {
  const table: Partial<Record<K, V>> = {};
  for (const op of ops) table[op] = make(op);
  // every op of `ops` has its entry now, and `ops` names every key of K (its type says so)
  return table as { readonly [P in K]: V };
}

/** The ops a kernel table (or any table keyed by op) has entries for, in its key order. */
export function opsOf<R extends object>(table: R): (keyof R & OpName)[] {
  // Object.keys is typed string[]; the keys of a table keyed by op are op names
  return Object.keys(table) as (keyof R & OpName)[];
}

/**
 * The registry with every kernel replaced by `wrap(op, kernel)` (same keys), e.g. to guard each kernel
 * with a check before and after it runs.
 */
export function wrapKernels<T>(
  registry: KernelRegistry<T>,
  wrap: <K extends OpName>(op: K, kernel: Kernel<T, K>) => Kernel<T, K>,
): KernelRegistry<T> {
  const out: Record<string, unknown> = {};
  for (const op of opsOf(registry)) {
    const kernel = kernelOf(registry, op);
    if (kernel) out[op] = wrap(op, kernel);
  }
  // same keys as `registry`, each kernel wrapped for its own op
  return out as KernelRegistry<T>;
}

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
  /**
   * Optional: whether this backend would like to finish this application of `op` later (its kernel is then
   * called with `deferred: true`). A compiled graph asks it only for ops whose output is a graph output
   * that no other op reads (a weight gradient), so the backend can overlap them with the rest of the run
   * (the cpu backend runs such matrix products on a worker thread meanwhile). The graph keeps each deferred
   * op's inputs alive until `DEFERRED_OUTSTANDING` (6) more deferred ops have started, and calls
   * `settle` before starting one with that many outstanding, and with 0 before reading outputs.
   */
  defers?<K extends OpName>(
    op: K,
    attrs: OpAttrs<K>,
    inputTypes: readonly TensorType[],
    type: TensorType,
  ): boolean;
  /**
   * Finishes every deferred op but the newest `outstanding` ones (0: all of them), throwing if one of them
   * failed. Required with `defers`.
   */
  settle?(outstanding: number): void;
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
   * Optional: reads a tensor back into `dst` (host data of its dtype and shape, checked by the caller)
   * without allocating. Without it, runs given output buffers (`RunOptions.outputs`) `read` and copy.
   */
  readInto?(t: T, dst: TensorData): void | Promise<void>;
  /**
   * Optional: a dense tensor's contents as host data that views the backend's own memory (no copy), or
   * undefined where it cannot (a strided view, memory the host cannot see or that may move). Runs with
   * `RunOptions.borrow` return outputs this way.
   */
  borrow?(t: T): TensorData | undefined;
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
