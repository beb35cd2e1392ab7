// Graph rewrites that expose fusion opportunities to backends: a GELU that is the only consumer of the
// output of an op that absorbs activations (`absorbsActivation` in the op table: linear, DynLinear) folds
// into that op's `activation` attribute, so a backend with a fused linear kernel applies it in the
// matmul's epilogue instead of another pass over memory. The rewritten graph computes the same values
// (the composites' lowerings apply the activation).
import { type Activation, absorbsActivation, type OpAttrs } from '../ir/ops.js';
import type { Graph } from './graph.js';
import { rewriteGraph } from './rewrite.js';

/**
 * Folds `gelu(p(...))` (single use, not a graph output) into `p(..., { activation })` for every op `p`
 * that absorbs activations (`linear`, `dyn_linear`).
 */
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
    if (!absorbsActivation(p.op) || attrs.activation || uses[p.id] !== 1) continue;
    foldInto.set(p.id, (n.attrs as OpAttrs<'gelu'>).approximate === 'tanh' ? 'gelu_tanh' : 'gelu');
    foldedGelu.set(n.id, p.id);
  }
  if (!foldInto.size) return graph;
  return rewriteGraph(graph, {
    op: (n, ins) => {
      if (foldedGelu.has(n.id)) return ins[0];
      const activation = foldInto.get(n.id);
      if (!activation) return undefined;
      return ins[0].ctx.emit(n.op, ins, { ...(n.attrs as object), activation } as never);
    },
  });
}
