// The ONNX Runtime backend. It implements the core's whole-graph capability (`compileGraph`): a traced
// graph is exported to ONNX with @wf/onnx (fixed shapes, so fixed-batch forms such as one grouped Conv per
// DynDWConv; weights as initializers) and becomes one ONNX Runtime session, which runs the whole forward
// pass with the runtime's own kernels, fusions and memory planning (on the CPU provider without the
// fusions that are slower there: CPU_DISABLED_OPTIMIZERS). `compile(graph, backend)` (and so `model.run(backend, x)`) returns that session wrapped as a
// CompiledGraph; each compiled shape has its own session, released by `dispose`.
//
// Eager mode (`eager(backend)`) still works op by op: each op's kernel is a one-node ONNX session, cached
// by op, input types and attributes. Host tensors are plain typed arrays; storage blocks are ArrayBuffers.
import {
  abortReason,
  type Backend,
  BackendError,
  type CompiledGraph,
  type CompileOptions,
  checkGraphInputs,
  type Graph,
  GraphError,
  graphCost,
  type Kernel,
  type KernelRegistry,
  OPS,
  type OpName,
  opsOf,
  opTable,
  planMemory,
  type RunOptions,
  sizeOf,
  type TensorData,
  type TensorType,
  trace,
} from '@wf/core';
import { exportOnnx, lowerForExport } from '@wf/onnx';
import {
  isNode,
  loadOrt,
  type OrtModule,
  type OrtRuntime,
  type OrtSessionLike,
  type OrtTensorLike,
} from './runtime.js';

/** A tensor of the ONNX Runtime backend: host memory (a typed array view of a storage block) and its type. */
export interface OrtHostTensor {
  /** Static type. */
  readonly type: TensorType;
  /** The elements, row-major. */
  readonly data: Float32Array | Int32Array;
}

/** Options of {@link createOrtBackend}. */
export interface OrtBackendOptions {
  /** `node` (onnxruntime-node; the default in Node) or `web` (onnxruntime-web; the default elsewhere). */
  runtime?: OrtRuntime;
  /**
   * ONNX Runtime execution providers in order of preference. Default: `['cpu']` in Node; in browsers
   * `['webgpu', 'wasm']` where WebGPU exists, else `['wasm']`. Others (e.g. `cuda`) where installed.
   */
  executionProviders?: readonly string[];
  /** Intra-op threads (onnxruntime-node) or WebAssembly threads (onnxruntime-web). Default: the runtime's. */
  threads?: number;
  /** ONNX opset of the exported graphs (default 18). */
  opset?: number;
  /**
   * Extra ONNX Runtime session options, merged over the backend's (`extra`, the session config entries,
   * merged key by key: `{ extra: { optimization: { disable_specified_optimizers: '' } } }` turns every
   * fusion back on).
   */
  sessionOptions?: Readonly<Record<string, unknown>>;
  /** An already imported ONNX Runtime package (instead of importing the runtime's). */
  ort?: OrtModule;
}

/** The ONNX Runtime backend: a core Backend with the whole-graph capability. */
export interface OrtBackend extends Backend<OrtHostTensor, ArrayBuffer> {
  /** The ONNX Runtime package in use. */
  readonly ortRuntime: OrtRuntime;
  /** The execution providers sessions are created with. */
  readonly executionProviders: readonly string[];
  /** Sessions open now (compiled graphs not yet disposed, plus cached eager kernels). */
  readonly openSessions: number;
  /** Sessions created since the backend was made. */
  readonly sessionsCreated: number;
  /** Compiles a whole traced graph into one ONNX Runtime session. */
  compileGraph(graph: Graph, options?: CompileOptions): Promise<CompiledGraph>;
}

/**
 * ONNX Runtime graph optimizers the backend turns off on CPU-only onnxruntime-node sessions.
 * SkipLayerNormFusion folds a residual Add into the LayerNormalization after it; on the CPU provider the
 * fused kernel (com.microsoft SkipLayerNormalization, scalar) took several times as long per node as
 * LayerNormalization plus Add did (ONNX Runtime 1.30, WFM-T 224 px: 7 fused nodes, 1-6% of a run; see
 * packages/backend-onnxruntime/README.md). Other providers (CUDA, WebGPU) keep it.
 */
export const CPU_DISABLED_OPTIMIZERS = ['SkipLayerNormFusion'] as const;

