// The gpu.js backend for @wf/core. Every op compiles (once per op, input types and attributes) to a plan
// of generated gpu.js kernels (see plan.ts, kernels/); running an op launches them on the engine's device
// and rebinds the output's storage slot to the result, so intermediates stay on the device and the only
// readbacks are the ones `read` does. `capabilities.zeroCopyViews` is false: the compiler hands every op
// a planned output slot (reshape and identity casts still cost nothing: they share their input's value).
//
// int32 tensors (gather indices, cast results) are stored as float32 values holding integers, exact for
// |v| <= 2^24; `write` rejects larger magnitudes and `read` converts back to Int32Array.
//
// In mode `auto`, a kernel that the chosen gpu.js backend fails to compile runs on the next mode of the
// chain instead (values move between devices through the host), and `fallbacks` lists such kernels.
import {
  type Backend,
  type BackendCapabilities,
  BackendError,
  fmtShape,
  type Kernel,
  type KernelArgs,
  type KernelRegistry,
  type OpAttrs,
  type OpName,
  opsOf,
  opTable,
  sameShape,
  type TensorData,
  type TensorType,
  yieldToEventLoop,
} from '@wf/core';
import {
  all,
  chain,
  type DeviceValue,
  Engine,
  type EngineOptions,
  KernelBuildError,
  type MaybePromise,
  onFailure,
} from './engine.js';
import type { GpuJsLib } from './gpujs.js';
import { FUSED_STRATEGY } from './kernels/dynamic.js';
import { FUSED_COMPOSITES, type GpujsOp, PLAN_BUILDER_TABLE, PLAN_BUILDERS } from './kernels/index.js';
import { AUTO_ORDER, type ConcreteMode, type GpujsMode, modeApiPresent } from './modes.js';
import type { Plan, Step } from './plan.js';
import { DeviceBuffer, GpujsStorage, GpujsTensor } from './storage.js';

/** Largest integer magnitude an int32 tensor may hold on this backend (float32 stores it exactly). */
export const MAX_EXACT_INT = 2 ** 24;

/** A kernel that ran on another mode than the backend's, in `auto` mode. */
export interface KernelFallback {
  /** The op whose kernel failed. */
  readonly op: string;
  /** The mode that failed and the one that ran it. */
  readonly from: ConcreteMode;
  /** The mode that ran the kernel instead. */
  readonly to: ConcreteMode;
  /** gpu.js's error, first line. */
  readonly reason: string;
}

/** What runs underneath, for logs and reports. */
export interface GpujsDeviceInfo {
  /** The mode kernels run in. */
  readonly mode: ConcreteMode;
  /** The mode the caller asked for. */
  readonly requested: GpujsMode;
  /** Modes `auto` tried before this one, with why they were passed over. */
  readonly skipped: readonly { mode: ConcreteMode; reason: string }[];
  /** Adapter / renderer description where the platform gives one (WebGPU adapter info, GL renderer). */
  readonly device: Readonly<Record<string, string>>;
  /** Whether webasm kernels split across worker threads. */
  readonly threads: boolean;
}

/** Internal construction parameters (see `createGpujsBackend`). */
export interface GpujsBackendInit {
  readonly lib: GpuJsLib;
  readonly engine: Engine;
  readonly requested: GpujsMode;
  readonly skipped: readonly { mode: ConcreteMode; reason: string }[];
  readonly device: Readonly<Record<string, string>>;
  readonly engineOptions: EngineOptions;
  /** Called once when the backend is disposed (after its engines are destroyed). */
  readonly onDispose?: () => void;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** The gpu.js backend (create it with `createGpujsBackend`). */
export class GpujsBackend implements Backend<GpujsTensor, GpujsStorage> {
  /** `gpujs:<mode>`, e.g. `gpujs:webgl2`. */
  readonly name: string;
  /** The gpu.js mode kernels run in. */
  readonly mode: ConcreteMode;
  readonly capabilities: BackendCapabilities;
  readonly kernels: KernelRegistry<GpujsTensor>;
  /** Kernels that ran on a fallback mode (auto mode only). */
  readonly fallbacks: KernelFallback[] = [];
  /** Where kernels run. */
  readonly info: GpujsDeviceInfo;
  private readonly lib: GpuJsLib;
  private readonly engine: Engine;
  private readonly engineOptions: EngineOptions;
  private readonly auto: boolean;
  private readonly others = new Map<ConcreteMode, Engine | null>();
  private readonly engineFor = new Map<string, Engine>();
  private readonly storages = new Set<GpujsStorage>();
  private readonly plans = new Map<string, Plan>();
  private readonly fastPlans = new WeakMap<object, { op: string; attrs: unknown; plan: Plan }>();
  private readonly onDispose?: () => void;
  private disposed = false;

