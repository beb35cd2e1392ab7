// Graph passes run before planning: lowering composites to primitives (unless the backend fuses them)
// and dead-code elimination.
import type { AnyBackend } from '../backend.js';
import { BackendError } from '../errors.js';
import { inferType, isComposite, OPS, type OpAttrs, type OpName } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { sameShape, type TensorType } from '../ir/types.js';
import { type Graph, GraphBuilder } from './graph.js';
import { eliminateDeadCode, rewriteGraph } from './rewrite.js';

/**
 * Which composite applications stay whole (run by a fused kernel) instead of being lowered: called with
 * the op, its attributes and its input types.
 */
export type KeepComposite = (op: OpName, attrs: unknown, inputTypes: readonly TensorType[]) => boolean;

/**
 * The composites `backend` runs fused: those it registers a kernel for, where its optional `fuses` hook
 * accepts the application. With `fuse` false, none (every composite lowers).
 */
export function fusedKernelFilter(backend: AnyBackend, fuse = true): KeepComposite {
  return (op, attrs, inputTypes) =>
    fuse && !!backend.kernels[op] && (backend.fuses?.(op, attrs as never, inputTypes) ?? true);
}

/**
 * Expands composite ops into their lowerings as they are emitted, except those `keep` accepts
 * (fused kernels). Used by the compiler, the eager session and the cost model.
 */
export function emitLowered<K extends OpName>(
  op: K,
  inputs: readonly Tensor[],
  attrs: OpAttrs<K>,
  keep: KeepComposite,
  emitPrimitive: () => Tensor,
): Tensor {
  if (
    !isComposite(op) ||
    keep(
      op,
      attrs,
      inputs.map((t) => t.type),
    )
  )
    return emitPrimitive();
  const type = inferType(
    op,
    inputs.map((t) => t.type),
    attrs,
  );
  const out = OPS[op].lower!(inputs, attrs as never);
  if (!sameShape(out.shape, type.shape) || out.dtype !== type.dtype) {
    throw new BackendError(
      `lowering of ${op} produced ${out} but its shape rule says ${type.dtype}[${type.shape}]`,
    );
  }
  return out;
}

/** A GraphBuilder that lowers composites not accepted by `keep`. */
export class LoweringBuilder extends GraphBuilder {
  private readonly keep: KeepComposite;
  constructor(keep: KeepComposite) {
    super();
    this.keep = keep;
  }
  override emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    return emitLowered(op, inputs, attrs, this.keep, () => super.emit(op, inputs, attrs));
  }
}

/** Rewrites `graph` with every composite not accepted by `keep` replaced by primitives, then drops dead nodes. */
export function lowerGraph(graph: Graph, keep: KeepComposite = () => false): Graph {
  return rewriteGraph(graph, {}, new LoweringBuilder(keep));
}

export { eliminateDeadCode };
