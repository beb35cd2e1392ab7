// Symbolic tensor handles. A Tensor belongs to a Context (a graph being traced, a lowering pass, or an
// eager session); every op call goes through `ctx.emit`, so model code is written once for all three.
import type { OpAttrs, OpName } from './ops.js';
import type { Parameter } from './parameter.js';
import type { DType, Shape, TensorData, TensorType } from './types.js';
import { sizeOf } from './types.js';

/** Something that records or executes ops: a tracer, a lowering pass or an eager session. */
export interface Context {
  /** Records (or runs) `op` on `inputs` with `attrs` and returns its output. Shapes are checked here. */
  emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor;
  /** A constant tensor (weights, scalars). `name` labels it in graphs and errors. */
  constant(data: TensorData, name?: string): Tensor;
  /**
   * A parameter (an updatable weight). Graph builders record a reference to it, so compiled graphs read
   * its current value; contexts without this member (an eager session) take its value as a constant.
   */
  parameter?(p: Parameter): Tensor;
}

/** A value in a Context: its static type plus the id the context uses for it. */
export class Tensor {
  /** The context the tensor lives in; ops may only combine tensors of one context. */
  readonly ctx: Context;
  /** Context-local id (a node id in graphs). */
  readonly id: number;
  /** Static shape and dtype. */
  readonly type: TensorType;

  constructor(ctx: Context, id: number, type: TensorType) {
    this.ctx = ctx;
    this.id = id;
    this.type = type;
  }

  /** The static shape. */
  get shape(): Shape {
    return this.type.shape;
  }
  /** The element type. */
  get dtype(): DType {
    return this.type.dtype;
  }
  /** Number of axes. */
  get rank(): number {
    return this.type.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.type.shape);
  }

  /** Readable description, e.g. `Tensor#3<float32[2,64]>`. */
  toString(): string {
    return `Tensor#${this.id}<${this.dtype}[${this.shape.join(',')}]>`;
  }
}