  constructor(init: GpujsBackendInit) {
    this.lib = init.lib;
    this.engine = init.engine;
    this.engineOptions = init.engineOptions;
    this.mode = init.engine.mode;
    this.auto = init.requested === 'auto';
    this.onDispose = init.onDispose;
    this.name = `gpujs:${this.mode}`;
    this.capabilities = {
      zeroCopyViews: false,
      syncRead: !init.engine.async,
      dtypes: ['float32', 'int32'],
      precision: 'float32',
    };
    this.info = {
      mode: this.mode,
      requested: init.requested,
      skipped: init.skipped,
      device: init.device,
      threads: this.mode === 'webasm' && !!init.engineOptions.threads,
    };
    // one kernel per plan builder: every primitive (PLAN_BUILDERS satisfies PlanBuilders) and the fused
    // composites
    this.kernels = opTable(
      opsOf(PLAN_BUILDERS),
      (op): Kernel<GpujsTensor, GpujsOp> =>
        (args) =>
          this.runOp(op, args),
    );
  }

  /**
   * The fused kernels' conditions (see `Backend.fuses`): DynLinear fuses only the bilateral strategy and
   * DynDWConv only the adaptive one; compile lowers the other strategies to primitives.
   */
  fuses(op: OpName, attrs: OpAttrs<OpName>): boolean {
    switch (op) {
      case 'dyn_linear':
      case 'dyn_dwconv':
        return 'strategy' in attrs && attrs.strategy === FUSED_STRATEGY[op];
      default:
        return true;
    }
  }

  /** Composite ops this backend runs as fused kernels. */
  static readonly fusedComposites: readonly string[] = FUSED_COMPOSITES;

  /** Number of gpu.js kernels compiled so far (all engines). */
  get compiledKernels(): number {
    let n = this.engine.kernelCount;
    for (const e of this.others.values()) n += e?.kernelCount ?? 0;
    return n;
  }

  /** Number of storage blocks currently allocated. */
  get liveStorages(): number {
    return this.storages.size;
  }

  private check(): void {
    if (this.disposed) throw new BackendError(`${this.name}: the backend was disposed; create a new one`);
  }

  // ---- storage ------------------------------------------------------------------------------------

  allocate(bytes: number): GpujsStorage {
    this.check();
    if (!Number.isSafeInteger(bytes) || bytes < 0)
      throw new BackendError(`${this.name}: cannot allocate ${bytes} bytes`);
    const s = new GpujsStorage(bytes);
    this.storages.add(s);
    return s;
  }

  /** Frees the value in `storage` (dead until the next write): device memory follows the live set. */
  discard(storage: GpujsStorage): void {
    if (storage instanceof GpujsStorage) storage.discard();
  }

  /**
   * Device memory held by this backend's values now, on every engine it uses: values, bytes, and the peak
   * bytes since the last `resetMemoryPeak()` (or creation). Uploaded constants and bound inputs included.
   */
  memory(): { values: number; bytes: number; peakBytes: number } {
    const engines = [this.engine, ...[...this.others.values()].filter((e): e is Engine => !!e)];
    const r = { values: 0, bytes: 0, peakBytes: 0 };
    for (const e of engines) {
      r.values += e.memory.values;
      r.bytes += e.memory.bytes;
      r.peakBytes += e.memory.peakBytes;
    }
    return r;
  }

  /** Starts a new peak measurement for `memory().peakBytes` at the bytes held now. */
  resetMemoryPeak(): void {
    for (const e of [this.engine, ...this.others.values()]) if (e) e.memory.peakBytes = e.memory.bytes;
  }

  release(storage: GpujsStorage): void {
    if (!(storage instanceof GpujsStorage)) return;
    storage.release();
    this.storages.delete(storage);
  }

  wrap(storage: GpujsStorage, type: TensorType): GpujsTensor {
    this.check();
    if (!(storage instanceof GpujsStorage))
      throw new BackendError(`${this.name}: wrap needs a storage block of this backend`);
    if (storage.released) throw new BackendError(`${this.name}: wrap of a released storage block`);
    return new GpujsTensor(storage, type);
  }

