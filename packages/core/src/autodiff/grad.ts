// Reverse-mode automatic differentiation on graphs. `vjpGraph(graph, wrt)` lowers the graph to primitives
// (composites differentiate through their lowering), replays the forward pass into a new graph, then walks
// the nodes backwards once, applying each primitive's rule from VJP_RULES and summing cotangents where a
// value has several readers. The result is an ordinary Graph: it compiles once and runs many times on any
// backend (`compile`), evaluates in float64 (`evaluateF64`), and runs eagerly (`runGraph` into an
// EagerSession). `vjp`, `grad` and `valueAndGrad` are the same pass over traced functions.
//
// What can be differentiated: graph inputs (by name) and named constants and parameters (the models'
// weights, by their checkpoint names), all float32. Parameters stay parameters in the gradient graph, so
// updated weights are seen without recompiling; `parameterize` turns named constants into graph inputs.
import { ArgumentError, fmtShape, GraphError } from '../errors.js';
import { type Graph, GraphBuilder, type GraphNode, trace } from '../graph/graph.js';
import { lowerGraph } from '../graph/lower.js';
import { eliminateDeadCode, replayGraph, rewriteGraph } from '../graph/rewrite.js';
import type { PrimitiveOp } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { sameShape, sizeOf, type TensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { COMPOSITE_VJP_RULES, VJP_RULES, type VjpArgs, type VjpRule, type VjpSaves } from './vjp-rules.js';

/** Options of `vjpGraph`. */
export interface VjpGraphOptions {
  /**
   * How each output's cotangent enters: `input` (default) adds a graph input per differentiated output
   * (see {@link cotangentName}); `ones` seeds every output with ones (the gradient of `sum(output)`).
   */
  seed?: 'input' | 'ones';
  /** Keep the forward outputs as outputs of the gradient graph (default true). */
  keepOutputs?: boolean;
}

/** Name of the gradient output for `wrt` name `name`: `grad.<name>`. */
export const gradName = (name: string): string => `grad.${name}`;

/**
 * Name of the cotangent input of output `output` in a gradient graph: `cotangent` when the graph has one
 * output, `cotangent.<output>` otherwise.
 */
export function cotangentName(graph: Graph, output: string): string {
  return graph.outputs.size === 1 ? 'cotangent' : `cotangent.${output}`;
}

/** Graph inputs and named constants that can be differentiated (float32), by name. */
export function differentiableNames(graph: Graph): { inputs: string[]; constants: string[] } {
  const inputs = [...graph.inputs]
    .filter(([, id]) => graph.nodes[id].type.dtype === 'float32')
    .map(([n]) => n);
  const constants = new Set<string>();
  for (const n of graph.nodes)
    if (n.op === 'const' && n.name && n.type.dtype === 'float32') constants.add(n.name);
  return { inputs, constants: [...constants] };
}

function savedInputs(xs: readonly Tensor[], saves: VjpSaves, op: string): Tensor[] {
  if (saves.inputs === 'all') return [...xs];
  const keep = saves.inputs;
  const arr: Tensor[] = [];
  xs.forEach((t, i) => {
    if (keep.includes(i)) arr[i] = t;
    else
      Object.defineProperty(arr, i, {
        enumerable: true,
        get() {
          throw new GraphError(`gradient rule of ${op} reads input ${i}, which its saves.inputs omits`);
        },
      });
  });
  return arr;
}

/**
 * The gradient graph of `graph` with respect to `wrt` (graph input names and/or named constants). Inputs:
 * the forward inputs plus one cotangent per output (`cotangent`, or `cotangent.<output>` when there are
 * several). Outputs: the forward outputs (unless `keepOutputs: false`) and `grad.<name>` for each `wrt`
 * name: the vector-Jacobian product `sum over outputs of (cotangent · ∂output/∂name)`, of the shape of
 * `name`.
 * @throws {ArgumentError} for an unknown or non-float name.
 */
export function vjpGraph(graph: Graph, wrt: readonly string[], options: VjpGraphOptions = {}): Graph {
  if (wrt.length === 0) throw new ArgumentError('vjp: name at least one input or parameter to differentiate');
  // Composites with their own rule stay whole, the others lower; then a fused activation is split off the
  // linear and affine nodes (those of the graph and those lowerings made, e.g. DynLinear's affine).
  const lowered = rewriteGraph(
    lowerGraph(graph, (op) => op in COMPOSITE_VJP_RULES),
    {
      op: (n, ins) => {
        const act = (n.attrs as { activation?: string }).activation;
        if ((n.op !== 'linear' && n.op !== 'affine') || !act) return undefined;
        const y = n.op === 'linear' ? F.linear(ins[0], ins[1], ins[2]) : F.affine(ins[0], ins[1], ins[2]);
        return F.gelu(y, act === 'gelu_tanh' ? 'tanh' : 'none');
      },
    },
  );
  const nodes = lowered.nodes;
  const wrtIds = new Map<string, number[]>();
  for (const name of new Set(wrt)) {
    const ids: number[] = [];
    const inp = lowered.inputs.get(name);
    if (inp !== undefined) ids.push(inp);
    else for (const n of nodes) if (n.op === 'const' && n.name === name) ids.push(n.id);
    if (!ids.length && graph.inputs.has(name)) ids.push(-1); // an input nothing depends on
    if (!ids.length && !graph.nodes.some((n) => n.op === 'const' && n.name === name)) {
      const { inputs, constants } = differentiableNames(graph);
      const known = [...inputs, ...constants];
      throw new ArgumentError(
        `vjp: "${name}" is neither a graph input nor a named constant (have ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`,
      );
    }
    for (const id of ids) {
      if (id >= 0 && nodes[id].type.dtype !== 'float32')
        throw new ArgumentError(
          `vjp: "${name}" is ${nodes[id].type.dtype}; only float32 values have gradients`,
        );
    }
    wrtIds.set(
      name,
      ids.filter((i) => i >= 0),
    );
  }
  const needs = new Uint8Array(nodes.length);
  for (const ids of wrtIds.values()) for (const id of ids) needs[id] = 1;
  for (const n of nodes) {
    if (n.op === 'input' || n.op === 'const' || n.type.dtype !== 'float32') continue;
    if (n.inputs.some((i) => needs[i])) needs[n.id] = 1;
  }

  const b = new GraphBuilder();
  const fwd = replayGraph(lowered, b);
  const ct: (Tensor | undefined)[] = new Array(nodes.length);
  const accumulate = (id: number, t: Tensor, from: string) => {
    const want = nodes[id].type.shape;
    if (!sameShape(t.shape, want)) {
      throw new GraphError(
        `vjp: ${from} gave a cotangent ${fmtShape(t.shape)} for %${id} ${fmtShape(want)} (a gradient rule is wrong)`,
      );
    }
    const prev = ct[id];
    ct[id] = prev ? F.add(prev, t) : t;
  };
  const seed = options.seed ?? 'input';
  for (const [name, id] of lowered.outputs) {
    const node = nodes[id];
    if (node.type.dtype !== 'float32') continue;
    const cot =
      seed === 'ones'
        ? b.constant({
            dtype: 'float32',
            shape: [...node.type.shape],
            data: new Float32Array(sizeOf(node.type.shape)).fill(1),
          })
        : b.input(cotangentName(graph, name), node.type.shape);
    if (needs[id]) accumulate(id, cot, `output "${name}"`);
  }
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i] as GraphNode & { op: PrimitiveOp | 'input' | 'const' };
    const g = ct[i];
    if (n.op === 'input' || n.op === 'const' || !g || !needs[i]) continue;
    const rule = (VJP_RULES[n.op] ?? (COMPOSITE_VJP_RULES as Record<string, unknown>)[n.op]) as
      | VjpRule<PrimitiveOp>
      | undefined;
    if (!rule) throw new GraphError(`vjp: no gradient rule for ${n.op} (node %${i})`);
    const op = n.op;
    const y = fwd[i];
    const args: VjpArgs<PrimitiveOp> = {
      g,
      x: savedInputs(
        n.inputs.map((j) => fwd[j]),
        rule.saves,
        op,
      ),
      get y(): Tensor {
        if (!rule.saves.output)
          throw new GraphError(`gradient rule of ${op} reads its output without saving it`);
        return y;
      },
      attrs: n.attrs as never,
      types: n.inputs.map((j) => nodes[j].type),
      out: n.type,
      needs: n.inputs.map((j) => !!needs[j]),
    };
    const res = rule.vjp(args);
    n.inputs.forEach((j, k) => {
      const r = res[k];
      if (needs[j] && r) accumulate(j, r, `the ${op} rule (node %${i}, input ${k})`);
    });
  }

  const outs: Record<string, Tensor> = {};
  if (options.keepOutputs ?? true) for (const [name, id] of lowered.outputs) outs[name] = fwd[id];
  for (const [name, ids] of wrtIds) {
    let total: Tensor | undefined;
    for (const id of ids) {
      const c = ct[id];
      if (c) total = total ? F.add(total, c) : c;
    }
    if (!total) {
      const type = ids.length
        ? nodes[ids[0]].type
        : graph.nodes[graph.inputs.get(name) ?? graph.nodes.findIndex((n) => n.name === name)].type;
      total = b.constant({
        dtype: 'float32',
        shape: [...type.shape],
        data: new Float32Array(sizeOf(type.shape)),
      });
    }
    outs[gradName(name)] = total;
  }
  return eliminateDeadCode(b.build(outs));
}

