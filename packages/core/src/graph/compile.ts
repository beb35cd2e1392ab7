// Compiles a traced graph for one backend, once: lowers composites the backend does not fuse, checks
// that every op has a kernel, plans memory from liveness, allocates the planned storage, uploads the
// constants, and returns an executable that runs many times without allocating new storage. Parameters
// are not copied into the graph: it reads the backend's one copy of each (shared with every other graph
// compiled for that backend), brought up to date at the start of each run when the parameter's version
// moved on; kernels get that version, so caches of derived data follow updates. Ops the backend defers
// (`Backend.defers`: weight-gradient products it overlaps with the rest of the run) are settled at most
// DEFERRED_OUTSTANDING at a time, and all of them before the outputs are read or the run fails.
import type { AnyBackend, Kernel } from '../backend.js';
import { BackendError, fmtShape, GraphError, WfError } from '../errors.js';
import { OPS, type OpName } from '../ir/ops.js';
import { bytesOf, sameShape, sizeOf, type TensorData, type TensorType } from '../ir/types.js';
import { type GraphCost, graphCost } from './cost.js';
import { fuseActivations } from './fuse.js';
import type { Graph } from './graph.js';
import { fusedKernelFilter, lowerGraph } from './lower.js';
import { parameterStorage, type ResidentParameter } from './parameter-storage.js';
import { DEFERRED_OUTSTANDING, type MemoryPlan, planMemory } from './plan.js';
import { yieldToEventLoop } from './yield.js';

/** Options of `compile`. */
export interface CompileOptions {
  /** Use the backend's fused kernels for composites it registers (default true); false runs lowerings. */
  fuse?: boolean;
}

/** Options of one run. */
export interface RunOptions {
  /**
   * Aborts the run between ops; the promise rejects with the signal's reason. With a signal, a run on a
   * synchronous backend also yields to the event loop every {@link YIELD_EVERY_MS} ms, so timers (e.g.
   * `AbortSignal.timeout`) and UI events can fire during it.
   */
  signal?: AbortSignal;
  /**
   * Host buffers to read outputs into, by output name (any of them; each of the output's dtype and
   * shape). The run writes each such output into its buffer and returns that buffer instead of a new
   * array, so a loop that passes the same buffers every run allocates nothing for them: a training step's
   * gradients are megabytes a step, and allocating them anew costs their zeroing and garbage collection.
   */
  outputs?: Readonly<Record<string, TensorData>>;
  /**
   * Return outputs (those without a buffer in `outputs`) as views of the backend's memory where the backend
   * can (`Backend.borrow`: the cpu backend on a shared or JavaScript heap), not as copies. Such a view is
   * valid until this graph runs again or is disposed; writing to it changes nothing else (only planned
   * intermediates are lent, never inputs, constants or parameters, and no two outputs share memory).
   * Other outputs are copied as usual.
   */
  borrow?: boolean;
}

/** A graph compiled for a backend: run it as often as needed, then dispose it. */
export interface CompiledGraph {
  /** The backend it runs on. */
  readonly backend: AnyBackend;
  /** The lowered graph that actually runs. */
  readonly graph: Graph;
  /** The memory plan of the intermediates. */
  readonly plan: MemoryPlan;
  /** Named inputs and their types. */
  readonly inputTypes: ReadonlyMap<string, TensorType>;
  /** Named outputs and their types. */
  readonly outputTypes: ReadonlyMap<string, TensorType>;
  /** FLOPs and bytes of the lowered graph. */
  cost(): GraphCost;
  /** Runs the graph; resolves to every output as host data. */
  run(
    inputs: Readonly<Record<string, TensorData>>,
    options?: RunOptions,
  ): Promise<Record<string, TensorData>>;
  /**
   * Frees the planned storage and constants, and gives back its hold on the backend's parameter copies
   * (freed with the last graph that reads them). Idempotent; running afterwards throws.
   */
  dispose(): void;
}

interface Step {
  readonly id: number;
  readonly op: OpName;
  readonly kernel: Kernel<unknown>;
  readonly inputs: readonly number[];
  readonly inputTypes: readonly TensorType[];
  readonly type: TensorType;
  readonly attrs: unknown;
  readonly out: unknown;
  readonly constants: readonly boolean[];
  /** Per input, the resident parameter it reads (undefined for others); absent when it reads none. */
  readonly params?: readonly (ResidentParameter | undefined)[];
  /** Storage blocks whose values die at this step (handed to `backend.discard` after it). */
  readonly dead: readonly unknown[];
  /** The backend may finish this op late (`KernelArgs.deferred`). */
  readonly deferred: boolean;
}

