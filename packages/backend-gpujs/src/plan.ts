// What an op compiles to: a plan of gpu.js kernel launches over flat float32 values. Plans are built once
// per (op, input types, attributes) and cached by the backend; running one only launches kernels.
import type { OpName, TensorType } from '@wf/core';

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

/** What a plan builder sees of an op application. */
export interface OpSpec<A = unknown> {
  readonly op: OpName;
  readonly inputTypes: readonly TensorType[];
  readonly type: TensorType;
  readonly attrs: A;
  /**
   * Whether products may launch 2-D (webasm, cpu, webgpu). GL modes keep every launch 1-D: their kernels
   * bake argument texture sizes into the shader (dynamic sizes would cost an integer division per fetch),
   * so every value of a given length must have the same texture layout.
   */
  readonly twoD?: boolean;
}

/** Builds the plan of one op application. */
export type PlanBuilder<A = unknown> = (spec: OpSpec<A>) => Plan;

/** A reference to the output of step `i` of the plan being built. */
export const stepRef = (i: number): ArgRef => -i - 1;

/** A plan of kernel launches. */
export const steps = (...s: Step[]): Plan => ({ kind: 'steps', steps: s });
