// Value types of the IR: dtypes, shapes, tensor types and host-side tensor data.

/** Element types the IR knows. Weights and activations are float32; indices are int32. */
export type DType = 'float32' | 'int32';

/** A tensor shape (row-major, outermost axis first). A scalar has shape `[]`. */
export type Shape = readonly number[];

/** The static type of a value in a graph: its shape and element type. */
export interface TensorType {
  /** Dimensions, outermost first. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
}

/** A typed array that can hold a dtype's elements. */
export type TypedArrayFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** Host-side tensor contents: a dense row-major typed array with its shape. */
export interface TensorData {
  /** Element type (`float32` data is a `Float32Array`, `int32` an `Int32Array`). */
  readonly dtype: DType;
  /** Dimensions, outermost first; their product is `data.length`. */
  readonly shape: Shape;
  /** The elements, row-major. */
  readonly data: Float32Array | Int32Array;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4 };

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes taken by a dense tensor of this type. */
export function bytesOf(t: TensorType): number {
  return sizeOf(t.shape) * DTYPE_BYTES[t.dtype];
}

/** Row-major (C-order) strides of a shape, in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Dense iff every axis longer than 1 has its row-major stride. */
export function isDense(shape: readonly number[], strides: readonly number[]): boolean {
  const want = stridesOf(shape);
  return shape.every((d, i) => d === 1 || strides[i] === want[i]);
}

/** Makes host tensor data, checking that the array length matches the shape. */
export function tensorData(
  shape: Shape,
  data: Float32Array | Int32Array | number[],
  dtype?: DType,
): TensorData {
  const dt: DType = dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  const arr = Array.isArray(data) ? (dt === 'int32' ? Int32Array.from(data) : Float32Array.from(data)) : data;
  const n = sizeOf(shape);
  if (arr.length !== n) {
    throw new RangeError(`tensorData: shape [${shape.join(',')}] needs ${n} elements, got ${arr.length}`);
  }
  if (dt === 'int32' && !(arr instanceof Int32Array))
    throw new TypeError('tensorData: int32 needs an Int32Array');
  if (dt === 'float32' && !(arr instanceof Float32Array))
    throw new TypeError('tensorData: float32 needs a Float32Array');
  return { dtype: dt, shape: [...shape], data: arr };
}

/** True when two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
