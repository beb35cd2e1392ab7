// What an op compiles to: a plan of gpu.js kernel launches over flat float32 values. Plans are built once
// per (op, input types, attributes) and cached by the backend; running one only launches kernels.
import type { CompositeOp, OpAttrs, OpName, PrimitiveOp, TensorType } from '@wf/core';

/** Where a kernel argument comes from: `>= 0` is the op's input of that index, `< 0` step `-ref - 1`. */
export type ArgRef = number;

/** One kernel launch: its source, its number of output cells and its arguments. */
export interface Step {
  /** gpu.js kernel source (see codegen.ts). */
  readonly source: string;
  /** Output cells. */
  readonly size: number;
  /**
   * gpu.js output dimensions when not `[size]`: `[x, y]` kernels read `this.thread.y` too (uniform along x,
   * which lets the WebAssembly SIMD path load row operands once per 4 cells). The value is still flat.
   */
  readonly output?: readonly number[];
  /** Arguments, in order. */
  readonly args: readonly ArgRef[];
}

/** How an op runs. */
export type Plan =
  /** Kernel launches; the last one's output is the result, the others are freed. */
  | { readonly kind: 'steps'; readonly steps: readonly Step[] }
  /** The result is input `input`'s value itself (reshape, identity casts): no copy. */
  | { readonly kind: 'alias'; readonly input: number }
  /** The output has no elements. */
  | { readonly kind: 'empty' };

/** What a plan builder sees of an application of op `K` (its attributes typed from the op table). */
export interface OpSpec<K extends OpName = OpName> {
  readonly op: K;
  readonly inputTypes: readonly TensorType[];
  readonly type: TensorType;
  readonly attrs: OpAttrs<K>;
  /**
   * Whether products may launch 2-D (webasm, cpu, webgpu). GL modes keep every launch 1-D: their kernels
   * bake argument texture sizes into the shader (dynamic sizes would cost an integer division per fetch),
   * so every value of a given length must have the same texture layout.
   */
  readonly twoD?: boolean;
}

/**
 * Builds the plan of one application of op `K`. A builder for a family of ops (or for any op, the default)
 * serves each op of the family: it reads only what the family's ops have in common.
 */
export type PlanBuilder<K extends OpName = OpName> = (spec: OpSpec<K>) => Plan;

/** Plan builders for any subset of the ops, each typed by its own key: a piece of the backend's table. */
export type PartialPlanBuilders = { readonly [K in OpName]?: PlanBuilder<K> };

/**
 * The backend's plan builders: every primitive of the op table is required (the backend fails to compile
 * without one), composites are optional fused kernels.
 */
export type PlanBuilders = { readonly [K in PrimitiveOp]: PlanBuilder<K> } & {
  readonly [K in CompositeOp]?: PlanBuilder<K>;
};

/**
 * Checks a piece of the plan-builder table and keeps its exact keys (so the pieces spread into
 * `PlanBuilders` prove every primitive is there); each entry's `spec.attrs` is typed from its key, and a
 * key that is not an op is an error.
 */
export function definePlans<const R extends PartialPlanBuilders>(
  table: R & { readonly [X in Exclude<keyof R, OpName>]: never },
): NoInfer<R> {
  return table;
}

/** A reference to the output of step `i` of the plan being built. */
export const stepRef = (i: number): ArgRef => -i - 1;

/** A plan of kernel launches. */
export const steps = (...s: Step[]): Plan => ({ kind: 'steps', steps: s });