/** A function that declares inputs on `g` and returns one output or named outputs (as for `trace`). */
export type TracedFn = (g: GraphBuilder) => Tensor | Record<string, Tensor>;

/**
 * The vector-Jacobian product of a traced function as a graph: inputs are the function's inputs plus the
 * cotangent(s), outputs are the function's outputs plus `grad.<name>` per `wrt` name (see `vjpGraph`).
 */
export function vjp(fn: TracedFn, wrt: readonly string[]): Graph {
  return vjpGraph(trace(fn), wrt);
}

function scalarGraph(fn: (g: GraphBuilder) => Tensor, what: string): Graph {
  const graph = trace((g) => {
    const out = fn(g);
    if (out.size !== 1)
      throw new ArgumentError(`${what}: the function must return one value, got ${fmtShape(out.shape)}`);
    return { value: out };
  });
  return graph;
}

/**
 * The gradient of a scalar-valued traced function as a graph with outputs `grad.<name>` per `wrt` name
 * (its inputs are the function's inputs).
 */
export function grad(fn: (g: GraphBuilder) => Tensor, wrt: readonly string[]): Graph {
  return vjpGraph(scalarGraph(fn, 'grad'), wrt, { seed: 'ones', keepOutputs: false });
}

/** Like `grad`, plus the function's value as output `value`. */
export function valueAndGrad(fn: (g: GraphBuilder) => Tensor, wrt: readonly string[]): Graph {
  return vjpGraph(scalarGraph(fn, 'valueAndGrad'), wrt, { seed: 'ones' });
}

