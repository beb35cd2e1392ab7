// Assembles an ONNX graph as plain objects shaped like onnx.proto's messages: nodes with unique value
// names, initializers (deduplicated small constants, weights by name), and the batch size as a runtime
// value for shapes that depend on it. `onnx-proto.ts` encodes the result.
import type { TensorData } from '@wf/core';
import { ATTR_TYPE, ONNX_DTYPE } from './onnx-proto.js';

/** One attribute value: an int, a float, int or float lists, or a string. */
export type AttrSpec =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly s: string };

/** A node as onnx.proto's NodeProto fields. */
export interface OnnxNode {
  /** The ONNX operator, e.g. `MatMul`. */
  readonly op_type: string;
  /** A unique node name. */
  readonly name: string;
  /** Input value names. */
  readonly input: string[];
  /** Output value names. */
  readonly output: string[];
  /** Attributes as AttributeProto objects. */
  readonly attribute: Record<string, unknown>[];
}

/** An initializer before encoding: name, ONNX element type, dims and little-endian bytes. */
export interface OnnxInitializer {
  /** The value name nodes refer to. */
  readonly name: string;
  /** ONNX `TensorProto.DataType` code. */
  readonly dataType: number;
  /** Dimensions. */
  readonly dims: readonly number[];
  /** The elements, little-endian. */
  readonly bytes: Uint8Array;
}

function encodeAttr(name: string, spec: AttrSpec): Record<string, unknown> {
  if ('i' in spec) return { name, type: ATTR_TYPE.INT, i: spec.i };
  if ('f' in spec) return { name, type: ATTR_TYPE.FLOAT, f: spec.f };
  if ('ints' in spec) return { name, type: ATTR_TYPE.INTS, ints: [...spec.ints] };
  if ('floats' in spec) return { name, type: ATTR_TYPE.FLOATS, floats: [...spec.floats] };
  return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(spec.s) };
}

function bytesOfArray(a: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  // A copy: the caller's array may be reused or detached later, and encoding wants its own bytes.
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** A JS number as int64, saturating at the int64 range (INT64_MAX marks "to the end" in Slice). */
function toInt64(v: number): bigint {
  if (v >= 2 ** 63) return 9223372036854775807n;
  if (v <= -(2 ** 63)) return -9223372036854775808n;
  return BigInt(v);
}

/** Builds one ONNX graph: nodes in topological order plus initializers. */
export class OnnxGraphBuilder {
  /** Nodes emitted so far. */
  readonly nodes: OnnxNode[] = [];
  /** Initializers by name. */
  readonly initializers = new Map<string, OnnxInitializer>();
  private readonly used = new Set<string>();
  private readonly small = new Map<string, string>();
  private counter = 0;
  /** Name of the int64 [1] batch-size value, once something needed it. */
  private batchValue: string | undefined;

  /**
   * @param batchSource Where the batch size is read at run time: a graph input name whose axis 0 is the
   *   batch (undefined for static exports).
   */
  constructor(private readonly batchSource?: string) {}

  /** A fresh value or node name with `prefix`. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.used.has(name)) name = `${prefix}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  /** Marks a name as taken (graph inputs, outputs, weight names). */
  reserve(name: string): void {
    this.used.add(name);
  }

  /** Appends a node; returns its (first) output name. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrSpec>> = {},
    output?: string,
  ): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      op_type: opType,
      name: this.fresh(`n_${opType}`),
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v)),
    });
    return out;
  }

  /** Adds a float32 or int32 tensor as an initializer called `name` (or a fresh name); returns the name. */
  tensor(data: TensorData, name?: string): string {
    const n = name && !this.used.has(name) ? name : this.fresh(name ? name.replace(/[^\w.]/g, '_') : 'const');
    this.used.add(n);
    this.initializers.set(n, {
      name: n,
      dataType: ONNX_DTYPE[data.dtype],
      dims: [...data.shape],
      bytes: bytesOfArray(data.data),
    });
    return n;
  }

  private smallConst(key: string, make: () => OnnxInitializer): string {
    const hit = this.small.get(key);
    if (hit) return hit;
    const init = make();
    this.initializers.set(init.name, init);
    this.small.set(key, init.name);
    return init.name;
  }

  /** An int64 constant (shapes, axes, pads), deduplicated. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.smallConst(`i64:${dims}:${values}`, () => ({
      name: this.fresh('i64'),
      dataType: ONNX_DTYPE.int64,
      dims,
      bytes: bytesOfArray(BigInt64Array.from(values.map(toInt64))),
    }));
  }

  /** A float32 constant, deduplicated; a scalar by default. */
  float(values: readonly number[], dims: readonly number[] = []): string {
    return this.smallConst(`f32:${dims}:${values.map((v) => (Object.is(v, -0) ? '-0' : v))}`, () => ({
      name: this.fresh('f32'),
      dataType: ONNX_DTYPE.float32,
      dims,
      bytes: bytesOfArray(Float32Array.from(values)),
    }));
  }

  /** The batch size at run time as an int64 [1] value (read once from the batch source input's shape). */
  batch(opset: number): string {
    if (this.batchValue) return this.batchValue;
    if (!this.batchSource) throw new Error('internal: a dynamic shape without a batch source');
    const shape =
      opset >= 15
        ? this.node('Shape', [this.batchSource], { start: { i: 0 }, end: { i: 1 } })
        : this.node('Slice', [this.node('Shape', [this.batchSource]), this.int64([0]), this.int64([1])]);
    this.batchValue = shape;
    return shape;
  }

  /** Drops initializers no node reads (e.g. weights replaced by a transposed copy). */
  pruneInitializers(alsoKeep: Iterable<string> = []): void {
    const read = new Set<string>(alsoKeep);
    for (const n of this.nodes) for (const i of n.input) read.add(i);
    for (const name of [...this.initializers.keys()]) if (!read.has(name)) this.initializers.delete(name);
  }
}
