// Eager execution for debugging and tests: every op runs on the backend as soon as it is called (composites
// through their lowering unless the backend fuses them). Kernels may be asynchronous: values are chained
// as promises and `read` awaits them.
import { type AnyBackend, kernelOf } from '../backend.js';
import { ArgumentError, BackendError, fmtShape, ShapeError } from '../errors.js';
import { inferType, type OpAttrs, type OpName, viewStridesOf } from '../ir/ops.js';
import { type Context, Tensor } from '../ir/tensor.js';
import { bytesOf, sizeOf, stridesOf, type TensorData, type TensorType } from '../ir/types.js';
import { emitLowered, fusedKernelFilter, type KeepComposite } from './lower.js';

/** An eager session on one backend. Tensors it makes belong to it; `dispose` frees them all. */
export class EagerSession implements Context {
  /** The backend ops run on. */
  readonly backend: AnyBackend;
  /** Which composites run fused (the backend's fused kernels and its `fuses` hook, unless `fuse: false`). */
  private readonly keep: KeepComposite;
  private readonly values: unknown[] = [];
  private readonly storages: unknown[] = [];
  private readonly strides: number[][] = [];
  private disposed = false;

  constructor(backend: AnyBackend, options: { fuse?: boolean } = {}) {
    this.backend = backend;
    this.keep = fusedKernelFilter(backend, options.fuse ?? true);
  }

  private check(): void {
    if (this.disposed) throw new BackendError('this eager session was disposed');
  }

  private alloc(type: TensorType): unknown {
    const s = this.backend.allocate(Math.max(bytesOf(type), 4));
    this.storages.push(s);
    return this.backend.wrap(s, type);
  }

  private add(value: unknown, type: TensorType, strides: number[]): Tensor {
    const t = new Tensor(this, this.values.length, type);
    this.values.push(value);
    this.strides.push(strides);
    return t;
  }

  /** Uploads host data as a tensor of this session. */
  tensor(data: TensorData): Tensor {
    return this.constant(data);
  }

  /** Uploads host data as a tensor of this session (Context API). */
  constant(data: TensorData): Tensor {
    this.check();
    if (data.data.length !== sizeOf(data.shape)) {
      throw new ArgumentError(`tensor: ${data.data.length} values for shape ${fmtShape(data.shape)}`);
    }
    const type = { shape: [...data.shape], dtype: data.dtype };
    const t = this.alloc(type);
    this.backend.write(t, data);
    return this.add(t, type, stridesOf(type.shape));
  }

  /** Runs one op now (Context API). */
  emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    this.check();
    for (const t of inputs) {
      if (!(t instanceof Tensor) || t.ctx !== this)
        throw new ShapeError(op, `input ${String(t)} belongs to another context`);
    }
    return emitLowered(op, inputs, attrs, this.keep, () => this.run(op, inputs, attrs));
  }

  private run<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    const type = inferType(
      op,
      inputs.map((t) => t.type),
      attrs,
    );
    const kernel = kernelOf<unknown, K>(this.backend.kernels, op);
    if (!kernel) throw new BackendError(`backend ${this.backend.name} has no kernel for ${op}`);
    // a view op aliases its input where the op table's stride rule says it can (zero-copy backends only)
    const src = inputs[0];
    const viewed =
      this.backend.capabilities.zeroCopyViews && src
        ? viewStridesOf(op, attrs, src.shape, this.strides[src.id], type.shape)
        : undefined;
    const out = viewed ? undefined : this.alloc(type);
    const ins = inputs.map((t) => this.values[t.id]);
    const call = (resolved: unknown[]) =>
      kernel({ inputs: resolved, inputTypes: inputs.map((t) => t.type), type, attrs, out });
    const value = ins.some((v) => v instanceof Promise) ? Promise.all(ins).then(call) : call(ins);
    const strides = viewed ?? stridesOf(type.shape);
    return this.add(value, type, strides);
  }

  /** Reads a tensor back to the host. */
  async read(t: Tensor): Promise<TensorData> {
    this.check();
    if (t.ctx !== this) throw new ArgumentError('read: tensor belongs to another context');
    return this.backend.read(await this.values[t.id]);
  }

  /** Frees every tensor this session made. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.storages) this.backend.release(s);
    this.storages.length = 0;
    this.values.length = 0;
  }
}

/** Starts an eager session on `backend`. */
export function eager(backend: AnyBackend, options: { fuse?: boolean } = {}): EagerSession {
  return new EagerSession(backend, options);
}