  write(dst: GpujsTensor, data: TensorData): void {
    this.check();
    if (!(dst instanceof GpujsTensor))
      throw new BackendError(`${this.name}: write needs a tensor of this backend`);
    if (!sameShape(dst.shape, data.shape) || data.data.length !== dst.size) {
      throw new BackendError(
        `${this.name}: write of ${fmtShape(data.shape)} data into a ${fmtShape(dst.shape)} tensor`,
      );
    }
    if (data.dtype !== dst.type.dtype) {
      throw new BackendError(`${this.name}: write of ${data.dtype} data into a ${dst.type.dtype} tensor`);
    }
    let values: Float32Array;
    if (data.data instanceof Float32Array) values = data.data;
    else {
      values = new Float32Array(data.data.length);
      for (let i = 0; i < values.length; i++) {
        const v = data.data[i];
        if (Math.abs(v) > MAX_EXACT_INT) {
          throw new BackendError(
            `${this.name}: int32 value ${v} exceeds ±2^24, which float32 storage cannot hold exactly`,
          );
        }
        values[i] = v;
      }
    }
    dst.storage.bind(this.upload(values));
  }

  private upload(values: Float32Array): DeviceBuffer {
    if (values.length === 0) return new DeviceBuffer(this.engine, new Float32Array(0), 0);
    return new DeviceBuffer(this.engine, this.engine.upload(values), values.length);
  }

  /** The value of `t`, or zeros when nothing was written to it (storage starts zero-filled). */
  private bufferOf(t: GpujsTensor): DeviceBuffer {
    if (!(t instanceof GpujsTensor))
      throw new BackendError(`${this.name}: kernel input is not a tensor of this backend`);
    if (t.storage.released) throw new BackendError(`${this.name}: read of a released storage block`);
    const b = t.storage.buffer;
    if (b && b.length === t.size) return b;
    const zeros = this.upload(new Float32Array(t.size));
    t.storage.bind(zeros);
    return zeros;
  }

  private toTensorData(t: GpujsTensor, values: Float32Array): TensorData {
    if (t.type.dtype === 'int32') {
      const out = new Int32Array(values.length);
      for (let i = 0; i < out.length; i++) out[i] = Math.round(values[i]);
      return { dtype: 'int32', shape: [...t.shape], data: out };
    }
    return { dtype: 'float32', shape: [...t.shape], data: values.slice() };
  }

  async read(t: GpujsTensor): Promise<TensorData> {
    this.check();
    const b = this.bufferOf(t);
    const values = await b.engine.download(await b.value, t.size);
    await yieldToEventLoop();
    this.check();
    return this.toTensorData(t, values);
  }

  readSync(t: GpujsTensor): TensorData {
    this.check();
    const b = this.bufferOf(t);
    if (b.engine.async || b.value instanceof Promise) {
      throw new BackendError(
        `${this.name}: synchronous readback is not available in mode ${b.engine.mode}; use read()`,
      );
    }
    const values = b.engine.download(b.value, t.size);
    if (values instanceof Promise)
      throw new BackendError(`${this.name}: synchronous readback is not available`);
    return this.toTensorData(t, values);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.storages) s.release();
    this.storages.clear();
    this.plans.clear();
    const engines = [this.engine, ...[...this.others.values()].filter((e): e is Engine => !!e)];
    Promise.all(engines.map((e) => e.destroy().catch(() => undefined))).then(() => this.onDispose?.());
  }

  // ---- running ops --------------------------------------------------------------------------------

