// Graph rewrites that expose fusion opportunities to backends: a GELU that is the only consumer of a
// linear (or DynLinear) output folds into that op's `activation` attribute, so a backend with a fused
// linear kernel applies it in the matmul's epilogue instead of another pass over memory. The rewritten
// graph computes the same values (the composites' lowerings apply the activation).
import type { Activation, OpAttrs, OpName } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { type Graph, GraphBuilder } from './graph.js';
import { eliminateDeadCode } from './lower.js';

const FUSABLE = new Set<OpName | 'input' | 'const'>(['linear', 'dyn_linear']);

/** Folds `gelu(linear(...))` (single use, not a graph output) into `linear(..., { activation })`. */
export function fuseActivations(graph: Graph): Graph {
  const uses = new Int32Array(graph.nodes.length);
  for (const n of graph.nodes) for (const i of n.inputs) uses[i]++;
  for (const id of graph.outputs.values()) uses[id] += 1;
  const foldInto = new Map<number, Activation>(); // producer id -> activation
  const foldedGelu = new Map<number, number>(); // gelu id -> producer id
  for (const n of graph.nodes) {
    if (n.op !== 'gelu') continue;
    const p = graph.nodes[n.inputs[0]];
    const attrs = p.attrs as { activation?: Activation };
    if (!FUSABLE.has(p.op) || attrs.activation || uses[p.id] !== 1) continue;
    foldInto.set(p.id, (n.attrs as OpAttrs<'gelu'>).approximate === 'tanh' ? 'gelu_tanh' : 'gelu');
    foldedGelu.set(n.id, p.id);
  }
  if (!foldInto.size) return graph;
  const b = new GraphBuilder();
  const map: Tensor[] = [];
  for (const n of graph.nodes) {
    if (n.op === 'input') map[n.id] = b.input(n.name!, n.type.shape, n.type.dtype);
    else if (n.op === 'const') map[n.id] = b.constant(n.data!, n.name);
    else if (foldedGelu.has(n.id)) map[n.id] = map[foldedGelu.get(n.id)!];
    else {
      const activation = foldInto.get(n.id);
      const attrs = activation ? { ...(n.attrs as object), activation } : n.attrs;
      map[n.id] = b.emit(
        n.op,
        n.inputs.map((i) => map[i]),
        attrs as never,
      );
    }
  }
  const outs: Record<string, Tensor> = {};
  for (const [name, id] of graph.outputs) outs[name] = map[id];
  return eliminateDeadCode(b.build(outs));
}
