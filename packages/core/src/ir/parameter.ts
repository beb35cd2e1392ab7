// Parameters: named tensors whose values change between runs (a model's weights). A graph refers to a
// parameter (`g.parameter(p)`) instead of baking its value in as a constant; every graph compiled for one
// backend reads that backend's single copy of it, uploaded once and rewritten when the value changes.
// A parameter owns one host TensorData whose elements are updated in place (`set`, or direct edits followed
// by `touch`); its `version` grows on every update, so that devices copies and caches of derived data
// (packed matrices, uploaded textures) are refreshed by version, never by object identity.
import { ArgumentError, fmtShape } from '../errors.js';
import { sameShape, sizeOf, type TensorData, type TensorType } from './types.js';

/** A named, updatable tensor: a weight that every compiled graph reads from one copy per backend. */
export class Parameter {
  /** The name, as in the checkpoint (e.g. `blocks.0.attn.qkv.weight`). */
  readonly name: string;
  /**
   * The current value. The object and its typed array stay the same for the parameter's life; updates
   * write the elements in place. Edit `value.data` directly only if you call {@link Parameter.touch} after.
   */
  readonly value: TensorData;
  private currentVersion = 0;

  /**
   * A parameter named `name` holding `value`. The parameter takes `value` as it is (no copy): later updates
   * write into `value.data`.
   *
   * @throws {ArgumentError} when `value.data` does not hold exactly the elements of `value.shape`.
   */
  constructor(name: string, value: TensorData) {
    if (value.data.length !== sizeOf(value.shape))
      throw new ArgumentError(
        `parameter ${name}: ${value.data.length} values for shape ${fmtShape(value.shape)}`,
      );
    this.name = name;
    this.value = value;
  }

  /** Shape and dtype (fixed for the parameter's life). */
  get type(): TensorType {
    return { shape: this.value.shape, dtype: this.value.dtype };
  }

  /**
   * Grows by one on every update ({@link Parameter.set}, {@link Parameter.touch}); starts at 0. Copies of
   * the value (a backend's storage, packed or uploaded forms) are current iff made at this version.
   */
  get version(): number {
    return this.currentVersion;
  }

  /**
   * Replaces the value: copies `data` (same dtype and shape, or a typed array of as many elements) into the
   * parameter's array and bumps the version. Compiled graphs see it from their next run.
   *
   * @throws {ArgumentError} for another dtype, shape or element count.
   */
  set(data: TensorData | Float32Array | Int32Array): void {
    const arr = ArrayBuffer.isView(data) ? data : data.data;
    if (!ArrayBuffer.isView(data)) {
      if (data.dtype !== this.value.dtype || !sameShape(data.shape, this.value.shape))
        throw new ArgumentError(
          `parameter ${this.name} is ${this.value.dtype}${fmtShape(this.value.shape)}; got ${data.dtype}${fmtShape(data.shape)}`,
        );
    }
    if (arr.length !== this.value.data.length || arr instanceof Int32Array !== (this.value.dtype === 'int32'))
      throw new ArgumentError(
        `parameter ${this.name} holds ${this.value.data.length} ${this.value.dtype} values; got ${arr.length} ${arr instanceof Int32Array ? 'int32' : 'float32'}`,
      );
    if (arr !== this.value.data) this.value.data.set(arr);
    this.currentVersion++;
  }

  /** Records that `value.data` was edited in place (an optimizer step): bumps the version. */
  touch(): void {
    this.currentVersion++;
  }

  /** Readable description, e.g. `Parameter<head.weight float32[10,64] v3>`. */
  toString(): string {
    return `Parameter<${this.name} ${this.value.dtype}${fmtShape(this.value.shape)} v${this.currentVersion}>`;
  }
}

/** Parameters by name, made from a map of weights (each weight's TensorData becomes its parameter's value). */
export function parametersOf(weights: ReadonlyMap<string, TensorData>): Map<string, Parameter> {
  return new Map([...weights].map(([name, value]) => [name, new Parameter(name, value)]));
}