/**
 * What is wrong with host data `d` where `type` is expected (none, or one message): its dtype and shape
 * (`<what> is <dtype+shape>, <expected> <type>`), else its element count.
 */
function typeProblem(what: string, d: TensorData, type: TensorType, expected: string): string[] {
  if (!sameShape(d.shape, type.shape) || d.dtype !== type.dtype)
    return [`${what} is ${d.dtype}${fmtShape(d.shape)}, ${expected} ${type.dtype}${fmtShape(type.shape)}`];
  if (d.data.length !== sizeOf(type.shape))
    return [`${what} has ${d.data.length} values for shape ${fmtShape(type.shape)}`];
  return [];
}

/**
 * Checks `RunOptions.outputs` against a compiled graph's output types: every name an output, with its dtype,
 * shape and element count.
 *
 * @throws {GraphError} naming every problem, in one line.
 */
export function checkRunOutputs(
  outputTypes: ReadonlyMap<string, TensorType>,
  outputs: Readonly<Record<string, TensorData>> | undefined,
): void {
  if (!outputs) return;
  const problems: string[] = [];
  for (const [name, d] of Object.entries(outputs)) {
    const type = outputTypes.get(name);
    if (!type) problems.push(`no output named "${name}" to read into`);
    else problems.push(...typeProblem(`output buffer "${name}"`, d, type, 'the output is'));
  }
  if (problems.length) throw new GraphError(problems.join('; '));
}

/** Copies host data into a checked output buffer of the same type (see `RunOptions.outputs`). */
function copyInto(dst: TensorData, src: TensorData): TensorData {
  (dst.data as Float32Array).set(src.data as Float32Array);
  return dst;
}

/** Ops of `graph` (after lowering) that `backend` has no kernel for. */
export function missingKernels(graph: Graph, backend: AnyBackend): OpName[] {
  const ops = new Set<OpName>();
  for (const n of graph.nodes)
    if (n.op !== 'input' && n.op !== 'const' && !backend.kernels[n.op]) ops.add(n.op);
  return [...ops];
}

/** How long a run with an `AbortSignal` may keep the event loop busy before it yields (milliseconds). */
export const YIELD_EVERY_MS = 20;

/** Why a run stopped on `signal`: its reason, or a WfError `E_ABORTED` when it gave none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new WfError('E_ABORTED', 'run aborted');
}

/**
 * Checks run inputs against a compiled graph's input types: every input present, with the traced dtype,
 * shape and element count, and nothing extra.
 *
 * @throws {GraphError} naming every problem, in one line.
 */
export function checkGraphInputs(
  inputTypes: ReadonlyMap<string, TensorType>,
  inputs: Readonly<Record<string, TensorData>>,
): void {
  const problems: string[] = [];
  for (const [name, type] of inputTypes) {
    const d = inputs[name];
    if (!d) problems.push(`missing input "${name}" ${type.dtype}${fmtShape(type.shape)}`);
    else problems.push(...typeProblem(`input "${name}"`, d, type, 'the graph was traced for'));
  }
  for (const name of Object.keys(inputs))
    if (!inputTypes.has(name)) problems.push(`unexpected input "${name}"`);
  if (problems.length) throw new GraphError(problems.join('; '));
}

/**
 * Compiles `graph` for `backend` (see the file header). A backend with the whole-graph capability
 * (`backend.compileGraph`) compiles the graph itself.
 */
