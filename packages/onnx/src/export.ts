// `exportOnnx`: a traced IR graph to an ONNX model. Composites are lowered first as their export rules
// say (rules.ts); then every node is written by its op's rule, weights become initializers (inline, or in
// an external data file), and graph inputs and outputs keep the IR's names.
//
// Dynamic batch: given a function that traces the graph at a batch size, the exporter traces it at two
// sizes (2 and 3) and compares the two graphs node by node. An axis whose size differs follows the batch;
// it is written as the symbolic dimension `batch` on inputs and outputs, and shapes inside the graph
// (Reshape, Expand) use -1 or the batch size read at run time, so one file serves every batch size.
import {
  type Graph,
  GraphBuilder,
  inferType,
  OPS,
  type OpAttrs,
  type OpName,
  rewriteGraph,
  sameShape,
  type Tensor,
  type TensorType,
} from '@wf/core';
import { OnnxGraphBuilder, type OnnxInitializer } from './onnx-builder.js';
import { encodeModel, ONNX_DTYPE } from './onnx-proto.js';
import { EXPORT_RULES, type ExportRule, OnnxExportError, type OnnxRule, type RuleContext } from './rules.js';

/** Opsets the exporter writes (default {@link DEFAULT_OPSET}). */
export const SUPPORTED_OPSETS = [13, 14, 15, 16, 17, 18, 19, 20, 21] as const;
/** The default opset. */
export const DEFAULT_OPSET = 18;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Opset of the default ONNX domain, 13 to 21 (default 18). */
  opset?: number;
  /** Name of the symbolic batch dimension (default `batch`). */
  batchName?: string;
  /**
   * Writes weights of at least `externalThreshold` bytes to a separate file of this name (relative to
   * the model file), as ONNX external data; the bytes come back in `externalData`. Needed above 2 GB.
   */
  externalData?: string;
  /** Smallest tensor, in bytes, that goes to the external data file (default 1024). */
  externalThreshold?: number;
  /** The ONNX graph's name (default `weightformer`). */
  graphName?: string;
  /** Free-form model description (ModelProto.doc_string). */
  docString?: string;
  /** Key-value metadata stored in the model (ModelProto.metadata_props). */
  metadata?: Readonly<Record<string, string>>;
}

/** One graph input or output of an export: name, element type and dims (the batch as its symbol). */
export interface OnnxValueInfo {
  /** The tensor name, as `wf run` names it (`input`, `logits`, `x`, ...). */
  readonly name: string;
  /** Element type. */
  readonly dtype: 'float32' | 'int32';
  /** Dims; the symbolic batch dimension is a string. */
  readonly shape: readonly (number | string)[];
}

/** An exported model. */
export interface OnnxExport {
  /** The `.onnx` file's bytes. */
  readonly model: Uint8Array;
  /** The external data file, when `externalData` was given. */
  readonly externalData?: { readonly location: string; readonly bytes: Uint8Array };
  /** Graph inputs. */
  readonly inputs: readonly OnnxValueInfo[];
  /** Graph outputs. */
  readonly outputs: readonly OnnxValueInfo[];
  /** The opset written. */
  readonly opset: number;
  /** Whether axis 0 of the inputs and outputs is the symbolic batch dimension. */
  readonly dynamicBatch: boolean;
  /** Number of ONNX nodes. */
  readonly nodeCount: number;
}

const BATCH_A = 2;
const BATCH_B = 3;
const MAX_PROTO_BYTES = 2 ** 31 - 1;
const EXTERNAL_ALIGN = 4096;

/** A GraphBuilder that lowers composites as their export rules say (a rule of its own keeps the op). */
class ExportLoweringBuilder extends GraphBuilder {
  constructor(private readonly dynamicBatch: boolean) {
    super();
  }

  override emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    const rule = EXPORT_RULES[op] as ExportRule<K>;
    if (OPS[op].kind !== 'composite' || typeof rule === 'function') return super.emit(op, inputs, attrs);
    const type = inferType(
      op,
      inputs.map((t) => t.type),
      attrs,
    );
    const lowering = rule === 'lower' ? 'lower' : (!this.dynamicBatch && rule.fixedBatch) || rule.lower;
    const out = lowering === 'lower' ? OPS[op].lower!(inputs, attrs) : lowering(inputs, attrs);
    if (!sameShape(out.shape, type.shape) || out.dtype !== type.dtype) {
      throw new OnnxExportError(
        `internal: the export lowering of ${op} gives ${out}, not ${type.dtype}[${type.shape}]`,
      );
    }
    return out;
  }
}

/** Options of {@link lowerForExport}. */
export interface LowerForExportOptions {
  /**
   * Whether the export will have a symbolic batch (default false: the graph's shapes are final). A
   * fixed-batch lowering may use forms that tie shapes to the batch size (a composite's `fixedBatch`).
   */
  dynamicBatch?: boolean;
}