  private planFor<K extends GpujsOp>(op: K, args: KernelArgs<GpujsTensor, K>): Plan {
    const fast = this.fastPlans.get(args.inputTypes);
    if (fast && fast.op === op && fast.attrs === args.attrs) return fast.plan;
    const key = `${op}|${JSON.stringify(args.inputTypes)}|${JSON.stringify(args.type)}|${JSON.stringify(args.attrs ?? {})}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const build = PLAN_BUILDER_TABLE[op];
      if (!build) throw new BackendError(`${this.name} has no kernel for ${op}`);
      plan = build({
        op,
        inputTypes: args.inputTypes,
        type: args.type,
        // core always passes attrs; a hand-made call without them gets {} (as the cache key does)
        attrs: args.attrs ?? ({} as OpAttrs<K>),
        twoD: !this.engine.gl,
      });
      this.plans.set(key, plan);
    }
    this.fastPlans.set(args.inputTypes, { op, attrs: args.attrs, plan });
    return plan;
  }

  private runOp<K extends GpujsOp>(op: K, args: KernelArgs<GpujsTensor, K>): MaybePromise<GpujsTensor> {
    this.check();
    const out = args.out;
    if (!out)
      throw new BackendError(`${this.name}: ${op} needs a preallocated output (zeroCopyViews is false)`);
    if (!(out instanceof GpujsTensor))
      throw new BackendError(`${this.name}: ${op} output is not a tensor of this backend`);
    const plan = this.planFor(op, args);
    // The op holds its inputs until its result exists: the compiler may discard an input's storage as
    // soon as this returns, while an asynchronous kernel still waits to read it.
    const ins = args.inputs.map((t) => this.bufferOf(t).ref());
    const done = () => {
      for (const b of ins) b.unref();
    };
    return chain(
      onFailure(() => this.execPlan(op, plan, ins), done),
      (buf) => {
        done();
        out.storage.bind(buf);
        return out;
      },
    );
  }

  /** Runs a plan on input buffers; resolves to a new reference to the result. */
  private execPlan(op: string, plan: Plan, ins: readonly DeviceBuffer[]): MaybePromise<DeviceBuffer> {
    switch (plan.kind) {
      case 'empty':
        return new DeviceBuffer(this.engine, new Float32Array(0), 0);
      case 'alias':
        return ins[plan.input].ref();
      case 'steps': {
        const temps: DeviceBuffer[] = [];
        const release = () => {
          for (const b of temps) b.unref();
        };
        const next = (i: number): MaybePromise<DeviceBuffer> => {
          const s = plan.steps[i];
          const bufs = s.args.map((r) => (r >= 0 ? ins[r] : temps[-r - 1]));
          return chain(this.runStep(op, s, bufs), (b) => {
            if (i === plan.steps.length - 1) {
              release();
              return b;
            }
            temps.push(b);
            return next(i + 1);
          });
        };
        return onFailure(() => next(0), release);
      }
    }
  }

  /** Values of `bufs` on engine `e` (moved through the host when they live on another engine). */
  private valuesOn(e: Engine, bufs: readonly DeviceBuffer[]): MaybePromise<DeviceValue[]> {
    return all(
      bufs.map((b) => {
        if (b.engine === e) return b.value;
        return chain(b.value, (v) => chain(b.engine.download(v, b.length), (host) => e.upload(host)));
      }),
    );
  }

  private runStep(op: string, step: Step, bufs: readonly DeviceBuffer[]): MaybePromise<DeviceBuffer> {
    const engine = this.engineFor.get(step.source) ?? this.engine;
    const fail = (err: unknown): MaybePromise<DeviceBuffer> => this.fallback(op, step, bufs, engine, err);
    try {
      const r = chain(this.valuesOn(engine, bufs), (vals) =>
        chain(
          engine.run(step.source, step.size, vals, step.output),
          (v) => new DeviceBuffer(engine, v, step.size),
        ),
      );
      return r instanceof Promise ? r.catch(fail) : r;
    } catch (err) {
      return fail(err);
    }
  }

  private fallback(
    op: string,
    step: Step,
    bufs: readonly DeviceBuffer[],
    failed: Engine,
    err: unknown,
  ): MaybePromise<DeviceBuffer> {
    const wrapped = () =>
      new BackendError(`${this.name}: ${op} failed on gpu.js ${failed.mode}: ${firstLine(err)}`, {
        cause: err,
      });
    if (this.disposed) throw new BackendError(`${this.name}: the backend was disposed; create a new one`);
    if (!(err instanceof KernelBuildError) || !this.auto) throw wrapped();
    const next = this.nextEngine(failed.mode);
    if (!next) throw wrapped();
    this.engineFor.set(step.source, next);
    this.fallbacks.push({ op, from: failed.mode, to: next.mode, reason: firstLine(err) });
    return this.runStep(op, step, bufs);
  }

  /** The next usable engine after `mode` in the auto chain (created lazily), or null. */
  private nextEngine(mode: ConcreteMode): Engine | null {
    const order = AUTO_ORDER.slice(AUTO_ORDER.indexOf(mode) + 1);
    for (const m of order) {
      if (m === 'webgpu') continue; // a fallback must not add asynchrony the chosen mode lacks
      if (!this.others.has(m)) {
        let e: Engine | null = null;
        if (modeApiPresent(this.lib, m)) {
          try {
            e = new Engine(this.lib, m, this.engineOptions);
          } catch {
            e = null;
          }
        }
        this.others.set(m, e);
      }
      const e = this.others.get(m);
      if (e) return e;
    }
    return null;
  }
}