/**
 * Turns named constants of `graph` into graph inputs of the same name (all named float32 constants when
 * `names` is omitted), so one compiled graph runs with any values of them (training steps, other weights).
 * Returns the new graph and the constants' current values, ready to pass as inputs.
 * @throws {ArgumentError} for a name that is not a constant, or that clashes with an input.
 */
export function parameterize(
  graph: Graph,
  names?: readonly string[],
): { graph: Graph; values: Map<string, TensorData> } {
  const wanted = new Set(names ?? differentiableNames(graph).constants);
  const values = new Map<string, TensorData>();
  for (const n of graph.nodes)
    if (n.op === 'const' && n.name && wanted.has(n.name)) values.set(n.name, n.data!);
  const missing = [...wanted].filter((n) => !values.has(n));
  if (missing.length) throw new ArgumentError(`parameterize: no constant named ${missing.join(', ')}`);
  const clash = [...wanted].filter((n) => graph.inputs.has(n));
  if (clash.length) throw new ArgumentError(`parameterize: ${clash.join(', ')} already name graph inputs`);
  const b = new GraphBuilder();
  const made = new Map<string, Tensor>();
  const out = rewriteGraph(
    graph,
    {
      constant: (n) => {
        if (!n.name || !wanted.has(n.name))
          return n.param ? b.parameter(n.param) : b.constant(n.data!, n.name);
        let t = made.get(n.name);
        if (!t) {
          t = b.input(n.name, n.type.shape, n.type.dtype);
          made.set(n.name, t);
        }
        return t;
      },
    },
    b,
  );
  return { graph: out, values };
}