/** Lowers `graph` for export (composites as their export rules say) and drops dead nodes. */
export function lowerForExport(graph: Graph, options: LowerForExportOptions = {}): Graph {
  const b = new ExportLoweringBuilder(options.dynamicBatch ?? false);
  // Parameters are exported as initializers holding their current values.
  return rewriteGraph(graph, { constant: (n) => b.constant(n.data!, n.name) }, b);
}

function checkAligned(a: Graph, b: Graph): void {
  const bad = () =>
    new OnnxExportError(
      'the traced graph changes structure with the batch size, so it cannot have a dynamic batch; export it with a fixed batch',
    );
  if (a.nodes.length !== b.nodes.length) throw bad();
  a.nodes.forEach((n, i) => {
    const m = b.nodes[i];
    if (n.op !== m.op || n.inputs.length !== m.inputs.length || n.inputs.some((x, j) => x !== m.inputs[j]))
      throw bad();
  });
  if ([...a.outputs.keys()].join() !== [...b.outputs.keys()].join()) throw bad();
}

/** Ops whose attributes may name batch-following sizes (their rules handle it). */
const BATCH_ATTRS = new Set<string>(['reshape', 'expand', 'slice']);

function dynAxes(a: TensorType, b: TensorType): boolean[] {
  return a.shape.map((d, i) => d !== b.shape[i]);
}

function valueInfo(
  name: string,
  type: TensorType,
  dyn: readonly boolean[],
  batchName: string,
): OnnxValueInfo {
  return {
    name,
    dtype: type.dtype,
    shape: type.shape.map((d, i) => (dyn[i] ? batchName : d)),
  };
}