export async function compile(
  graph: Graph,
  backend: AnyBackend,
  options: CompileOptions = {},
): Promise<CompiledGraph> {
  // Backends with worker threads start them asynchronously: wait, so that the first run has them all.
  if (backend.ready) await backend.ready;
  if (backend.compileGraph) return compileWhole(graph, backend, options);
  const fuse = options.fuse ?? true;
  const lowered = lowerGraph(fuse ? fuseActivations(graph) : graph, fusedKernelFilter(backend, fuse));
  const missing = missingKernels(lowered, backend);
  if (missing.length)
    throw new BackendError(`backend ${backend.name} has no kernel for: ${missing.join(', ')}`);
  for (const n of lowered.nodes) {
    if (!backend.capabilities.dtypes.includes(n.type.dtype)) {
      throw new BackendError(
        `backend ${backend.name} does not store ${n.type.dtype} (node %${n.id} ${n.op})`,
      );
    }
  }
  const defers = backend.defers && backend.settle ? backend.defers.bind(backend) : undefined;
  const plan = planMemory(lowered, {
    zeroCopyViews: backend.capabilities.zeroCopyViews,
    defer: defers
      ? (n) =>
          n.op !== 'input' &&
          n.op !== 'const' &&
          defers(
            n.op,
            n.attrs as never,
            n.inputs.map((i) => lowered.nodes[i].type),
            n.type,
          )
      : undefined,
  });
  const deferredIds = new Set(plan.deferred);
  const storages: unknown[] = [];
  const alloc = (bytes: number) => {
    const s = backend.allocate(Math.max(bytes, 4));
    storages.push(s);
    return s;
  };
  const arena = backend.capabilities.subAllocation ?? false;
  const slots = arena ? [alloc(plan.arenaBytes)] : plan.slotBytes.map(alloc);
  const values: unknown[] = new Array(lowered.nodes.length);
  const steps: Step[] = [];
  const store = parameterStorage(backend);
  const resident: (ResidentParameter | undefined)[] = new Array(lowered.nodes.length);
  const held: ResidentParameter[] = [];
  // Backends that allocate per value free each intermediate right after its last reader.
  const discard = !arena && backend.discard ? backend.discard.bind(backend) : undefined;
  const dead: unknown[][] = lowered.nodes.map(() => []);
  if (discard) {
    for (const n of lowered.nodes) {
      const last = plan.lastUse[n.id];
      if (plan.kind[n.id] === 'slot' && last < lowered.nodes.length) dead[last].push(slots[plan.slot[n.id]]);
    }
  }
  for (const n of lowered.nodes) {
    if (n.op === 'const' && n.param) {
      const r = store.acquire(n.param);
      held.push(r);
      resident[n.id] = r;
      values[n.id] = r.tensor;
      continue;
    }
    if (n.op === 'input' || n.op === 'const') {
      values[n.id] = backend.wrap(alloc(bytesOf(n.type)), n.type);
      if (n.op === 'const') backend.write(values[n.id], n.data!);
      continue;
    }
    const kind = plan.kind[n.id];
    steps.push({
      id: n.id,
      op: n.op,
      // a graph node's op and attrs are not correlated in its type, so the step holds its kernel untyped
      kernel: backend.kernels[n.op] as Kernel<unknown>,
      inputs: n.inputs,
      inputTypes: n.inputs.map((i) => lowered.nodes[i].type),
      type: n.type,
      attrs: n.attrs,
      out:
        kind !== 'slot'
          ? undefined
          : arena
            ? backend.wrap(slots[0], n.type, plan.arenaOffset[n.id])
            : backend.wrap(slots[plan.slot[n.id]], n.type),
      constants: n.inputs.map((i) => lowered.nodes[plan.root[i]].op === 'const'),
      params: n.inputs.some((i) => resident[plan.root[i]])
        ? n.inputs.map((i) => resident[plan.root[i]])
        : undefined,
      dead: dead[n.id],
      deferred: deferredIds.has(n.id),
    });
  }
  const inputTypes = new Map([...lowered.inputs].map(([k, id]) => [k, lowered.nodes[id].type]));
  const outputTypes = new Map([...lowered.outputs].map(([k, id]) => [k, lowered.nodes[id].type]));
  let disposed = false;
  let running = false;

  return {
    backend,
    graph: lowered,
    plan,
    inputTypes,
    outputTypes,
    cost: () => graphCost(lowered),
    async run(inputs, runOptions = {}) {
      if (disposed) throw new GraphError('this compiled graph was disposed');
      if (running)
        throw new GraphError(
          'this compiled graph is already running; await the previous run or compile another',
        );
      checkGraphInputs(inputTypes, inputs);
      const { signal, outputs: into, borrow } = runOptions;
      checkRunOutputs(outputTypes, into);
      running = true;
      let settled = true;
      try {
        for (const r of held) store.sync(r);
        for (const [name, id] of lowered.inputs) backend.write(values[id], inputs[name]);
        let since = signal ? performance.now() : 0;
        for (const s of steps) {
          if (signal && performance.now() - since > YIELD_EVERY_MS) {
            await yieldToEventLoop();
            since = performance.now();
          }
          if (signal?.aborted) throw abortReason(signal);
          if (s.deferred) {
            // the deferred op DEFERRED_OUTSTANDING places back must be finished: its inputs' storage ends here
            backend.settle!(DEFERRED_OUTSTANDING - 1);
            settled = false;
          }
          const r = s.kernel({
            inputs: s.inputs.map((i) => values[i]),
            inputTypes: s.inputTypes,
            type: s.type,
            attrs: s.attrs as never,
            out: s.out,
            constants: s.constants,
            versions: s.params?.map((r) => r?.version ?? 0),
            deferred: s.deferred,
          });
          values[s.id] = r instanceof Promise ? await r : r;
          if (discard) for (const d of s.dead) discard(d);
        }
        if (!settled) {
          settled = true;
          backend.settle!(0);
        }
        const out: Record<string, TensorData> = {};
        const lentRoots = new Set<number>();
        await Promise.all(
          [...lowered.outputs].map(async ([name, id]) => {
            const dst = into?.[name];
            // lent: planned intermediates, each storage root once (two outputs never share memory)
            const root = plan.root[id];
            const lent =
              !dst && borrow && plan.kind[root] === 'slot' && !lentRoots.has(root)
                ? backend.borrow?.(values[id])
                : undefined;
            if (lent) {
              lentRoots.add(root);
              out[name] = lent;
            } else if (!dst) out[name] = await backend.read(values[id]);
            else if (backend.readInto) {
              await backend.readInto(values[id], dst);
              out[name] = dst;
            } else out[name] = copyInto(dst, await backend.read(values[id]));
          }),
        );
        return out;
      } finally {
        // a failed run leaves no op unfinished (its error, not a later one, is what the caller sees)
        if (!settled) {
          try {
            backend.settle!(0);
          } catch {}
        }
        running = false;
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of storages) backend.release(s);
      storages.length = 0;
      for (const r of held) store.release(r);
      held.length = 0;
    },
  };
}

