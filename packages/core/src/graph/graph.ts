// The graph IR and the tracer: `trace(fn)` runs model code once on symbolic tensors and records every op
// (with its statically inferred type) as a node, producing a Graph that can be compiled for any backend.
import { ArgumentError, fmtShape, GraphError, ShapeError } from '../errors.js';
import { inferType, type OpAttrs, type OpName } from '../ir/ops.js';
import type { Parameter } from '../ir/parameter.js';
import { type Context, Tensor } from '../ir/tensor.js';
import { type DType, type Shape, sizeOf, type TensorData, type TensorType } from '../ir/types.js';

/**
 * A node: a graph input, a constant, or one op application. Nodes are in topological order. A constant
 * with `param` is a parameter: `data` is the parameter's value (its elements change when the parameter is
 * updated) and compiled graphs read the backend's copy of it, refreshed by the parameter's version.
 */
export interface GraphNode {
  /** Index of the node in `graph.nodes`. */
  readonly id: number;
  /** `input`, `const`, or an op of the table. */
  readonly op: OpName | 'input' | 'const';
  /** Ids of the input nodes. */
  readonly inputs: readonly number[];
  /** Op attributes (empty for inputs and constants). */
  readonly attrs: unknown;
  /** Static output type. */
  readonly type: TensorType;
  /** Input name, or a constant's label. */
  readonly name?: string;
  /** A constant's value (for a parameter, `param.value`). */
  readonly data?: TensorData;
  /** The parameter a constant refers to (absent for plain constants). */
  readonly param?: Parameter;
}

/** A traced computation with named inputs and outputs. */
export interface Graph {
  /** All nodes in topological order. */
  readonly nodes: readonly GraphNode[];
  /** Named graph inputs -> node id. */
  readonly inputs: ReadonlyMap<string, number>;
  /** Named graph outputs -> node id. */
  readonly outputs: ReadonlyMap<string, number>;
}

/** Records ops as graph nodes. Model code receives one as `g` in `trace(g => ...)`. */
export class GraphBuilder implements Context {
  /** Nodes recorded so far. */
  readonly nodes: GraphNode[] = [];
  /** Inputs declared so far. */
  readonly inputs = new Map<string, number>();
  /** Parameter nodes recorded so far, one per parameter. */
  private readonly params = new Map<Parameter, Tensor>();

  /** Declares a named graph input of a fixed shape. */
  input(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    if (this.inputs.has(name)) throw new ArgumentError(`trace: input "${name}" declared twice`);
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new ArgumentError(`trace: input "${name}" has invalid shape ${fmtShape(shape)}`);
    }
    const t = this.push({ op: 'input', inputs: [], attrs: {}, type: { shape: [...shape], dtype }, name });
    this.inputs.set(name, t.id);
    return t;
  }

  /** Embeds a constant (weights, scalars). */
  constant(data: TensorData, name?: string): Tensor {
    if (data.data.length !== sizeOf(data.shape)) {
      throw new ArgumentError(
        `constant ${name ?? ''}: ${data.data.length} values for shape ${fmtShape(data.shape)}`,
      );
    }
    return this.push({
      op: 'const',
      inputs: [],
      attrs: {},
      type: { shape: [...data.shape], dtype: data.dtype },
      name,
      data,
    });
  }

  /**
   * Refers to a parameter (a weight that may be updated): the graph reads its current value at every run
   * of a compiled graph, from one copy per backend. Recorded once per parameter; later calls return the
   * same tensor.
   */
  parameter(p: Parameter): Tensor {
    const known = this.params.get(p);
    if (known) return known;
    const t = this.push({
      op: 'const',
      inputs: [],
      attrs: {},
      type: { shape: [...p.value.shape], dtype: p.value.dtype },
      name: p.name,
      data: p.value,
      param: p,
    });
    this.params.set(p, t);
    return t;
  }

  /** Records one op after checking its inputs and inferring its type. */
  emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    for (const t of inputs) {
      if (!(t instanceof Tensor)) throw new ShapeError(op, `input is not a Tensor (${String(t)})`);
      if (t.ctx !== this) throw new ShapeError(op, `input ${t} belongs to another graph or session`);
    }
    const type = inferType(
      op,
      inputs.map((t) => t.type),
      attrs,
    );
    return this.push({ op, inputs: inputs.map((t) => t.id), attrs, type });
  }

  /** Appends a node and returns its tensor. */
  protected push(node: Omit<GraphNode, 'id'>): Tensor {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id });
    return new Tensor(this, id, node.type);
  }

  /** Finishes the graph with the given outputs. */
  build(outputs: Tensor | Record<string, Tensor>): Graph {
    const named = outputs instanceof Tensor ? { output: outputs } : outputs;
    const out = new Map<string, number>();
    for (const [name, t] of Object.entries(named)) {
      if (!(t instanceof Tensor) || t.ctx !== this)
        throw new GraphError(`trace: output "${name}" is not a tensor of this graph`);
      out.set(name, t.id);
    }
    if (out.size === 0) throw new GraphError('trace: the function returned no outputs');
    return { nodes: [...this.nodes], inputs: new Map(this.inputs), outputs: out };
  }
}

/**
 * Traces `fn` once into a graph with static shapes. `fn` declares inputs with `g.input(...)`, refers to
 * weights with `g.parameter(...)` (or embeds fixed values with `g.constant(...)`), and returns one tensor (output `output`) or a record of named outputs.
 */
export function trace(fn: (g: GraphBuilder) => Tensor | Record<string, Tensor>): Graph {
  const g = new GraphBuilder();
  return g.build(fn(g));
}

/** Human-readable listing of a graph, one node per line (for debugging and docs). */
export function formatGraph(graph: Graph): string {
  return graph.nodes
    .map((n) => {
      const lhs = `%${n.id}: ${n.type.dtype}${fmtShape(n.type.shape)}`;
      if (n.op === 'input') return `${lhs} = input "${n.name}"`;
      if (n.op === 'const') return `${lhs} = ${n.param ? 'param' : 'const'}${n.name ? ` "${n.name}"` : ''}`;
      const attrs = JSON.stringify(n.attrs);
      return `${lhs} = ${n.op}(${n.inputs.map((i) => `%${i}`).join(', ')})${attrs === '{}' ? '' : ` ${attrs}`}`;
    })
    .concat([...graph.outputs].map(([name, id]) => `output "${name}" = %${id}`))
    .join('\n');
}