function encodeValueInfo(v: OnnxValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

function irVersionFor(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/**
 * Exports an IR graph to ONNX. Pass a graph for fixed shapes, or a function tracing the graph at a batch
 * size for a model whose inputs and outputs have a symbolic batch dimension.
 *
 * @throws {OnnxExportError} for an opset outside 13-21, a graph whose structure depends on the batch size,
 *   or a node ONNX cannot express (named in the message).
 */
export function exportOnnx(
  source: Graph | ((batch: number) => Graph),
  options: ExportOnnxOptions = {},
): OnnxExport {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset)) {
    throw new OnnxExportError(`opset ${opset} is not supported; use one of ${SUPPORTED_OPSETS.join(', ')}`);
  }
  const batchName = options.batchName ?? 'batch';
  const dynamic = typeof source === 'function';
  const ga = lowerForExport(dynamic ? source(BATCH_A) : source, { dynamicBatch: dynamic });
  const gb = dynamic ? lowerForExport(source(BATCH_B), { dynamicBatch: true }) : ga;
  if (dynamic) checkAligned(ga, gb);

  const dyn = ga.nodes.map((n, i) => dynAxes(n.type, gb.nodes[i].type));
  // The batch size at run time is read from the first input whose axis 0 follows it one to one.
  let batchSource: string | undefined;
  for (const [name, id] of ga.inputs) {
    const d = dyn[id];
    if (d.some((v, i) => v && i > 0)) {
      throw new OnnxExportError(`input "${name}" has a batch-dependent axis other than axis 0`);
    }
    if (d[0] && gb.nodes[id].type.shape[0] - ga.nodes[id].type.shape[0] !== BATCH_B - BATCH_A) {
      throw new OnnxExportError(`input "${name}": axis 0 is not the batch size`);
    }
    if (d[0] && !batchSource) batchSource = name;
  }
  if (dynamic && !batchSource) {
    throw new OnnxExportError('no input has the batch size on axis 0; export with a fixed batch instead');
  }

  const b = new OnnxGraphBuilder(batchSource);
  for (const name of ga.inputs.keys()) b.reserve(name);
  for (const name of ga.outputs.keys()) b.reserve(name);
  const values: string[] = new Array(ga.nodes.length);

  for (const n of ga.nodes) {
    const label = `node %${n.id} (${n.op})`;
    if (n.op === 'input') {
      values[n.id] = n.name!;
      continue;
    }
    if (n.op === 'const') {
      if (dyn[n.id].some(Boolean))
        throw new OnnxExportError(`constant ${n.name ?? label} has a batch-dependent shape`);
      const data = n.data!;
      values[n.id] =
        data.dtype === 'float32' && data.data.length <= 16
          ? b.float(Array.from(data.data), data.shape)
          : b.tensor(data, n.name);
      continue;
    }
    const op = n.op;
    const rule = EXPORT_RULES[op] as ExportRule<typeof op>;
    if (typeof rule !== 'function')
      throw new OnnxExportError(`internal: ${op} reached the writer without a rule`);
    const other = gb.nodes[n.id];
    if (!BATCH_ATTRS.has(op) && JSON.stringify(n.attrs) !== JSON.stringify(other.attrs)) {
      throw new OnnxExportError(
        `${label}: its attributes depend on the batch size (${JSON.stringify(n.attrs)}); export with a fixed batch`,
      );
    }
    const typeB = other.type;
    const ctx: RuleContext<typeof op> = {
      b,
      opset,
      attrs: n.attrs as never,
      inputs: n.inputs.map((i) => values[i]),
      inputTypes: n.inputs.map((i) => ga.nodes[i].type),
      type: n.type,
      dynIn: n.inputs.map((i) => dyn[i]),
      dynOut: dyn[n.id],
      constant: (i) => {
        const src = ga.nodes[n.inputs[i]];
        return src?.op === 'const' ? src.data : undefined;
      },
      shape: (opts = {}) => {
        const shape = opts.shape ?? n.type.shape;
        const d = opts.dyn ?? dyn[n.id];
        const count = d.filter(Boolean).length;
        if (count === 0) return b.int64(shape);
        if (opts.minusOne && count === 1) return b.int64(shape.map((s, i) => (d[i] ? -1 : s)));
        const parts: string[] = [];
        shape.forEach((s, i) => {
          if (!d[i]) {
            parts.push(b.int64([s]));
            return;
          }
          const a = typeB.shape[i] - n.type.shape[i];
          const c = n.type.shape[i] - a * BATCH_A;
          let v = b.batch(opset);
          if (a !== 1) v = b.node('Mul', [v, b.int64([a])]);
          if (c !== 0) v = b.node('Add', [v, b.int64([c])]);
          parts.push(v);
        });
        return b.node('Concat', parts, { axis: { i: 0 } });
      },
      fail: (why) => {
        throw new OnnxExportError(`cannot export ${label}: ${why}`);
      },
    };
    values[n.id] = (rule as OnnxRule<typeof op>)(ctx);
  }

  const inputs = [...ga.inputs].map(([name, id]) => valueInfo(name, ga.nodes[id].type, dyn[id], batchName));
  const outputs = [...ga.outputs].map(([name, id]) => {
    b.node('Identity', [values[id]], {}, name);
    return valueInfo(name, ga.nodes[id].type, dyn[id], batchName);
  });
  for (const o of outputs) {
    if (dynamic && o.shape.some((d, i) => typeof d === 'string' && i > 0)) {
      throw new OnnxExportError(`output "${o.name}" has a batch-dependent axis other than axis 0`);
    }
  }
  b.pruneInitializers();

  const { tensors, external } = encodeInitializers([...b.initializers.values()], options);
  const model = encodeModel({
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'weightformer.js',
    producer_version: '0.1.0',
    doc_string: options.docString ?? '',
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.graphName ?? 'weightformer',
      node: b.nodes,
      initializer: tensors,
      input: inputs.map(encodeValueInfo),
      output: outputs.map(encodeValueInfo),
    },
  });
  if (model.byteLength > MAX_PROTO_BYTES) {
    throw new OnnxExportError(
      `the model is ${model.byteLength} bytes, over protobuf's 2 GB limit; export with external data (--external-data)`,
    );
  }
  return {
    model,
    ...(external ? { externalData: external } : {}),
    inputs,
    outputs,
    opset,
    dynamicBatch: dynamic,
    nodeCount: b.nodes.length,
  };
}

function encodeInitializers(
  inits: readonly OnnxInitializer[],
  options: ExportOnnxOptions,
): { tensors: Record<string, unknown>[]; external?: { location: string; bytes: Uint8Array } } {
  const location = options.externalData;
  const threshold = options.externalThreshold ?? 1024;
  if (!location) {
    return {
      tensors: inits.map((t) => ({
        name: t.name,
        dims: [...t.dims],
        data_type: t.dataType,
        raw_data: t.bytes,
      })),
    };
  }
  let size = 0;
  const placed = inits.map((t) => {
    if (t.bytes.byteLength < threshold) return -1;
    const at = Math.ceil(size / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    size = at + t.bytes.byteLength;
    return at;
  });
  const bytes = new Uint8Array(size);
  const tensors = inits.map((t, i) => {
    const at = placed[i];
    if (at < 0) return { name: t.name, dims: [...t.dims], data_type: t.dataType, raw_data: t.bytes };
    bytes.set(t.bytes, at);
    return {
      name: t.name,
      dims: [...t.dims],
      data_type: t.dataType,
      data_location: 1,
      external_data: [
        { key: 'location', value: location },
        { key: 'offset', value: String(at) },
        { key: 'length', value: String(t.bytes.byteLength) },
      ],
    };
  });
  return { tensors, external: { location, bytes } };
}