/**
 * Compiles for a backend that builds whole graphs itself (`compileGraph`, e.g. ONNX Runtime): such an
 * engine takes the graph's constants, parameters included, into its own executable, so when a parameter's
 * version moves on the graph is compiled again (at the next run) from the parameters' current values. Outputs
 * given a buffer (`RunOptions.outputs`) are copied into it.
 */
async function compileWhole(
  graph: Graph,
  backend: AnyBackend,
  options: CompileOptions,
): Promise<CompiledGraph> {
  const build = backend.compileGraph!.bind(backend);
  const params = [...new Set(graph.nodes.flatMap((n) => (n.param ? [n.param] : [])))];
  let current = await build(graph, options);
  let versions = params.map((p) => p.version);
  let disposed = false;
  const wrapper: CompiledGraph = {
    backend,
    get graph() {
      return current.graph;
    },
    get plan() {
      return current.plan;
    },
    inputTypes: current.inputTypes,
    outputTypes: current.outputTypes,
    cost: () => current.cost(),
    async run(inputs, runOptions = {}) {
      if (disposed) throw new GraphError('this compiled graph was disposed');
      // the engine's run allocates its outputs: those with a buffer (RunOptions.outputs) are copied into it
      const { outputs: into, ...rest } = runOptions;
      checkRunOutputs(current.outputTypes, into);
      if (params.some((p, i) => p.version !== versions[i])) {
        const now = params.map((p) => p.version);
        const next = await build(graph, options);
        if (disposed) {
          next.dispose();
          throw new GraphError('this compiled graph was disposed');
        }
        current.dispose();
        current = next;
        versions = now;
      }
      const out = await current.run(inputs, rest);
      if (into) for (const [name, d] of Object.entries(into)) out[name] = copyInto(d, out[name]);
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      current.dispose();
    },
  };
  return wrapper;
}

/** Sanity check used by tests: every primitive in the op table has a kernel in `backend`. */
export function unimplementedPrimitives(backend: AnyBackend): OpName[] {
  return (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].kind !== 'composite' && !backend.kernels[op]);
}
