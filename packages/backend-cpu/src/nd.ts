// ndarray helpers for the CPU kernels: typed views over storage, broadcasting views (stride 0), dense
// copies, and a strided N-d loop that visits matching elements of several arrays.
import type { TensorData, TensorType } from '@wf/core';
import { isDense, sizeOf, stridesOf } from '@wf/core';
import ndarray, { type NdArray } from 'ndarray';
import ops from 'ndarray-ops';

/** A CPU tensor: an ndarray view (possibly strided) over a Float32Array or Int32Array. */
export type CpuTensor = NdArray<Float32Array | Int32Array>;

/** A dense row-major ndarray of `type` in `buffer` at `byteOffset`. */
export function wrapBuffer(buffer: ArrayBuffer, type: TensorType, byteOffset = 0): CpuTensor {
  const n = sizeOf(type.shape);
  const data =
    type.dtype === 'int32' ? new Int32Array(buffer, byteOffset, n) : new Float32Array(buffer, byteOffset, n);
  return ndarray(data, [...type.shape], stridesOf(type.shape), 0);
}

/** A view of `a` with a new shape, sharing storage (a must be dense). */
export function reshapeView(a: CpuTensor, shape: readonly number[]): CpuTensor {
  return ndarray(a.data, [...shape], stridesOf(shape), a.offset);
}

/** A view of `a` broadcast to `shape` (NumPy rules; broadcast axes get stride 0). */
export function broadcastView(a: CpuTensor, shape: readonly number[]): CpuTensor {
  const lead = shape.length - a.shape.length;
  const strides = shape.map((_, i) => {
    const j = i - lead;
    return j < 0 || a.shape[j] === 1 ? 0 : a.stride[j];
  });
  return ndarray(a.data, [...shape], strides, a.offset);
}

/** A strided view from explicit shape, strides and offset on `a`'s data. */
export function stridedView(
  a: CpuTensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): CpuTensor {
  return ndarray(a.data, [...shape], [...strides], offset);
}

/**
 * Calls `fn(o0, o1, ...)` for every index of `shape`, with the element offsets of each array in `arrays`
 * (all viewed with that shape). The last axis is the inner loop.
 */
export function forEachOffset(
  shape: readonly number[],
  arrays: readonly CpuTensor[],
  fn: (offsets: Int32Array) => void,
): void {
  const rank = shape.length;
  const k = arrays.length;
  const offs = new Int32Array(k);
  for (let j = 0; j < k; j++) offs[j] = arrays[j].offset;
  if (sizeOf(shape) === 0) return;
  if (rank === 0) {
    fn(offs);
    return;
  }
  const idx = new Int32Array(rank);
  for (;;) {
    fn(offs);
    let ax = rank - 1;
    for (; ax >= 0; ax--) {
      idx[ax]++;
      for (let j = 0; j < k; j++) offs[j] += arrays[j].stride[ax];
      if (idx[ax] < shape[ax]) break;
      for (let j = 0; j < k; j++) offs[j] -= arrays[j].stride[ax] * shape[ax];
      idx[ax] = 0;
    }
    if (ax < 0) return;
  }
}

/** Dense row-major host copy of a (possibly strided) tensor, into `into` (of its size and dtype) when given. */
export function toTensorData(a: CpuTensor, into?: Float32Array | Int32Array): TensorData {
  const n = sizeOf(a.shape);
  const isInt = a.data instanceof Int32Array;
  const out = into ?? (isInt ? new Int32Array(n) : new Float32Array(n));
  const r = a.shape.length;
  if (isDense(a.shape, a.stride)) {
    // one block copy (gradients of every weight are read back this way after each backward pass)
    out.set((a.data as Float32Array | Int32Array).subarray(a.offset, a.offset + n) as never);
  } else if (r > 0 && a.stride[r - 1] === 1) {
    // contiguous rows: a block copy per row
    const d = a.shape[r - 1];
    const lead = a.shape.slice(0, -1);
    let i = 0;
    forEachOffset(lead, [stridedView(a, lead, a.stride.slice(0, -1), a.offset)], (o) => {
      out.set((a.data as Float32Array | Int32Array).subarray(o[0], o[0] + d) as never, i);
      i += d;
    });
  } else {
    let i = 0;
    forEachOffset(a.shape, [a], (o) => {
      out[i++] = a.data[o[0]];
    });
  }
  return { dtype: isInt ? 'int32' : 'float32', shape: [...a.shape], data: out };
}

/** Copies `src` (any strides, same shape) into `dst` (ndarray-ops' compiled assign). */
export function copyInto(dst: CpuTensor, src: CpuTensor): void {
  ops.assign(dst, src);
}
