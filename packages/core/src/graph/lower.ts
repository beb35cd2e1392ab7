// Graph passes run before planning: lowering composites to primitives (unless the backend fuses them)
// and dead-code elimination.
import { BackendError } from '../errors.js';
import { inferType, isComposite, OPS, type OpAttrs, type OpName } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { sameShape } from '../ir/types.js';
import { type Graph, GraphBuilder } from './graph.js';
import { eliminateDeadCode, rewriteGraph } from './rewrite.js';

/**
 * Expands composite ops into their lowerings as they are emitted, except those `keep` accepts
 * (fused kernels). Used by the compiler, the eager session and the cost model.
 */
export function emitLowered<K extends OpName>(
  op: K,
  inputs: readonly Tensor[],
  attrs: OpAttrs<K>,
  keep: (op: OpName) => boolean,
  emitPrimitive: () => Tensor,
): Tensor {
  if (!isComposite(op) || keep(op)) return emitPrimitive();
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
  private readonly keep: (op: OpName) => boolean;
  constructor(keep: (op: OpName) => boolean) {
    super();
    this.keep = keep;
  }
  override emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    return emitLowered(op, inputs, attrs, this.keep, () => super.emit(op, inputs, attrs));
  }
}

/** Rewrites `graph` with every composite not accepted by `keep` replaced by primitives, then drops dead nodes. */
export function lowerGraph(graph: Graph, keep: (op: OpName) => boolean = () => false): Graph {
  return rewriteGraph(graph, {}, new LoweringBuilder(keep));
}

export { eliminateDeadCode };
