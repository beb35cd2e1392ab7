// The one graph walker: `replayGraph` re-emits every node of a graph, in order, into any Context (a new
// GraphBuilder, a lowering builder, an eager session), with inputs, constants and op nodes each handled in
// one place and overridable by hooks. `rewriteGraph` replays into a builder and returns the finished graph
// with the same output names (dead nodes dropped). Lowering, activation fusion and the gradient pass are
// written on it; eager evaluation of a graph (`runGraph`) is a replay into an EagerSession.
import { GraphError } from '../errors.js';
import type { OpAttrs, OpName } from '../ir/ops.js';
import type { Context, Tensor } from '../ir/tensor.js';
import { type Graph, GraphBuilder, type GraphNode } from './graph.js';

/** How `replayGraph` maps each kind of node; every hook is optional and defaults to a copy. */
export interface ReplayHooks {
  /** A graph input (default: `ctx.input` of a GraphBuilder; other contexts must give this hook). */
  input?(node: GraphNode): Tensor;
  /**
   * A constant (default: `ctx.constant(node.data, node.name)`; a parameter's node: `ctx.parameter(param)`
   * where the context has it, else its current value as a constant).
   */
  constant?(node: GraphNode): Tensor;
  /**
   * An op node with its inputs already mapped (default: `ctx.emit(node.op, inputs, node.attrs)`). Return
   * `undefined` to fall back to the default.
   */
  op?(node: GraphNode & { op: OpName }, inputs: readonly Tensor[]): Tensor | undefined;
}

/** Re-emits every node of `graph` into `ctx`; returns the new tensor of each node, indexed by node id. */
export function replayGraph(graph: Graph, ctx: Context, hooks: ReplayHooks = {}): Tensor[] {
  const map: Tensor[] = new Array(graph.nodes.length);
  for (const n of graph.nodes) {
    if (n.op === 'input') {
      if (hooks.input) map[n.id] = hooks.input(n);
      else if (ctx instanceof GraphBuilder) map[n.id] = ctx.input(n.name!, n.type.shape, n.type.dtype);
      else throw new GraphError(`replayGraph: no value for graph input "${n.name}"`);
    } else if (n.op === 'const') {
      map[n.id] = hooks.constant
        ? hooks.constant(n)
        : n.param && ctx.parameter
          ? ctx.parameter(n.param)
          : ctx.constant(n.data!, n.name);
    } else {
      const ins = n.inputs.map((i) => map[i]);
      const node = n as GraphNode & { op: OpName };
      map[n.id] = hooks.op?.(node, ins) ?? ctx.emit(node.op, ins, n.attrs as OpAttrs<typeof node.op>);
    }
  }
  return map;
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

/**
 * Rebuilds `graph` through `builder` (default a plain GraphBuilder) with `hooks`, keeping its output names,
 * and drops dead nodes.
 */
export function rewriteGraph(
  graph: Graph,
  hooks: ReplayHooks = {},
  builder: GraphBuilder = new GraphBuilder(),
): Graph {
  const map = replayGraph(graph, builder, hooks);
  const outs: Record<string, Tensor> = {};
  for (const [name, id] of graph.outputs) outs[name] = map[id];
  return eliminateDeadCode(builder.build(outs));
}

/**
 * Evaluates `graph` in any context (an eager session, or another graph being traced) on the given input
 * tensors; returns its outputs by name. This is how a compiled-style graph (a gradient graph, for
 * instance) also runs eagerly.
 */
export function runGraph(
  ctx: Context,
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
): Record<string, Tensor> {
  const missing = [...graph.inputs.keys()].filter((k) => !inputs[k]);
  if (missing.length) throw new GraphError(`runGraph: missing input(s) ${missing.join(', ')}`);
  const map = replayGraph(graph, ctx, { input: (n) => inputs[n.name!] });
  const out: Record<string, Tensor> = {};
  for (const [name, id] of graph.outputs) out[name] = map[id];
  return out;
}