type Json = Readonly<Record<string, unknown>>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged into `base` key by key where both hold objects (ONNX Runtime's nested `extra`). */
function mergeDeep(base: Json, over: Json): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(out[k]) && isObject(v) ? mergeDeep(out[k] as Json, v) : v;
  }
  return out;
}

function defaultProviders(runtime: OrtRuntime): string[] {
  if (runtime === 'node') return ['cpu'];
  const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  return gpu ? ['webgpu', 'wasm'] : ['wasm'];
}

/**
 * Creates an ONNX Runtime backend (see the file header). In Node it uses onnxruntime-node on the CPU by
 * default; pass `executionProviders: ['cuda', 'cpu']` where the CUDA provider is installed.
 *
 * @throws Error when the runtime's package cannot be imported.
 */
export async function createOrtBackend(options: OrtBackendOptions = {}): Promise<OrtBackend> {
  const runtime: OrtRuntime = options.runtime ?? (isNode() ? 'node' : 'web');
  if (runtime !== 'node' && runtime !== 'web') {
    throw new BackendError(`unknown ONNX Runtime runtime "${runtime}" (use node or web)`);
  }
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new BackendError(`threads must be a positive integer, got ${options.threads}`);
  }
  const ort = options.ort ?? (await loadOrt(runtime, options.threads));
  const providers = [...(options.executionProviders ?? defaultProviders(runtime))];
  const opset = options.opset;
  const cpuOnly = runtime === 'node' && providers.every((p) => p === 'cpu');
  const sessionOptions = mergeDeep(
    {
      executionProviders: providers,
      graphOptimizationLevel: 'all',
      // Errors only: ONNX Runtime's warnings (e.g. shape ops placed on the CPU beside WebGPU) are not the
      // user's to act on. `sessionOptions: { logSeverityLevel: 2 }` shows them.
      logSeverityLevel: 3,
      ...(runtime === 'node' && options.threads !== undefined
        ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 }
        : {}),
      ...(cpuOnly
        ? { extra: { optimization: { disable_specified_optimizers: CPU_DISABLED_OPTIMIZERS.join(',') } } }
        : {}),
    },
    options.sessionOptions ?? {},
  );
  const open = new Set<OrtSessionLike>();
  let created = 0;
  let disposed = false;
  const name = `ort-${runtime}:${providers.join('+')}`;

  const alive = () => {
    if (disposed) throw new BackendError(`backend ${name} was disposed`);
  };

  async function createSession(model: Uint8Array): Promise<OrtSessionLike> {
    alive();
    let s: OrtSessionLike;
    try {
      s = await ort.InferenceSession.create(model, sessionOptions);
    } catch (err) {
      const why = String((err as Error).message ?? err).split('\n')[0];
      throw new BackendError(
        `ONNX Runtime could not create a session with execution providers ${providers.join(', ')}: ${why}`,
      );
    }
    created++;
    if (disposed) {
      await s.release();
      throw new BackendError(`backend ${name} was disposed`);
    }
    open.add(s);
    return s;
  }

  async function release(s: OrtSessionLike): Promise<void> {
    if (!open.delete(s)) return;
    await s.release();
  }

  const feed = (d: TensorData | OrtHostTensor): OrtTensorLike => {
    const dtype = 'dtype' in d ? d.dtype : d.type.dtype;
    const shape = 'shape' in d ? d.shape : d.type.shape;
    return new ort.Tensor(dtype, d.data, [...shape]);
  };

  async function fetchOutput(t: OrtTensorLike): Promise<Float32Array | Int32Array> {
    const data = t.location && t.location !== 'cpu' && t.getData ? await t.getData() : t.data;
    return data as Float32Array | Int32Array;
  }

  // Eager kernels: one ONNX session per (op, input types, attributes).
  const opSessions = new Map<string, Promise<OrtSessionLike>>();
  function opKernel<K extends OpName>(op: K): Kernel<OrtHostTensor, K> {
    return async (args) => {
      const key = `${op}:${JSON.stringify(args.inputTypes)}:${JSON.stringify(args.attrs)}`;
      let p = opSessions.get(key);
      if (!p) {
        const graph = trace((g) => ({
          output: g.emit(
            op,
            args.inputTypes.map((t, i) => g.input(`i${i}`, t.shape, t.dtype)),
            args.attrs,
          ),
        }));
        p = createSession(exportOnnx(graph, { opset }).model);
        opSessions.set(key, p);
        p.catch(() => opSessions.delete(key));
      }
      const session = await p;
      const feeds: Record<string, OrtTensorLike> = {};
      args.inputs.forEach((t, i) => {
        feeds[`i${i}`] = feed(t);
      });
      const res = await session.run(feeds);
      const out = args.out ?? {
        type: args.type,
        data:
          args.type.dtype === 'int32'
            ? new Int32Array(sizeOf(args.type.shape))
            : new Float32Array(sizeOf(args.type.shape)),
      };
      out.data.set(await fetchOutput(res.output));
      return out;
    };
  }
  // a kernel for every op of the table, primitives and composites alike
  const kernels: KernelRegistry<OrtHostTensor> = opTable(opsOf(OPS), opKernel);

  const backend: OrtBackend = {
    name,
    ortRuntime: runtime,
    runtime: () => ({
      engine: `onnxruntime-${runtime}`,
      threads: options.threads ?? 1,
      ...(options.threads === undefined ? { reason: "threads: the runtime's default" } : {}),
      summary: `onnxruntime-${runtime} (${providers.join('+')}) ${options.threads === undefined ? "with the runtime's default threads" : `x${options.threads}`}`,
    }),
    executionProviders: providers,
    capabilities: {
      zeroCopyViews: false,
      syncRead: true,
      dtypes: ['float32', 'int32'],
      precision: 'float32',
    },
    kernels,
    get openSessions() {
      return open.size;
    },
    get sessionsCreated() {
      return created;
    },
    allocate(bytes) {
      alive();
      return new ArrayBuffer(bytes);
    },
    release() {},
    wrap(storage, type, byteOffset = 0) {
      alive();
      const n = sizeOf(type.shape);
      const data =
        type.dtype === 'int32'
          ? new Int32Array(storage, byteOffset, n)
          : new Float32Array(storage, byteOffset, n);
      return { type, data };
    },
    write(dst, data) {
      alive();
      if (data.data.length !== dst.data.length) {
        throw new BackendError(`write: ${data.data.length} values into a tensor of ${dst.data.length}`);
      }
      dst.data.set(data.data);
    },
    async read(t) {
      return backend.readSync!(t);
    },
    readSync(t) {
      alive();
      const data = t.type.dtype === 'int32' ? Int32Array.from(t.data) : Float32Array.from(t.data);
      return { dtype: t.type.dtype, shape: [...t.type.shape], data };
    },
    async compileGraph(graph: Graph): Promise<CompiledGraph> {
      alive();
      const exp = exportOnnx(graph, { opset });
      const session = await createSession(exp.model);
      const lowered = lowerForExport(graph);
      const inputTypes = new Map([...graph.inputs].map(([k, id]) => [k, graph.nodes[id].type]));
      const outputTypes = new Map([...graph.outputs].map(([k, id]) => [k, graph.nodes[id].type]));
      let done = false;
      let running = false;
      return {
        backend,
        graph: lowered,
        // The IR's plan of the exported graph, for reference: ONNX Runtime plans its own memory.
        plan: planMemory(lowered, { zeroCopyViews: false }),
        inputTypes,
        outputTypes,
        cost: () => graphCost(lowered),
        async run(inputs: Readonly<Record<string, TensorData>>, runOptions: RunOptions = {}) {
          if (done) throw new GraphError('this compiled graph was disposed');
          alive();
          if (running) {
            throw new GraphError(
              'this compiled graph is already running; await the previous run or compile another',
            );
          }
          checkGraphInputs(inputTypes, inputs);
          const { signal } = runOptions;
          if (signal?.aborted) throw abortReason(signal);
          running = true;
          try {
            const feeds: Record<string, OrtTensorLike> = {};
            for (const k of inputTypes.keys()) feeds[k] = feed(inputs[k]);
            const res = await session.run(feeds);
            if (signal?.aborted) throw abortReason(signal);
            const out: Record<string, TensorData> = {};
            for (const [k, type] of outputTypes) {
              out[k] = { dtype: type.dtype, shape: [...type.shape], data: await fetchOutput(res[k]) };
            }
            return out;
          } finally {
            running = false;
          }
        },
        dispose() {
          if (done) return;
          done = true;
          void release(session);
        },
      };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of open) void s.release();
      open.clear();
      opSessions.clear();
    },
  };
  return backend;
}
