// Graph passes run before planning: lowering composites to primitives (unless the backend fuses them)
// and dead-code elimination.
import { BackendError } from '../errors.js';
import { inferType, isComposite, OPS, type OpAttrs, type OpName } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { sameShape } from '../ir/types.js';
import { type Graph, GraphBuilder } from './graph.js';

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
  const b = new LoweringBuilder(keep);
  const map: Tensor[] = [];
  for (const n of graph.nodes) {
    if (n.op === 'input') map[n.id] = b.input(n.name!, n.type.shape, n.type.dtype);
    else if (n.op === 'const') map[n.id] = b.constant(n.data!, n.name);
    else
      map[n.id] = b.emit(
        n.op,
        n.inputs.map((i) => map[i]),
        n.attrs as never,
      );
  }
  const outs: Record<string, Tensor> = {};
  for (const [name, id] of graph.outputs) outs[name] = map[id];
  return eliminateDeadCode(b.build(outs));
}

/** Drops nodes that no output depends on (graph inputs are always kept) and renumbers. */
export function eliminateDeadCode(graph: Graph): Graph {
  const live = new Uint8Array(graph.nodes.length);
  const stack = [...graph.outputs.values()];
  while (stack.length) {
    const id = stack.pop()!;
    if (live[id]) continue;
    live[id] = 1;
    stack.push(...graph.nodes[id].inputs);
  }
  for (const id of graph.inputs.values()) live[id] = 1;
  const newId = new Int32Array(graph.nodes.length).fill(-1);
  const nodes = graph.nodes
    .filter((n) => live[n.id])
    .map((n, i) => {
      newId[n.id] = i;
      return { ...n, id: i, inputs: n.inputs.map((j) => newId[j]) };
    });
  const remap = (m: ReadonlyMap<string, number>) => new Map([...m].map(([k, v]) => [k, newId[v]]));
  return { nodes, inputs: remap(graph.inputs), outputs: remap(graph.outputs) };
}
