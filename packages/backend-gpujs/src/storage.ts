// Device memory as the compiler sees it. A storage block (`GpujsStorage`, what `allocate` returns) is a
// slot that holds at most one device value at a time: gpu.js kernels cannot write into a preallocated
// texture, so a kernel "writes" its `out` tensor by rebinding the slot to the value it produced, and the
// value previously bound there (dead, by the planner's liveness rules) is freed. Values are refcounted
// (`DeviceBuffer`) so a reshape can share its input's value instead of copying it.
import { BackendError, bytesOf, fmtShape, sizeOf, type TensorType } from '@wf/core';
import type { DeviceValue, Engine, MaybePromise } from './engine.js';

/** A device value with a reference count; freed on its engine when the last reference goes. */
export class DeviceBuffer {
  /** The engine whose device holds the value. */
  readonly engine: Engine;
  /** The value (a Promise while an asynchronous kernel or upload is in flight). */
  readonly value: MaybePromise<DeviceValue>;
  /** Number of float32 elements. */
  readonly length: number;
  private refs = 1;

  constructor(engine: Engine, value: MaybePromise<DeviceValue>, length: number) {
    this.engine = engine;
    this.value = value;
    this.length = length;
    engine.track(4 * length, 1);
  }

  /** Adds a reference and returns this buffer. */
  ref(): DeviceBuffer {
    this.refs++;
    return this;
  }

  /** Drops a reference; the last one frees the device value. */
  unref(): void {
    if (--this.refs > 0) return;
    if (this.refs < 0) throw new BackendError('gpujs: a device value was freed twice');
    const { engine, value } = this;
    engine.track(4 * this.length, -1);
    if (value instanceof Promise)
      value.then(
        (v) => engine.free(v),
        () => undefined,
      );
    else engine.free(value);
  }
}

/** A storage block: a slot of `bytes` bytes bound to zero or one device value. */
export class GpujsStorage {
  /** Capacity in bytes, as allocated. */
  readonly bytes: number;
  private current: DeviceBuffer | null = null;
  private freed = false;

  constructor(bytes: number) {
    this.bytes = bytes;
  }

  /** Whether `release` was called. */
  get released(): boolean {
    return this.freed;
  }

  /** The bound value, or null when nothing was written yet. */
  get buffer(): DeviceBuffer | null {
    return this.current;
  }

  /** Binds a value (taking over one reference), freeing the previous one. */
  bind(buffer: DeviceBuffer | null): void {
    if (this.freed) {
      buffer?.unref();
      throw new BackendError('gpujs: write to a released storage block');
    }
    const old = this.current;
    this.current = buffer;
    old?.unref();
  }

  /** Unbinds and frees the value (it is dead until the next write); the block stays usable. */
  discard(): void {
    const old = this.current;
    this.current = null;
    old?.unref();
  }

  /** Frees the bound value; later writes fail. Idempotent. */
  release(): void {
    if (this.freed) return;
    this.freed = true;
    this.discard();
  }
}

/** A tensor of this backend: a typed view of the start of a storage block. */
export class GpujsTensor {
  /** The storage block the tensor lives in. */
  readonly storage: GpujsStorage;
  /** Shape and dtype. */
  readonly type: TensorType;
  /** Number of elements. */
  readonly size: number;

  constructor(storage: GpujsStorage, type: TensorType) {
    if (bytesOf(type) > storage.bytes) {
      throw new BackendError(
        `gpujs: a ${type.dtype}${fmtShape(type.shape)} tensor needs ${bytesOf(type)} bytes, the storage block has ${storage.bytes}`,
      );
    }
    this.storage = storage;
    this.type = type;
    this.size = sizeOf(type.shape);
  }

  /** Shape of the tensor. */
  get shape(): readonly number[] {
    return this.type.shape;
  }
}
