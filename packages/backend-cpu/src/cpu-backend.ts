// The reference CPU backend: implements every primitive of the @wf/core op table with plain, readable
// kernels over ndarray views of Float32Array/Int32Array storage (the living definition of each op).
import {
  type Backend,
  type BackendCapabilities,
  BackendError,
  fmtShape,
  type KernelRegistry,
  sameShape,
  type TensorData,
  type TensorType,
} from '@wf/core';
import ndarray from 'ndarray';
import { convKernels } from './kernels/conv.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { matmulKernels } from './kernels/matmul.js';
import { movementKernels } from './kernels/movement.js';
import { normKernels } from './kernels/norm.js';
import { reduceKernels } from './kernels/reduce.js';
import { type CpuTensor, copyInto, toTensorData, wrapBuffer } from './nd.js';

/** Every kernel of the CPU backend, keyed by op. */
export const cpuKernels: KernelRegistry<CpuTensor> = {
  ...elementwiseKernels,
  ...reduceKernels,
  ...matmulKernels,
  ...convKernels,
  ...normKernels,
  ...movementKernels,
};

/** The CPU backend: storage blocks are ArrayBuffers, tensors are ndarray views. */
export class CpuBackend implements Backend<CpuTensor, ArrayBuffer> {
  readonly name = 'cpu';
  readonly capabilities: BackendCapabilities = {
    zeroCopyViews: true,
    syncRead: true,
    dtypes: ['float32', 'int32'],
    precision: 'float32',
  };
  readonly kernels: KernelRegistry<CpuTensor> = cpuKernels;
  private disposed = false;
  private liveBytes = 0;

  private check(): void {
    if (this.disposed) throw new BackendError('the cpu backend was disposed; create a new one');
  }

  /** Bytes of storage currently allocated through this backend. */
  get allocatedBytes(): number {
    return this.liveBytes;
  }

  allocate(bytes: number): ArrayBuffer {
    this.check();
    this.liveBytes += bytes;
    return new ArrayBuffer(bytes);
  }

  release(storage: ArrayBuffer): void {
    // Garbage-collected; only the accounting changes. Releasing twice is harmless.
    if (storage.byteLength && !released.has(storage)) {
      released.add(storage);
      this.liveBytes -= storage.byteLength;
    }
  }

  wrap(storage: ArrayBuffer, type: TensorType): CpuTensor {
    this.check();
    return wrapBuffer(storage, type);
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

  dispose(): void {
    this.disposed = true;
  }
}

const released = new WeakSet<ArrayBuffer>();

/** Creates the reference CPU backend. */
export function createCpuBackend(): CpuBackend {
  return new CpuBackend();
}
