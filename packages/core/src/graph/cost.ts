// The cost model: analytic FLOPs and bytes moved per node and per graph. Primitives count their own
// FLOPs (OpDef.flops) and dense bytes read plus written (views move nothing); a composite costs what its
// lowering to primitives costs, so fused kernels and lowerings are measured on one scale (a composite with
// its own `flops`, one fused pass such as relu or softmax, costs one node like a primitive).
import { type NodeCost, OPS, type OpAttrs, type OpName } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { bytesOf, type TensorType } from '../ir/types.js';
import type { Graph } from './graph.js';
import { LoweringBuilder } from './lower.js';

/** Cost of one node of a graph. */
export interface NodeCostEntry extends NodeCost {
  /** The node's id in its graph. */
  readonly id: number;
  /** The node's op. */
  readonly op: OpName;
}

/** Cost of a whole graph, with the per-node breakdown. */
export interface GraphCost extends NodeCost {
  /** The cost of every node, in graph order. */
  readonly nodes: readonly NodeCostEntry[];
}

function primitiveCost<K extends OpName>(
  op: K,
  inputs: readonly TensorType[],
  out: TensorType,
  attrs: OpAttrs<K>,
): NodeCost {
  const def = OPS[op];
  const flops = def.flops ? def.flops(inputs, out, attrs) : 0;
  const bytes = def.kind === 'view' ? 0 : inputs.reduce((a, t) => a + bytesOf(t), bytesOf(out));
  return { flops, bytes };
}

/** FLOPs and bytes of applying `op` to inputs of the given types (composites: their full lowering). */
export function opCost<K extends OpName>(op: K, inputs: readonly TensorType[], attrs: OpAttrs<K>): NodeCost {
  const def = OPS[op];
  // a composite with its own FLOPs (one fused pass: relu, softmax, ...) costs one node like a primitive
  if (def.kind !== 'composite' || def.flops)
    return primitiveCost(op, inputs, def.infer(inputs, attrs), attrs);
  const b = new LoweringBuilder(() => false);
  const ins: Tensor[] = inputs.map((t, i) => b.input(`in${i}`, t.shape, t.dtype));
  b.emit(op, ins, attrs);
  let flops = 0;
  let bytes = 0;
  for (const n of b.nodes) {
    if (n.op === 'input' || n.op === 'const') continue;
    const c = primitiveCost(
      n.op,
      n.inputs.map((i) => b.nodes[i].type),
      n.type,
      n.attrs as never,
    );
    flops += c.flops;
    bytes += c.bytes;
  }
  return { flops, bytes };
}

/** Per-node and total cost of a graph (composite nodes cost their lowering). */
export function graphCost(graph: Graph): GraphCost {
  const nodes: NodeCostEntry[] = [];
  let flops = 0;
  let bytes = 0;
  for (const n of graph.nodes) {
    if (n.op === 'input' || n.op === 'const') continue;
    const c = opCost(
      n.op,
      n.inputs.map((i) => graph.nodes[i].type),
      n.attrs as never,
    );
    nodes.push({ id: n.id, op: n.op, ...c });
    flops += c.flops;
    bytes += c.bytes;
  }
  return { nodes, flops, bytes };
}
